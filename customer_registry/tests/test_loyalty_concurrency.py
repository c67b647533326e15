# Two real database connections only see each other's committed rows: these tests commit.
# pylint: disable=invalid-commit
import threading
from functools import partial
from random import randint
from uuid import uuid4

import psycopg2

from odoo import SUPERUSER_ID, fields
from odoo.exceptions import UserError
from odoo.service.model import retrying
from odoo.tests import TransactionCase, tagged
from odoo.tools import mute_logger

from .common import own_connection

REDEEMED, REFUSED, SYNCED = "redeemed", "refused", "synced"


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


class TwoTillsCommon(TransactionCase):
    """A committed open POS session, a member and a loyalty program, seen by two database connections.

    Each till syncs its order with `pos.order.sync_from_ui` on its own connection, through Odoo's
    RPC retry loop (`odoo.service.model.retrying`), as two real tills' requests are served.
    """

    opening_points = 100

    def connect(self):
        return own_connection(self.env)

    def setUp(self):
        super().setUp()
        cr, env = self.connect()
        with cr:
            company = env.company
            self.created = {}
            program = env["customer.loyalty.program"].search([("company_id", "=", company.id)])
            if not program:
                program = env["customer.loyalty.program"].create({"company_id": company.id})
                self.created["customer.loyalty.program"] = program.ids
            program.write(
                {
                    "points_per_amount": 1.0,
                    "point_value": 0.1,
                    "reward_product_id": env.ref("customer_registry.product_loyalty_reward").id,
                }
            )
            product = env["product.product"].create(
                {"name": "Parallel Sandwich", "type": "service", "list_price": 10.0, "available_in_pos": True}
            )
            journal = env["account.journal"].search(
                [("type", "=", "cash"), *env["account.journal"]._check_company_domain(company)], limit=1
            )
            method = env["pos.payment.method"].create({"name": "Parallel Cash", "journal_id": journal.id})
            config = env["pos.config"].create({"name": "Parallel Till", "payment_method_ids": [(6, 0, method.ids)]})
            config.open_ui()
            config.current_session_id.set_opening_control(0, None)
            member = env["res.partner"].create({"name": "Parallel Member", "is_registry_member": True})
            if self.opening_points:
                env["customer.loyalty.entry"]._adjust(member, self.opening_points, "Opening balance")
            cr.commit()
            self.member_id, self.product_id, self.method_id = member.id, product.id, method.id
            self.session_id, self.config_id, self.pricelist_id = (
                config.current_session_id.id,
                config.id,
                config.pricelist_id.id,
            )
            self.reward_id = program.reward_product_id.id
            self.created.update({"product.product": product.ids, "pos.payment.method": method.ids})
        self.addCleanup(self.erase)

    def erase(self):
        cr, env = self.connect()
        with cr:
            # Orders of a session and ledger entries are kept for audit: only a superuser replaying data removes them.
            env.cr.execute("SET LOCAL session_replication_role = replica")
            env.cr.execute(
                """DELETE FROM pos_payment WHERE session_id = %(session)s;
                   DELETE FROM pos_order_line
                    WHERE order_id IN (SELECT id FROM pos_order WHERE session_id = %(session)s);
                   DELETE FROM customer_loyalty_entry WHERE member_id = %(member)s;
                   DELETE FROM pos_order WHERE session_id = %(session)s;
                   DELETE FROM pos_session WHERE id = %(session)s;
                   DELETE FROM pos_config WHERE id = %(config)s;""",
                {"session": self.session_id, "member": self.member_id, "config": self.config_id},
            )
            env.cr.execute("SET LOCAL session_replication_role = DEFAULT")
            env["res.partner"].browse(self.member_id).unlink()
            for model, ids in self.created.items():
                env[model].browse(ids).unlink()
            cr.commit()

    def order_data(self, redeem_points=0):
        uuid = str(uuid4())
        lines = [(0, 0, self.line(self.product_id, 1, 10.0))]
        if redeem_points:
            lines.append((0, 0, self.line(self.reward_id, 1, -redeem_points * 0.1)))
        total = round(sum(line[2]["price_subtotal_incl"] for line in lines), 2)
        return {
            "amount_paid": total,
            "amount_return": 0,
            "amount_tax": 0,
            "amount_total": total,
            "date_order": fields.Datetime.to_string(fields.Datetime.now()),
            "fiscal_position_id": False,
            "pricelist_id": self.pricelist_id,
            "name": f"Order {uuid}",
            "last_order_preparation_change": "{}",
            "lines": lines,
            "partner_id": self.member_id,
            "session_id": self.session_id,
            "payment_ids": [
                (0, 0, {"amount": total, "name": fields.Datetime.now(), "payment_method_id": self.method_id})
            ],
            "uuid": uuid,
            "user_id": SUPERUSER_ID,
            "to_invoice": False,
        }

    @staticmethod
    def line(product_id, qty, price):
        return {
            "id": randint(1, 1000000),
            "pack_lot_ids": [],
            "price_unit": price,
            "product_id": product_id,
            "price_subtotal": price * qty,
            "price_subtotal_incl": price * qty,
            "qty": qty,
            "tax_ids": [(6, 0, [])],
        }

    def till(self, data, both_read, outcomes, name):
        """One till's sync request on its own connection; both transactions read the balance first."""
        cr, env = self.connect()
        with cr:
            env.cr.execute("SELECT loyalty_balance FROM res_partner WHERE id = %s", [self.member_id])
            outcomes[f"{name}-read"] = env.cr.fetchone()[0]
            both_read.wait(timeout=10)
            try:
                retrying(partial(env["pos.order"].sync_from_ui, [data]), env)
                cr.commit()
                outcomes[name] = SYNCED
            except UserError as error:
                cr.rollback()
                outcomes[name] = REFUSED
                outcomes[f"{name}-error"] = str(error)

    def run_tills(self, *orders):
        both_read = threading.Barrier(len(orders))
        outcomes = {}
        tills = [
            threading.Thread(target=self.till, args=(data, both_read, outcomes, name))
            for name, data in zip("AB", orders, strict=False)
        ]
        with mute_logger("odoo.sql_db", "odoo.service.model", "odoo.addons.point_of_sale.models.pos_order"):
            for till in tills:
                till.start()
            for till in tills:
                till.join(timeout=60)
        return outcomes

    def ledger(self):
        cr, env = self.connect()
        with cr:
            member = env["res.partner"].browse(self.member_id)
            entries = env["customer.loyalty.entry"].search([("member_id", "=", self.member_id)], order="id")
            orders = env["pos.order"].search([("session_id", "=", self.session_id)])
            return member.loyalty_balance, [(e.kind, e.points, e.balance_after) for e in entries], len(orders)


