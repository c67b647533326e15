"""Issue 8, server side: the ledger is the only way to move a balance or a tier, per company,
refunds in parts, refunds with reward lines, settlement failures, upgrades."""

from unittest.mock import patch

import psycopg2

from odoo import fields
from odoo.exceptions import UserError
from odoo.orm.model_classes import add_field, pop_field
from odoo.tests import new_test_user, tagged
from odoo.tools import mute_logger
from odoo.tools.convert import convert_file

from .. import uninstall_hook
from ..models.customer_loyalty_entry import ledger_maintenance
from .loyalty_common import LoyaltyCommon


class SealCommon(LoyaltyCommon):
    def sync_lines(self, lines, member=None, customer_is_member=True):
        """Sync an order whose lines are dicts with an explicit price_unit (refunds, reward lines)."""
        customer = (member or self.member) if customer_is_member else self.env["res.partner"]
        data = self.create_ui_order_data(
            [{key: value for key, value in line.items() if key != "price_unit"} for line in lines], customer=customer
        )
        for (_zero, _id, vals), line in zip(data["lines"], lines, strict=True):
            if "price_unit" in line:
                vals["price_unit"] = line["price_unit"]
            amount = vals["price_unit"] * vals["qty"]
            vals.update(price_subtotal=amount, price_subtotal_incl=amount)
        total = sum(line[2]["price_subtotal_incl"] for line in data["lines"])
        data.update(amount_total=total, amount_paid=total, amount_tax=0)
        data["payment_ids"][0][2]["amount"] = total
        result = self.env["pos.order"].sync_from_ui([data])
        return self.env["pos.order"].browse(max(o["id"] for o in result["pos.order"]))

    def refund_lines(self, order, quantities, extra=(), customer_is_member=True):
        """Refund `quantities` ({product: qty}) of `order` at the order's prices, plus `extra` new lines."""
        lines = [
            {
                "product": line.product_id,
                "quantity": -quantities[line.product_id],
                "price_unit": line.price_unit,
                "refunded_orderline_id": line.id,
            }
            for line in order.lines
            if line.product_id in quantities
        ]
        return self.sync_lines([*lines, *extra], member=order.partner_id, customer_is_member=customer_is_member)

    def reward(self, points):
        return {"product": self.reward_product, "quantity": 1, "price_unit": -points * self.program.point_value}

    def kinds(self, order):
        entries = self.Entry.search([("order_id", "=", order.id)], order="id")
        return [(entry.kind, entry.points) for entry in entries]


