import threading

import psycopg2

from odoo import SUPERUSER_ID, api
from odoo.exceptions import UserError
from odoo.sql_db import db_connect
from odoo.tests import TransactionCase, tagged

REDEEMED, REFUSED = "redeemed", "refused"


@tagged("post_install", "-at_install")
class TestLoyaltyParallelRedemption(TransactionCase):
    """Two tills redeem for the same member at once, each on its own database connection.

    The data is committed (the connections must see it), then erased in cleanup.
    """

    def connect(self):
        cr = db_connect(self.env.cr.dbname).cursor()
        return cr, api.Environment(cr, SUPERUSER_ID, {})

    def setUp(self):
        super().setUp()
        cr, env = self.connect()
        with cr:
            member = env["res.partner"].create({"name": "Parallel Member", "is_registry_member": True})
            env["customer.loyalty.entry"]._adjust(member, 100, "Opening balance")
            cr.commit()
            self.member_id = member.id
        self.addCleanup(self.erase_member)

    def erase_member(self):
        cr, env = self.connect()
        with cr:
            # The ledger is append-only for everyone but a superuser replaying data.
            cr.execute("SET LOCAL session_replication_role = replica")
            cr.execute("DELETE FROM customer_loyalty_entry WHERE member_id = %s", [self.member_id])
            cr.execute("SET LOCAL session_replication_role = DEFAULT")
            env["res.partner"].browse(self.member_id).unlink()
            cr.commit()

    def redeem(self, points, both_read, outcomes, name):
        """What a till's sync does, retried on serialization failures as Odoo's RPC layer does."""
        first_attempt = True
        while True:
            cr, env = self.connect()
            with cr:
                try:
                    member = env["res.partner"].browse(self.member_id)
                    self.assertEqual(member.loyalty_balance, 100 if first_attempt else 100 - points)
                    if first_attempt:
                        both_read.wait(timeout=10)  # both transactions saw 100 points
                    Entry = env["customer.loyalty.entry"]
                    balance, _spend, _tier = Entry._lock_member(member)
                    Entry._post(member, "redeem", -points, balance, company_id=env.company.id)
                    # Hold the lock a moment, as a sync writing the rest of the order would.
                    threading.Event().wait(0.3)
                    cr.commit()
                    outcomes[name] = REDEEMED
                    return
                except psycopg2.errors.SerializationFailure:
                    cr.rollback()
                    first_attempt = False
                except UserError:
                    cr.rollback()
                    outcomes[name] = REFUSED
                    return

    def test_two_tills_cannot_overdraw_a_member(self):
        both_read = threading.Barrier(2)
        outcomes = {}
        tills = [threading.Thread(target=self.redeem, args=(80, both_read, outcomes, name)) for name in "AB"]
        for till in tills:
            till.start()
        for till in tills:
            till.join(timeout=30)
        self.assertEqual(sorted(outcomes.values()), [REDEEMED, REFUSED])
        cr, env = self.connect()
        with cr:
            member = env["res.partner"].browse(self.member_id)
            entries = env["customer.loyalty.entry"].search([("member_id", "=", self.member_id)])
            self.assertEqual(member.loyalty_balance, 20)
            self.assertEqual(sorted(entries.mapped("points")), [-80, 100])
            self.assertEqual(sum(entries.mapped("points")), member.loyalty_balance)