@tagged("post_install", "-at_install")
class TestTwoTillsSync(TwoTillsCommon):
    def test_two_tills_redeeming_through_sync_cannot_overdraw(self):
        outcomes = self.run_tills(self.order_data(redeem_points=80), self.order_data(redeem_points=80))
        self.assertEqual((outcomes["A-read"], outcomes["B-read"]), (100, 100), "both tills saw 100 points")
        self.assertEqual(sorted(outcomes[name] for name in "AB"), [REFUSED, SYNCED])
        refused = next(name for name in "AB" if outcomes[name] == REFUSED)
        self.assertIn("has 22 points: the order redeems 80", outcomes[f"{refused}-error"])
        balance, entries, orders = self.ledger()
        # 100 - 80 redeemed + 2 earned on the 2.00 paid; the refused order was not saved.
        self.assertEqual(entries, [("adjustment", 100, 100), ("redeem", -80, 20), ("earn", 2, 22)])
        self.assertEqual((balance, orders), (22, 1))

    def test_two_tills_earning_through_sync_both_count(self):
        outcomes = self.run_tills(self.order_data(), self.order_data())
        self.assertEqual([outcomes[name] for name in "AB"], [SYNCED, SYNCED])
        balance, entries, orders = self.ledger()
        self.assertEqual(entries, [("adjustment", 100, 100), ("earn", 10, 110), ("earn", 10, 120)])
        self.assertEqual((balance, orders), (120, 2))
