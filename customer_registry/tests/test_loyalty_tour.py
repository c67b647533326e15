from odoo.tests import tagged

from odoo.addons.point_of_sale.tests.test_frontend import TestPointOfSaleHttpCommon


@tagged("post_install", "-at_install")
class TestLoyaltyPosTour(TestPointOfSaleHttpCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env.user.group_ids |= cls.env.ref("customer_registry.group_registry_manager")
        cls.env["product.product"].create(
            {
                "name": "Loyalty Tour Bread",
                "list_price": 10.0,
                "available_in_pos": True,
                "taxes_id": [(5, 0, 0)],
            }
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
                "name": "Tour Member",
                "registry_greeting_name": "Tour Member",
                "is_registry_member": True,
            }
        )
        cls.env["customer.loyalty.entry"]._adjust(cls.member, 50, "Welcome points")
        cls.member._recompute_loyalty_tier()

    def test_redeem_pay_and_print_points(self):
        self.main_pos_config.with_user(self.pos_user).open_ui()
        self.start_pos_tour("CustomerRegistryLoyaltyTour")
        entries = self.env["customer.loyalty.entry"].search([("member_id", "=", self.member.id)], order="id")
        # The tier reached by the recompute is a ledger entry of its own (0 points).
        self.assertEqual(entries.mapped("kind"), ["adjustment", "tier", "redeem", "earn"])
        self.assertEqual(entries.mapped("points"), [50, 0, -50, 5])
        self.assertEqual(self.member.loyalty_balance, 5)
