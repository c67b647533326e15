from odoo.tests import tagged

from odoo.addons.point_of_sale.tests.test_frontend import TestPointOfSaleHttpCommon


class LoyaltyTourCommon(TestPointOfSaleHttpCommon):
    """A member with 50 points (Silver) and bread at 10.00 with 15 % VAT included."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env.user.group_ids |= cls.env.ref("customer_registry.group_registry_manager")
        cls.vat15 = cls.env["account.tax"].create(
            {
                "name": "VAT 15%",
                "amount": 15,
                "amount_type": "percent",
                "price_include_override": "tax_included",
                "company_id": cls.main_pos_config.company_id.id,
            }
        )
        cls.env["product.product"].create(
            {
                "name": "Loyalty Tour Bread",
                "list_price": 10.0,
                "available_in_pos": True,
                "taxes_id": [(6, 0, cls.vat15.ids)],
            }
        )
        cls.env["product.product"].create(
            {"name": "Loyalty Tour Milk", "list_price": 5.0, "available_in_pos": True, "taxes_id": [(5, 0, 0)]}
        )
        cls.program = cls.env["customer.loyalty.program"].create(
            {
                "company_id": cls.main_pos_config.company_id.id,
                "points_per_amount": 1.0,
                "point_value": 0.1,
                "reward_product_id": cls.env.ref("customer_registry.product_loyalty_reward").id,
                "tier_ids": [(0, 0, {"name": "Silver", "min_spend": 0, "multiplier": 1})],
            }
        )
        cls.member = cls.env["res.partner"].create(
            {
                "name": "Tove Turmann",
                "registry_greeting_name": "Tour Member",
                "is_registry_member": True,
            }
        )
        cls.env["customer.loyalty.entry"]._adjust(cls.member, 50, "Welcome points")
        cls.member._recompute_loyalty_tier()

    def entries(self):
        return self.env["customer.loyalty.entry"].search([("member_id", "=", self.member.id)], order="id")


@tagged("post_install", "-at_install")
class TestLoyaltyPosTour(LoyaltyTourCommon):
    def test_redeem_chosen_points_pay_and_print_points_and_tax(self):
        self.main_pos_config.with_user(self.pos_user).open_ui()
        self.start_pos_tour("CustomerRegistryLoyaltyTour")
        entries = self.entries()
        # The tier reached by the recompute is a ledger entry of its own (0 points).
        self.assertEqual(entries.mapped("kind"), ["adjustment", "tier", "redeem", "earn"])
        self.assertEqual(entries.mapped("points"), [50, 0, -30, 12])
        self.assertEqual(self.member.loyalty_balance, 32)
        order = entries[2].order_id
        rewards = order.lines.filtered(lambda line: line.product_id == self.program.reward_product_id)
        self.assertEqual(
            sorted((line.tax_ids.ids, line.price_subtotal_incl, line.full_product_name) for line in rewards),
            [
                ([], -1.0, "Loyalty points: 30 pts (part taxed no tax)"),
                (self.vat15.ids, -2.0, "Loyalty points: 30 pts (part taxed VAT 15%)"),
            ],
        )
        self.assertEqual(order.loyalty_points_redeemed, 30)
        self.assertAlmostEqual(order.amount_tax, 1.04)


@tagged("post_install", "-at_install")
class TestLoyaltyPosTourLaptop(LoyaltyTourCommon):
    browser_size = "1024x768"

    def test_selected_member_shows_the_balance_moved_in_the_backend(self):
        # The cashier is also a manager here: the tour adjusts the points through the backend wizard.
        self.pos_user.group_ids |= self.env.ref("customer_registry.group_registry_manager")
        self.main_pos_config.with_user(self.pos_user).open_ui()
        self.start_pos_tour("CustomerRegistryLoyaltyFreshBalanceTour")
        self.assertEqual(self.member.loyalty_balance, 120)


@tagged("post_install", "-at_install")
class TestLoyaltyPosTourPhone(LoyaltyTourCommon):
    browser_size = "390x844"

    def test_points_reachable_on_a_small_screen(self):
        self.main_pos_config.with_user(self.pos_user).open_ui()
        self.start_pos_tour("CustomerRegistryLoyaltySmallScreenTour")


@tagged("post_install", "-at_install")
class TestLoyaltyPosTourTabletPortrait(TestLoyaltyPosTourPhone):
    browser_size = "768x1024"
