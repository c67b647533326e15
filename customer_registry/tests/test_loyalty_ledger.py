from datetime import timedelta

import psycopg2

from odoo import fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import Form, new_test_user, tagged
from odoo.tools import mute_logger

from .loyalty_common import LoyaltyCommon


@tagged("post_install", "-at_install")
class TestLoyaltyEarning(LoyaltyCommon):
    def test_paid_member_order_earns_points(self):
        order = self.sync([(self.product_a, 2), (self.product_b, 1)])
        entry = self.entries()
        self.assertEqual(len(entry), 1)
        self.assertRecordValues(
            entry,
            [
                {
                    "kind": "earn",
                    "points": 230,
                    "balance_after": 230,
                    "order_id": order.id,
                    "pseudonym": self.member.pseudonym,
                    "user_id": self.env.uid,
                    "base_amount": 230.0,
                }
            ],
        )
        self.assertEqual(self.member.loyalty_balance, 230)
        self.assertEqual(order.loyalty_points_earned, 230)
        self.assertEqual(order.loyalty_balance_after, 230)

    def test_excluded_categories_and_rounding(self):
        self.program.points_per_amount = 0.15
        self.sync([(self.product_a, 1), (self.gift_card, 2)])
        # 100 * 0.15 = 15 points; the gift cards earn nothing.
        self.assertEqual(self.member.loyalty_balance, 15)
        self.program.write({"points_per_amount": 0.125, "rounding": "down"})
        self.sync([(self.product_a, 1)])  # 12.5 points, rounded down
        self.assertEqual(self.member.loyalty_balance, 27)
        self.program.rounding = "up"
        self.sync([(self.product_b, 1)])  # 3.75 points, rounded up
        self.assertEqual(self.member.loyalty_balance, 31)

    def test_non_members_earn_nothing(self):
        walk_in = self.env["res.partner"].create({"name": "Walk-in"})
        self.sync([(self.product_a, 1)], member=walk_in)
        self.assertFalse(self.Entry.search([("member_id", "=", walk_in.id)]))

    def test_same_order_synced_twice_earns_once(self):
        order = self.sync([(self.product_a, 1)], uuid="retry-uuid-0001")
        again = self.sync([(self.product_a, 1)], uuid="retry-uuid-0001")
        self.assertEqual(order, again)
        order._loyalty_settle()  # a double click on the paid transition
        self.assertEqual(len(self.entries()), 1)
        self.assertEqual(self.member.loyalty_balance, 100)
        self.assertLedgerConsistent()

    def test_database_refuses_a_second_earning_for_an_order(self):
        order = self.sync([(self.product_a, 1)])
        with mute_logger("odoo.sql_db"), self.assertRaises(psycopg2.errors.UniqueViolation), self.env.cr.savepoint():
            self.env.cr.execute(
                """
                INSERT INTO customer_loyalty_entry (member_id, pseudonym, company_id, date, kind, points,
                                                    balance_after, order_id)
                VALUES (%s, %s, %s, now(), 'earn', 100, 200, %s)
            """,
                [self.member.id, self.member.pseudonym, self.env.company.id, order.id],
            )

    def test_settlement_costs_a_handful_of_queries(self):
        walk_in = self.env["res.partner"].create({"name": "Walk-in"})
        lines = [(self.product_a, 1), (self.product_b, 2)]
        for customer in (walk_in, self.member):  # the first order of a product creates its stock quants
            self.sync(lines, member=customer)
        cr = self.env.cr

        def queries_of_sync(member):
            before = cr.sql_log_count
            self.sync(lines, member=member)
            return cr.sql_log_count - before

        extra = queries_of_sync(self.member) - queries_of_sync(walk_in)
        self.assertEqual(self.member.loyalty_balance, 2 * 160)
        # The member row lock (with the rolling spend), the entry INSERT + balance UPDATE statement,
        # and at most one read the ORM cache may or may not hold depending on the tests run before.
        # The target (issue 8, README): at most 4 SQL queries per order more than a walk-in's.
        self.assertLessEqual(extra, 4, "earning must stay a handful of queries per synced order")


