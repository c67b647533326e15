from odoo.exceptions import UserError
from odoo.tests import new_test_user, tagged

from .loyalty_common import LoyaltyCommon


@tagged("post_install", "-at_install")
class TestLoyaltyTill(LoyaltyCommon):
    """What the till relies on: the member's current balance, and reward lines as the Odoo 19 POS sends them."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.cashier = new_test_user(
            cls.env,
            login="till_cashier",
            groups="base.group_user,point_of_sale.group_pos_user,base.group_partner_manager",
            company_id=cls.env.company.id,
        )
        cls.tax10 = cls.taxes["tax10"]  # 10 %, included in the price
        cls.tax7 = cls.taxes["tax7"]  # 7 %, added to the price
        cls.taxed_incl = cls.create_product("Cake", cls.categ_basic, 100.0, tax_ids=cls.tax10.ids)
        cls.taxed_excl = cls.create_product("Tea", cls.categ_basic, 50.0, tax_ids=cls.tax7.ids)

    def give_points(self, points):
        self.Entry._adjust(self.member, points, "Welcome points")

    def sync_as_cashier(self, lines, rewards):
        """Sync a paid order whose reward lines are `rewards`: (incl. price, taxes), as the POS sends them."""
        reward_lines = []
        for amount, taxes in rewards:
            added = sum(tax.amount for tax in taxes if not tax.price_include)
            price_unit = amount / (1 + added / 100)
            price = taxes.compute_all(price_unit, self.currency, 1)
            reward_lines.append(
                {
                    "product": self.reward_product,
                    "quantity": 1,
                    "price_unit": price_unit,
                    "tax_ids": [(6, 0, taxes.ids)],
                    "price_subtotal": price["total_excluded"],
                    "price_subtotal_incl": price["total_included"],
                }
            )
        data = self.create_ui_order_data([*lines, *reward_lines], customer=self.member)
        result = self.env["pos.order"].with_user(self.cashier).sync_from_ui([data])
        return self.env["pos.order"].browse(result["pos.order"][0]["id"])

    def test_till_reads_the_current_balance_and_tier(self):
        Partner = self.env["res.partner"].with_user(self.cashier)

        def status():
            # The same call also brings the member panel (tests/test_till_member.py), with the same figures.
            answer = Partner.get_registry_loyalty_status(self.member.id)
            self.assertEqual(
                (answer["panel"]["balance"], answer["panel"]["tier"]),
                (answer["loyalty_balance"], answer["loyalty_tier_name"]),
            )
            return {key: answer[key] for key in ("loyalty_balance", "loyalty_tier_name")}

        self.assertEqual(status(), {"loyalty_balance": 0, "loyalty_tier_name": False})
        # A manager's adjustment moves the balance by SQL: the till's next look sees it.
        self.give_points(120)
        self.sync([(self.product_a, 6)])  # 600 spent: Silver, earning 1.5x
        self.assertEqual(status(), {"loyalty_balance": 1020, "loyalty_tier_name": "Silver"})

    def test_reward_split_per_tax_rate_redeems_its_points(self):
        self.give_points(500)
        # Cake 100.00 (10 % incl.) + Tea 53.50 (50 + 7 %): 40.00 of points, split in proportion.
        order = self.sync_as_cashier(
            [(self.taxed_incl, 1), (self.taxed_excl, 1)],
            [(-26.06, self.tax10), (-13.94, self.tax7)],
        )
        self.assertEqual(order.loyalty_points_redeemed, 400)
        self.assertEqual(order.state, "paid")
        self.assertAlmostEqual(order.amount_total, 113.50)
        # The customer pays 113.50: 73.94 with 10 % included (6.72) and 39.56 with 7 % on top (2.59).
        self.assertAlmostEqual(order.amount_tax, 6.72 + 2.59, places=2)
        self.assertLedgerConsistent()

    def test_reward_with_taxes_of_no_other_line_is_refused(self):
        self.give_points(500)
        with self.assertRaisesRegex(UserError, "carries taxes"), self.env.cr.savepoint():
            self.sync_as_cashier([(self.taxed_incl, 1)], [(-30.0, self.tax7)])
        with self.assertRaisesRegex(UserError, "carries taxes"), self.env.cr.savepoint():
            self.sync_as_cashier([(self.taxed_incl, 1)], [(-30.0, self.env["account.tax"])])
        self.assertEqual(self.member.loyalty_balance, 500)

    def test_reward_beyond_what_its_tax_rate_discounts_is_refused(self):
        self.give_points(1100)
        # 101.00 put on the 100.00 taxed 10 % of a 153.50 order would lower the VAT more than due.
        with self.assertRaisesRegex(UserError, "only amount to"), self.env.cr.savepoint():
            self.sync_as_cashier([(self.taxed_incl, 1), (self.taxed_excl, 1)], [(-101.0, self.tax10)])
        # Nor can a line adding to the other rate make up for it.
        with self.assertRaisesRegex(UserError, "cannot add to the price"), self.env.cr.savepoint():
            self.sync_as_cashier([(self.taxed_incl, 1), (self.taxed_excl, 1)], [(-60.0, self.tax10), (10.0, self.tax7)])
        self.assertEqual(self.member.loyalty_balance, 1100)

    def test_reward_worth_no_whole_number_of_points_is_refused(self):
        self.give_points(500)
        # A point is worth 0.10: 1.85 is no whole number of points (it used to redeem 19).
        with self.assertRaisesRegex(UserError, "not a whole number of points"), self.env.cr.savepoint():
            self.sync_as_cashier([(self.taxed_incl, 1)], [(-1.85, self.tax10)])
        self.assertEqual(self.member.loyalty_balance, 500)

    def test_program_minimum_is_enforced(self):
        self.give_points(500)
        self.program.min_redeem_points = 50
        with self.assertRaisesRegex(UserError, "at least 50 points"), self.env.cr.savepoint():
            self.sync_as_cashier([(self.taxed_incl, 1)], [(-4.0, self.tax10)])
        order = self.sync_as_cashier([(self.taxed_incl, 1)], [(-5.0, self.tax10)])
        self.assertEqual(order.loyalty_points_redeemed, 50)

    def test_closing_the_session_posts_the_tax_on_what_the_customer_paid(self):
        self.give_points(500)
        # Cake 100.00 with 10 % included, 30.00 of points: the customer pays 70.00, of which 6.36 tax.
        order = self.sync_as_cashier([(self.taxed_incl, 1)], [(-30.0, self.tax10)])
        self.assertEqual(order.loyalty_points_redeemed, 300)
        self.pos_session.action_pos_session_validate()
        move = self.pos_session.move_id
        tax_lines = move.line_ids.filtered(lambda line: line.tax_line_id == self.tax10)
        self.assertAlmostEqual(sum(tax_lines.mapped("credit")) - sum(tax_lines.mapped("debit")), 6.36)
        base_lines = move.line_ids.filtered(lambda line: self.tax10 in line.tax_ids)
        self.assertAlmostEqual(sum(base_lines.mapped("credit")) - sum(base_lines.mapped("debit")), 63.64)
