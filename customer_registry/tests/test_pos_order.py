from odoo.tests import tagged

from odoo.addons.point_of_sale.tests.common import TestPoSCommon


@tagged("post_install", "-at_install")
class TestPosOrderPseudonym(TestPoSCommon):
    def setUp(self):
        super().setUp()
        self.config = self.basic_config
        self.product = self.create_product("Coffee beans", self.categ_basic, 120, 60)
        self.member = self.env["res.partner"].create(
            {"name": "Kari Nordmann", "email": "kari@example.com", "is_registry_member": True}
        )
        self.open_new_session()

    def sync(self, customer):
        orders = self._create_orders(
            [
                {
                    "pos_order_lines_ui_args": [(self.product, 1)],
                    "payments": [(self.cash_pm1, 120)],
                    "customer": customer,
                }
            ]
        )
        return next(iter(orders.values()))

    def test_member_orders_carry_the_pseudonym(self):
        order = self.sync(self.member)
        self.assertEqual(order.state, "paid")
        self.assertEqual(order.pseudonym, self.member.pseudonym)
        self.assertEqual(
            self.env["pos.order"].search([("pseudonym", "=", self.member.pseudonym)]),
            order,
            "purchase history is found by the code alone",
        )

    def test_orders_of_non_members_have_no_pseudonym(self):
        self.assertFalse(self.sync(self.customer).pseudonym)
        self.assertFalse(self.sync(False).pseudonym)

    def test_enrolling_a_customer_codes_the_past_orders(self):
        order = self.sync(self.customer)
        self.customer.write({"is_registry_member": True})
        self.assertEqual(order.pseudonym, self.customer.pseudonym)