@tagged("post_install", "-at_install")
class TestLoyaltyTiers(LoyaltyCommon):
    def test_tier_follows_rolling_spend_and_multiplies_points(self):
        self.sync([(self.product_a, 4)])
        self.assertFalse(self.member.loyalty_tier_id)
        self.assertEqual(self.member.loyalty_balance, 400)
        # 400 + 200 = 600 spent: Silver, and this order already earns 1.5x.
        self.sync([(self.product_a, 2)])
        self.assertEqual(self.member.loyalty_tier_id, self.silver)
        self.assertEqual(self.member.loyalty_balance, 400 + 300)
        self.sync([(self.product_a, 4)])
        self.assertEqual(self.member.loyalty_tier_id, self.gold)
        self.assertEqual(self.member.loyalty_balance, 700 + 800)

    def test_old_spend_drops_out_of_the_tier(self):
        order = self.sync([(self.product_a, 6)])
        self.assertEqual(self.member.loyalty_tier_id, self.silver)
        order.date_order = fields.Datetime.now() - timedelta(days=400)
        self.member._recompute_loyalty_tier()
        self.assertFalse(self.member.loyalty_tier_id)
        self.assertEqual(self.member.loyalty_balance, 900, "a tier change moves no points")

    def test_threshold_change_applies_on_recompute(self):
        self.sync([(self.product_a, 3)])
        self.assertFalse(self.member.loyalty_tier_id)
        self.silver.min_spend = 250
        self.member._recompute_loyalty_tier()
        self.assertEqual(self.member.loyalty_tier_id, self.silver)


@tagged("post_install", "-at_install")
class TestLoyaltyRefunds(LoyaltyCommon):
    def test_partial_then_full_refund_reverses_in_proportion(self):
        order = self.sync([(self.product_a, 2), (self.product_b, 1)])
        self.assertEqual(self.member.loyalty_balance, 230)
        first = self.refund(order, {self.product_a: 1})
        reversal = self.Entry.search([("order_id", "=", first.id)])
        self.assertRecordValues(
            reversal,
            [
                {
                    "kind": "refund",
                    "points": -100,
                    "points_unreversed": 0,
                    "origin_order_id": order.id,
                    "balance_after": 130,
                }
            ],
        )
        self.refund(order, {self.product_a: 1, self.product_b: 1})
        self.assertEqual(self.member.loyalty_balance, 0)
        self.assertLedgerConsistent()

    def test_refund_never_drives_balance_negative(self):
        order = self.sync([(self.product_a, 2), (self.product_b, 1)])
        self.Entry._adjust(self.member, -200, "Points transferred to a lost card")
        refund = self.refund(order, {self.product_a: 2, self.product_b: 1})
        reversal = self.Entry.search([("order_id", "=", refund.id)])
        self.assertRecordValues(reversal, [{"points": -30, "points_unreversed": 200, "balance_after": 0}])
        self.assertIn("200 of 230 points could not be reversed", reversal.note)
        self.assertEqual(self.member.loyalty_balance, 0)
        self.assertLedgerConsistent()

    def test_refund_of_an_order_with_a_redemption(self):
        self.sync([(self.product_a, 2)])
        order = self.sync_redeeming([(self.product_a, 1)], 100)  # pays 90, earns 90
        self.assertEqual(self.member.loyalty_balance, 200 - 100 + 90)
        self.refund(order, {self.product_a: 1, self.reward_product: 1})
        reversal = self.Entry.search([("origin_order_id", "=", order.id)])
        self.assertEqual(reversal.points, -90, "the points the order earned are taken back")
        self.assertLedgerConsistent()

    def test_refund_without_customer_still_reverses_the_members_points(self):
        order = self.sync([(self.product_a, 2)])
        self.refund(order, {self.product_a: 1}, customer=self.env["res.partner"])
        self.assertEqual(self.member.loyalty_balance, 100)
        self.assertLedgerConsistent()

    def test_refund_resynced_reverses_once(self):
        order = self.sync([(self.product_a, 2)])
        refund = self.refund(order, {self.product_a: 1})
        refund._loyalty_settle()
        self.assertEqual(self.member.loyalty_balance, 100)
        self.assertEqual(len(self.Entry.search([("origin_order_id", "=", order.id)])), 1)