@tagged("post_install", "-at_install")
class TestBalanceMovesOnlyByTheLedger(SealCommon):
    """Finding 1: the stored balance and tier cannot be moved but by ledger entries."""

    def test_orm_write_of_balance_or_tier_is_refused(self):
        self.Entry._adjust(self.member, 10, "Welcome")
        for vals in ({"loyalty_balance": 100000}, {"loyalty_tier_id": self.gold.id}):
            with self.assertRaisesRegex(UserError, "only move by loyalty ledger entries"):
                self.member.write(vals)
        with self.assertRaisesRegex(UserError, "only move by loyalty ledger entries"):
            self.env["res.partner"].create({"name": "Rich", "is_registry_member": True, "loyalty_balance": 500})
        self.member.invalidate_recordset()
        self.assertEqual(self.member.loyalty_balance, 10)
        self.assertFalse(self.member.loyalty_tier_id)
        # The redemption check trusts the ledger's balance only.
        with self.assertRaisesRegex(UserError, "has 10 points"), self.env.cr.savepoint():
            self.sync_redeeming([(self.product_a, 1)], 500)

    def test_import_cannot_set_a_balance(self):
        result = self.env["res.partner"].load(["name", "loyalty_balance"], [["Imported Member", "5000"]])
        self.assertTrue(result["messages"], "the import is refused")
        self.assertFalse(self.env["res.partner"].search([("loyalty_balance", "=", 5000)]))

    def test_sql_by_the_application_cannot_move_balance_or_tier(self):
        self.Entry._adjust(self.member, 10, "Welcome")
        statements = [
            ("UPDATE res_partner SET loyalty_balance = 100000 WHERE id = %s", [self.member.id]),
            ("UPDATE res_partner SET loyalty_tier_id = %s WHERE id = %s", [self.gold.id, self.member.id]),
            (
                # A copy of an existing partner row with a balance of its own.
                """INSERT INTO res_partner
                   SELECT * FROM jsonb_populate_record(NULL::res_partner, (
                       SELECT to_jsonb(partner) - 'pseudonym'
                              || jsonb_build_object('id', nextval('res_partner_id_seq'), 'loyalty_balance', 999)
                         FROM res_partner partner WHERE id = %s))""",
                [self.member.id],
            ),
        ]
        with mute_logger("odoo.sql_db"):
            for statement, params in statements:
                with (
                    self.subTest(statement=statement),
                    self.assertRaisesRegex(psycopg2.errors.IntegrityConstraintViolation, "ledger|no loyalty points"),
                    self.env.cr.savepoint(),
                ):
                    self.env.cr.execute(statement, params)
        self.member.invalidate_recordset()
        self.assertEqual(self.member.loyalty_balance, 10)
        self.assertFalse(self.member.loyalty_tier_id)

    def test_database_computes_the_balance_after_each_entry(self):
        self.Entry._adjust(self.member, 10, "Welcome")
        # An entry posted by SQL moves the balance as the ledger's own posting does; its balance_after is the
        # database's, whatever the statement says.
        self.env.cr.execute(
            """INSERT INTO customer_loyalty_entry (member_id, pseudonym, company_id, date, kind, points, balance_after)
               VALUES (%s, %s, %s, now(), 'adjustment', 5, 999) RETURNING balance_after""",
            [self.member.id, self.member.pseudonym, self.member.company_id.id],
        )
        self.assertEqual(self.env.cr.fetchone()[0], 15)
        self.assertLedgerConsistent()
        self.assertEqual(self.member.loyalty_balance, 15)

    def test_tier_moves_are_ledger_entries(self):
        self.sync([(self.product_a, 6)])
        tier_entries = self.entries().filtered(lambda entry: entry.kind == "tier")
        self.assertRecordValues(tier_entries, [{"points": 0, "tier_id": self.silver.id}])
        self.assertEqual(self.member.loyalty_tier_id, self.silver)
        self.assertEqual(self.entries()[-1].tier_id, self.member.loyalty_tier_id)

    def test_balance_move_moves_the_partner_write_date(self):
        """The POS caches partners by write_date: a balance moved on the server must show at every till."""
        self.env.cr.execute("UPDATE res_partner SET write_date = '2020-01-01' WHERE id = %s", [self.member.id])
        self.member.invalidate_recordset()
        self.sync([(self.product_a, 1)])
        self.member.invalidate_recordset()
        self.assertGreater(self.member.write_date, fields.Datetime.to_datetime("2020-01-01"))


