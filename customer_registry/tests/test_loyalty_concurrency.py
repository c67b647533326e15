# Two real database connections only see each other's committed rows: these tests commit.
# pylint: disable=invalid-commit
import threading

import psycopg2

from odoo import SUPERUSER_ID, api
from odoo.exceptions import UserError
from odoo.sql_db import db_connect
from odoo.tests import TransactionCase, tagged
from odoo.tools import mute_logger

REDEEMED, REFUSED = "redeemed", "refused"


def own_connection(env):
    """A second database connection, as another till or a second worker has."""
    cr = db_connect(env.cr.dbname).cursor()
    return cr, api.Environment(cr, SUPERUSER_ID, {})


def erase_members(env, member_ids):
    """Remove committed test members and their ledger entries."""
    # The ledger is append-only for everyone but a superuser replaying data.
    env.cr.execute("SET LOCAL session_replication_role = replica")
    env.cr.execute("DELETE FROM customer_loyalty_entry WHERE member_id = ANY(%s)", [member_ids])
    env.cr.execute("SET LOCAL session_replication_role = DEFAULT")
    env["res.partner"].browse(member_ids).unlink()


@tagged("post_install", "-at_install")
class TestLoyaltyParallelRedemption(TransactionCase):
    """Two tills redeem for the same member at once, each on its own database connection.

    The data is committed (the connections must see it), then erased in cleanup.
    """

    def connect(self):
        return own_connection(self.env)

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
            erase_members(env, [self.member_id])
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
                except psycopg2.errors.SerializationFailure:  # logged by odoo.sql_db, muted by the caller
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
        with mute_logger("odoo.sql_db"):
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


@tagged("post_install", "-at_install")
class TestLoyaltyExpiryKilledAndRerun(TransactionCase):
    """The expiry job commits per batch: killed halfway, a re-run finishes without duplicates."""

    def connect(self):
        return own_connection(self.env)

    def setUp(self):
        super().setUp()
        cr, env = self.connect()
        with cr:
            company = env.company
            self.program_id = env["customer.loyalty.program"].search([("company_id", "=", company.id)]).id
            self.created_program = not self.program_id
            if self.created_program:
                self.program_id = env["customer.loyalty.program"].create({"company_id": company.id}).id
            program = env["customer.loyalty.program"].browse(self.program_id)
            members = env["res.partner"].create(
                [{"name": f"Expiring Member {index}", "is_registry_member": True} for index in range(3)]
            )
            Entry = env["customer.loyalty.entry"]
            for member in members:
                balance, _spend, _tier = Entry._lock_member(member)
                Entry._post(member, "earn", 40, balance, program=program, date="2020-01-01 10:00:00")
            cr.commit()
            self.member_ids = members.ids
        self.addCleanup(self.erase)

    def erase(self):
        cr, env = self.connect()
        with cr:
            erase_members(env, self.member_ids)
            if self.created_program:
                env["customer.loyalty.program"].browse(self.program_id).unlink()
            cr.commit()

    def expiry_entries(self):
        cr, env = self.connect()
        with cr:
            entries = env["customer.loyalty.entry"].search(
                [("member_id", "in", self.member_ids), ("kind", "=", "expiry")]
            )
            return sorted(entries.mapped("member_id").ids), len(entries)

    def test_killed_expiry_resumes_without_duplicates(self):
        blocker_cr, _blocker_env = self.connect()
        runner_cr, runner_env = self.connect()
        with blocker_cr, runner_cr:
            # A till holds the second member's row: the job dies waiting for it.
            blocker_cr.execute("SELECT id FROM res_partner WHERE id = %s FOR UPDATE", [self.member_ids[1]])
            runner_cr.execute("SET lock_timeout = '300ms'")
            with mute_logger("odoo.sql_db"), self.assertRaises(psycopg2.errors.LockNotAvailable):
                runner_env["customer.loyalty.entry"]._expire_points(batch_size=1)
            runner_cr.rollback()
            blocker_cr.rollback()
            self.assertEqual(self.expiry_entries(), ([self.member_ids[0]], 1), "the first batch was committed")
            runner_env.invalidate_all()
            runner_env["customer.loyalty.entry"]._expire_points(batch_size=1)
            runner_env["customer.loyalty.entry"]._expire_points(batch_size=1)
        self.assertEqual(self.expiry_entries(), (self.member_ids, 3))
        cr, env = self.connect()
        with cr:
            self.assertEqual(set(env["res.partner"].browse(self.member_ids).mapped("loyalty_balance")), {0})