@tagged("post_install", "-at_install")
class TestLoyaltyRedemption(LoyaltyCommon):
    def test_redeem_within_balance(self):
        self.sync([(self.product_a, 2), (self.product_b, 1)])
        order = self.sync_redeeming([(self.product_b, 1)], 100)  # 30 - 10 discount = 20 paid
        redeem, earn = self.Entry.search([("order_id", "=", order.id)], order="id")
        self.assertRecordValues(
            redeem | earn,
            [
                {"kind": "redeem", "points": -100, "balance_after": 130},
                {"kind": "earn", "points": 20, "balance_after": 150},
            ],
        )
        self.assertEqual(order.loyalty_points_redeemed, 100)
        self.assertEqual(order.loyalty_balance_after, 150)
        self.assertLedgerConsistent()

    def test_redeeming_more_than_the_balance_fails_the_sync(self):
        self.sync([(self.product_a, 1)])
        orders_before = self.env["pos.order"].search_count([])
        # The RPC rolls back a failed sync: the savepoint stands for it.
        with self.assertRaisesRegex(UserError, "has 100 points: the order redeems 101"), self.env.cr.savepoint():
            self.sync_redeeming([(self.product_a, 1)], 101)
        self.assertEqual(self.env["pos.order"].search_count([]), orders_before)
        self.assertEqual(self.member.loyalty_balance, 100)

    def test_non_member_cannot_redeem(self):
        walk_in = self.env["res.partner"].create({"name": "Walk-in"})
        for customer in (walk_in, self.env["res.partner"]):
            with self.assertRaisesRegex(UserError, "registry member"), self.env.cr.savepoint():
                self.sync_redeeming([(self.product_a, 1)], 10, member=customer)


@tagged("post_install", "-at_install")
class TestLoyaltyExpiry(LoyaltyCommon):
    def post(self, kind, points, days_ago, **values):
        balance, _spend, _tier = self.Entry._lock_member(self.member)
        return self.Entry._post(
            self.member, kind, points, balance, program=self.program, date=self.days_ago(days_ago), **values
        )

    def test_expiry_is_fifo_across_lots_and_idempotent(self):
        self.post("earn", 100, 400)
        self.post("earn", 50, 380)
        self.post("earn", 70, 30)
        self.post("redeem", -120, 20)  # spends the 100-point lot and 20 of the 50-point lot
        self.assertEqual(self.Entry._expire_points(commit=False), 1)
        expiry = self.entries().filtered(lambda e: e.kind == "expiry")
        self.assertRecordValues(expiry, [{"points": -30, "balance_after": 70}])
        # Run again (a re-run after a kill): nothing more is due.
        self.assertEqual(self.Entry._expire_points(commit=False), 0)
        self.assertEqual(self.member.loyalty_balance, 70)
        # 340 days later the 70-point lot is past its validity too.
        later = fields.Date.today() + timedelta(days=340)
        self.assertEqual(self.Entry._expire_points(commit=False, today=later), 1)
        self.assertEqual(self.member.loyalty_balance, 0)
        self.assertLedgerConsistent()

    def test_expiry_in_small_batches(self):
        members = self.env["res.partner"].create(
            [{"name": f"Member {index}", "is_registry_member": True} for index in range(5)]
        )
        for member in members:
            balance, _spend, _tier = self.Entry._lock_member(member)
            self.Entry._post(member, "earn", 40, balance, program=self.program, date=self.days_ago(500))
        self.assertEqual(self.Entry._expire_points(batch_size=2, commit=False), 5)
        self.assertEqual(set(members.mapped("loyalty_balance")), {0})

    def test_spent_points_do_not_expire(self):
        self.post("earn", 100, 400)
        self.post("adjustment", -100, 10, note="Gift to a friend")
        self.assertEqual(self.Entry._expire_points(commit=False), 0)