@tagged("post_install", "-at_install")
class TestLoyaltyPerCompany(SealCommon):
    """Finding 2: a member's points, program, tier and rolling spend are its company's."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_b = cls.env["res.company"].create({"name": "Shop B", "currency_id": cls.env.company.currency_id.id})
        cls.env.user.company_ids |= cls.company_b
        # A user working in both companies at company A's till (others cannot even see the member).
        cls.env = cls.env(context=dict(cls.env.context, allowed_company_ids=[cls.env.company.id, cls.company_b.id]))
        cls.program_b = cls.env["customer.loyalty.program"].create(
            {
                "company_id": cls.company_b.id,
                "points_per_amount": 1.0,
                "point_value": 0.1,
                "validity_months": 0,
                "reward_product_id": cls.reward_product.id,
                "tier_ids": [(0, 0, {"name": "Silver B", "min_spend": 500, "multiplier": 1.5})],
            }
        )
        cls.member_b = cls.env["res.partner"].create(
            {"name": "Kari", "is_registry_member": True, "company_id": cls.company_b.id}
        )

    def test_member_of_another_company_earns_nothing_here(self):
        # A member belongs to its company: another company's till cannot even ring it up.
        with self.assertRaisesRegex(UserError, "belongs to Shop B"), self.env.cr.savepoint():
            self.sync([(self.product_a, 2)], member=self.member_b)
        self.assertFalse(self.entries(self.member_b))
        self.assertEqual(self.member_b.loyalty_balance, 0)

    def test_member_of_another_company_cannot_redeem_here(self):
        self.Entry._adjust(self.member_b, 100, "Opening balance at shop B")
        self.assertEqual(self.entries(self.member_b).company_id, self.company_b)
        with self.assertRaisesRegex(UserError, "belongs to Shop B"), self.env.cr.savepoint():
            self.sync_redeeming([(self.product_a, 1)], 50, member=self.member_b)
        self.assertEqual(self.member_b.loyalty_balance, 100)

    def test_database_refuses_an_entry_of_another_company(self):
        with (
            mute_logger("odoo.sql_db"),
            self.assertRaisesRegex(psycopg2.errors.IntegrityConstraintViolation, "own company|of company"),
            self.env.cr.savepoint(),
        ):
            self.env.cr.execute(
                """INSERT INTO customer_loyalty_entry (member_id, pseudonym, company_id, date, kind, points,
                                                      balance_after)
                   VALUES (%s, %s, %s, now(), 'adjustment', 100, 100)""",
                [self.member_b.id, self.member_b.pseudonym, self.env.company.id],
            )

    def test_member_with_entries_keeps_its_company(self):
        self.Entry._adjust(self.member_b, 100, "Opening balance at shop B")
        with self.assertRaisesRegex(UserError, "stays in the company that enrolled it"):
            self.member_b.company_id = self.env.company
        with (
            mute_logger("odoo.sql_db"),
            self.assertRaisesRegex(psycopg2.errors.IntegrityConstraintViolation, "stays in its company"),
            self.env.cr.savepoint(),
        ):
            self.env.cr.execute(
                "UPDATE res_partner SET company_id = %s WHERE id = %s", [self.env.company.id, self.member_b.id]
            )

    def test_rolling_spend_counts_only_the_members_company(self):
        with self.assertRaisesRegex(UserError, "belongs to Shop B"), self.env.cr.savepoint():
            self.sync([(self.product_a, 6)], member=self.member_b)  # 600 at company A: refused
        self.member_b._recompute_loyalty_tier()
        self.assertFalse(self.member_b.loyalty_tier_id, "company B's tier is not reached by company A's orders")

    def test_expiry_of_a_company_never_touches_another_companys_points(self):
        self.program.validity_months = 1
        self.Entry._post(self.member_b, "earn", 40, 0, program=self.program_b, date=self.days_ago(500))
        self.Entry._expire_points(commit=False)
        self.assertEqual(self.member_b.loyalty_balance, 40)


@tagged("post_install", "-at_install")
class TestRefundsInParts(SealCommon):
    """Findings 3 and 4: refunds in parts, refunds without the customer."""

    def test_refunds_of_one_unit_each_reverse_what_a_full_refund_would(self):
        cheap = self.create_product("Bun", self.categ_basic, 1.49)
        order = self.sync([(cheap, 10)])
        self.assertEqual(self.member.loyalty_balance, 14)
        for _index in range(10):
            self.refund(order, {cheap: 1})
        reversals = self.Entry.search([("origin_order_id", "=", order.id), ("kind", "=", "refund")])
        self.assertEqual(sum(reversals.mapped("points")), -14)
        self.assertEqual(self.member.loyalty_balance, 0)
        self.assertLedgerConsistent()

    def test_refund_without_the_customer_drops_the_tier(self):
        order = self.sync([(self.product_a, 6)])
        self.assertEqual(self.member.loyalty_tier_id, self.silver)
        self.refund(order, {self.product_a: 2}, customer=self.env["res.partner"])
        self.assertFalse(self.member.loyalty_tier_id, "400 spent: below Silver")
        self.member._recompute_loyalty_tier()
        self.assertFalse(self.member.loyalty_tier_id, "the nightly recompute counts the refund too")
        self.assertLedgerConsistent()


@tagged("post_install", "-at_install")
class TestRefundWithRewardLine(SealCommon):
    """Finding 5: an order holding a refund line and a reward line is checked and debited."""

    # An exchange: the returned item is refunded and the new one partly paid with points.

    def exchange(self, order, points):
        return self.refund_lines(
            order, {self.product_b: 1}, extra=[{"product": self.product_a, "quantity": 1}, self.reward(points)]
        )

    def test_reward_in_a_refund_order_cannot_overdraw(self):
        self.Entry._adjust(self.member, 173, "Opening balance")
        order = self.sync([(self.product_b, 1)])  # earns 30: 203 points
        self.assertEqual(self.member.loyalty_balance, 203)
        with self.assertRaisesRegex(UserError, "has 203 points: the order redeems 500"), self.env.cr.savepoint():
            self.exchange(order, 500)
        self.assertEqual(self.member.loyalty_balance, 203)

    def test_reward_after_the_refunds_reversal_cannot_overdraw(self):
        self.Entry._adjust(self.member, 173, "Opening balance")
        order = self.sync([(self.product_b, 1)])  # 203 points, 30 of which the refund takes back
        with self.assertRaisesRegex(UserError, "has 173 points: 200 cannot be taken"), self.env.cr.savepoint():
            self.exchange(order, 200)
        self.assertEqual(self.member.loyalty_balance, 203)

    def test_reward_in_a_refund_order_is_debited(self):
        self.Entry._adjust(self.member, 173, "Opening balance")
        order = self.sync([(self.product_b, 1)])
        exchange = self.exchange(order, 100)
        self.assertEqual(self.kinds(exchange), [("refund", -30), ("redeem", -100), ("earn", 90)])
        self.assertEqual(self.member.loyalty_balance, 203 - 30 - 100 + 90)
        self.assertLedgerConsistent()

    def test_a_reward_with_nothing_to_discount_is_refused(self):
        # Points lower the price of what is sold: a refund alone has nothing they could discount.
        self.Entry._adjust(self.member, 173, "Opening balance")
        order = self.sync([(self.product_b, 1)])
        with self.assertRaisesRegex(UserError, "only amount to"), self.env.cr.savepoint():
            self.refund_lines(order, {self.product_b: 1}, extra=[self.reward(100)])
        self.assertEqual(self.member.loyalty_balance, 203)


@tagged("post_install", "-at_install")
class TestRefundGivesBackRedeemedPoints(SealCommon):
    """Finding 11, server part: refunding an order that redeemed points gives them back in proportion."""

    def test_redeemed_points_come_back_in_the_refunded_share(self):
        self.sync([(self.product_a, 3)])  # 300 points
        order = self.sync_lines([{"product": self.product_a, "quantity": 2}, self.reward(100)])  # pays 190
        self.assertEqual(self.kinds(order), [("redeem", -100), ("earn", 190)])
        half = self.refund_lines(order, {self.product_a: 1, self.reward_product: 0.5})  # 100 - 5 back
        self.assertEqual(self.kinds(half), [("refund", -95), ("restore", 50)])
        rest = self.refund_lines(order, {self.product_a: 1, self.reward_product: 0.5})
        self.assertEqual(self.kinds(rest), [("refund", -95), ("restore", 50)])
        self.assertEqual(self.member.loyalty_balance, 300, "a fully refunded order leaves the balance as before")
        self.assertLedgerConsistent()


@tagged("post_install", "-at_install")
class TestSettlementFailure(SealCommon):
    """Finding 6: a settlement failure is recorded, nothing is half posted, reconciliation settles it."""

    def test_failure_is_recorded_then_reconciled_once(self):
        self.sync([(self.product_a, 2)])
        program_class = type(self.program)
        with (
            patch.object(program_class, "_points_for", side_effect=ValueError("earning rule broken")),
            mute_logger("odoo.addons.customer_registry.models.pos_order"),
        ):
            order = self.sync_redeeming([(self.product_a, 1)], 100)
        self.assertEqual(order.state, "paid")
        self.assertEqual(order.loyalty_state, "failed")
        self.assertIn("earning rule broken", order.loyalty_error)
        self.assertEqual(self.kinds(order), [], "no redemption without its earning: nothing is half posted")
        self.assertIn(order, self.env["pos.order"].search([("loyalty_state", "in", ("pending", "failed"))]))
        manager = new_test_user(
            self.env,
            "loyalty_manager",
            groups="base.group_user,point_of_sale.group_pos_user,customer_registry.group_registry_manager",
        )
        action = order.with_user(manager).action_loyalty_settle()
        self.assertEqual(action["params"]["type"], "success")
        self.assertEqual(order.loyalty_state, "settled")
        self.assertEqual(self.kinds(order), [("redeem", -100), ("earn", 90)])
        # The scheduled reconciliation finds nothing more to do, however often it runs.
        self.env["pos.order"]._cron_loyalty_reconcile()
        self.assertEqual(self.kinds(order), [("redeem", -100), ("earn", 90)])
        self.assertEqual(self.member.loyalty_balance, 200 - 100 + 90)
        self.assertLedgerConsistent()

    def test_reconciliation_settles_paid_orders_never_settled(self):
        order = self.sync([(self.product_a, 1)])
        self.assertEqual(order.loyalty_state, "settled")
        # An order whose entries already exist (settled before the state was recorded) is not posted twice.
        self.env.cr.execute("UPDATE pos_order SET loyalty_state = 'pending' WHERE id = %s", [order.id])
        order.invalidate_recordset()
        self.assertEqual(self.env["pos.order"]._loyalty_reconcile(), (1, 0))
        self.assertEqual(self.kinds(order), [("earn", 100)])


@tagged("post_install", "-at_install")
class TestUpgradePath(SealCommon):
    """Finding 7: upgrades pass through the maintenance path; uninstall leaves nothing; data is noupdate."""

    def test_a_new_field_with_a_default_fills_existing_entries_on_upgrade(self):
        self.Entry._adjust(self.member, 10, "Welcome")
        registry = self.registry
        model_cls = registry["customer.loyalty.entry"]
        # The field another addon would declare on the model.
        field = fields.Char(default="till")
        add_field(model_cls, "x_channel", field)
        self.addCleanup(pop_field, model_cls, "x_channel")
        field.setup(self.env["customer.loyalty.entry"])
        # What Odoo does when an addon adding this field is installed: the registry is being loaded.
        registry.ready = False
        try:
            registry.init_models(self.env.cr, ["customer.loyalty.entry"], {"module": "customer_registry"}, True)
        finally:
            registry.ready = True
        self.env.cr.execute("SELECT x_channel FROM customer_loyalty_entry WHERE member_id = %s", [self.member.id])
        self.assertEqual(self.env.cr.fetchall(), [("till",)])
        # Application code running with a loaded registry cannot open the maintenance path.

        with self.assertRaisesRegex(UserError, "only be rewritten while modules are installed"):
            ledger_maintenance(self.env)

    def test_uninstall_leaves_no_trigger_function(self):

        names = ["customer_loyalty_entry_append_only", "customer_loyalty_entry_post", "customer_loyalty_partner_guard"]
        with self.env.cr.savepoint(flush=False) as savepoint:
            self.env.cr.execute("SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'customer_registry%%'")
            self.assertGreater(self.env.cr.fetchone()[0], 10, "the vault's triggers are there before")
            uninstall_hook(self.env)
            for prefix in ("customer_loyalty", "customer_registry", "customer_erasure", "customer_identity"):
                self.env.cr.execute("SELECT proname FROM pg_proc WHERE proname LIKE %s", [f"{prefix}%"])
                self.assertFalse(self.env.cr.fetchall())
                self.env.cr.execute("SELECT tgname FROM pg_trigger WHERE tgname LIKE %s", [f"{prefix}%"])
                self.assertFalse(self.env.cr.fetchall())
            savepoint.rollback()
        self.env.cr.execute("SELECT proname FROM pg_proc WHERE proname = ANY(%s) ORDER BY proname", [names])
        self.assertEqual([row[0] for row in self.env.cr.fetchall()], sorted(names))

    def test_configuration_data_is_not_reset_by_upgrades(self):
        cron = self.env.ref("customer_registry.ir_cron_loyalty_expire_points")
        cron.write({"interval_number": 7, "active": False})
        self.reward_product.name = "Bonus Points"
        # What an upgrade of the addon does with its data file.
        convert_file(self.env, "customer_registry", "data/customer_loyalty_data.xml", {}, mode="update", noupdate=False)
        self.env.invalidate_all()
        self.assertRecordValues(cron, [{"interval_number": 7, "active": False}])
        self.assertEqual(self.reward_product.name, "Bonus Points")