@tagged("post_install", "-at_install")
class TestLoyaltyAdjustmentAndImmutability(LoyaltyCommon):
    def test_manager_adjusts_with_a_reason(self):
        wizard = Form(self.env["customer.loyalty.adjustment"].with_context(default_member_id=self.member.id))
        wizard.points = 25
        wizard.reason = "Goodwill after a late delivery"
        wizard.save().action_post()
        self.assertRecordValues(
            self.entries(),
            [
                {
                    "kind": "adjustment",
                    "points": 25,
                    "balance_after": 25,
                    "note": "Goodwill after a late delivery",
                }
            ],
        )
        with self.assertRaisesRegex(UserError, "needs a reason"):
            self.Entry._adjust(self.member, 5, "  ")
        with self.assertRaisesRegex(UserError, "has 25 points"):
            self.Entry._adjust(self.member, -26, "Too much")

    def test_registry_user_cannot_adjust(self):
        cashier = new_test_user(self.env, "cashier", groups="base.group_user,customer_registry.group_registry_user")
        with self.assertRaises(AccessError):
            self.env["customer.loyalty.adjustment"].with_user(cashier).create(
                {
                    "member_id": self.member.id,
                    "points": 1000,
                    "reason": "For me",
                }
            )
        self.assertEqual(self.member.with_user(cashier).loyalty_balance, 0)

    def test_entries_cannot_be_written_or_deleted(self):
        self.Entry._adjust(self.member, 10, "Welcome")
        entry = self.entries()
        with self.assertRaisesRegex(UserError, "cannot be changed"):
            entry.write({"points": 1000})
        with self.assertRaisesRegex(UserError, "cannot be deleted"):
            entry.unlink()
        with self.assertRaisesRegex(UserError, "posted by orders"):
            self.Entry.create({"member_id": self.member.id, "points": 5})
        with mute_logger("odoo.sql_db"):
            for statement in (
                "UPDATE customer_loyalty_entry SET points = 1000 WHERE id = %s",
                "DELETE FROM customer_loyalty_entry WHERE id = %s",
            ):
                with self.assertRaisesRegex(psycopg2.Error, "append-only"), self.env.cr.savepoint():
                    self.env.cr.execute(statement, [entry.id])
            with self.assertRaises(psycopg2.Error), self.env.cr.savepoint():
                self.member.sudo().unlink()  # past the ORM refusal: the ledger restricts it in the database
        entry.invalidate_recordset()
        self.assertEqual(entry.points, 10)

    def test_balance_check_reports_drift(self):
        self.Entry._adjust(self.member, 10, "Welcome")
        self.assertFalse([row for row in self.Entry._balance_mismatches() if row[0] == self.member.id])
        # Only a database superuser disabling triggers can make a balance drift from its ledger.
        self.env.cr.execute("SET LOCAL session_replication_role = replica")
        self.env.cr.execute("UPDATE res_partner SET loyalty_balance = 99 WHERE id = %s", [self.member.id])
        self.env.cr.execute("SET LOCAL session_replication_role = DEFAULT")
        self.assertIn((self.member.id, 99, 10), self.Entry._balance_mismatches())
        action = self.Entry.action_check_balances()
        self.assertEqual(action["params"]["type"], "danger")
        self.assertIn(self.member.pseudonym, action["params"]["message"])


@tagged("post_install", "-at_install")
class TestLoyaltyProgramConfig(LoyaltyCommon):
    def test_one_program_per_company(self):
        with mute_logger("odoo.sql_db"), self.assertRaises(psycopg2.errors.UniqueViolation), self.env.cr.savepoint():
            self.env["customer.loyalty.program"].create({"company_id": self.env.company.id})
