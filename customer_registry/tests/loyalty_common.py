from datetime import timedelta
from uuid import uuid4

from odoo import fields

from odoo.addons.point_of_sale.tests.common import TestPoSCommon


class LoyaltyCommon(TestPoSCommon):
    """An open POS session, a loyalty program with tiers and a member."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env.user.group_ids |= cls.env.ref("customer_registry.group_registry_manager")
        cls.config = cls.basic_config
        cls.reward_product = cls.env.ref("customer_registry.product_loyalty_reward")
        cls.categ_gift = cls.env["product.category"].create({"name": "Gift Cards"})
        cls.program = cls.env["customer.loyalty.program"].create(
            {
                "company_id": cls.env.company.id,
                "points_per_amount": 1.0,
                "rounding": "down",
                "validity_months": 12,
                "point_value": 0.1,
                "reward_product_id": cls.reward_product.id,
                "excluded_categ_ids": [(6, 0, cls.categ_gift.ids)],
                "tier_ids": [
                    (0, 0, {"name": "Silver", "min_spend": 500, "multiplier": 1.5}),
                    (0, 0, {"name": "Gold", "min_spend": 1000, "multiplier": 2}),
                ],
            }
        )
        cls.silver, cls.gold = cls.program.tier_ids.sorted("min_spend")
        cls.product_a = cls.create_product("Bread", cls.categ_basic, 100.0)
        cls.product_b = cls.create_product("Coffee", cls.categ_basic, 30.0)
        cls.gift_card = cls.create_product("Gift Card", cls.categ_gift, 50.0)
        cls.member = cls.env["res.partner"].create({"name": "Ola Nordmann", "is_registry_member": True})
        cls.Entry = cls.env["customer.loyalty.entry"]

    def setUp(self):
        super().setUp()
        self.open_new_session()

    def create_random_uid(self):
        # Not from `random`: hypothesis seeds it, and a repeated order uuid makes a sync a re-sync.
        return str(uuid4())

    def sync(self, lines, member=None, uuid=None, **order_values):
        data = self.create_ui_order_data(
            lines, customer=member or self.member, uuid=uuid, pos_order_ui_args=order_values
        )
        result = self.env["pos.order"].sync_from_ui([data])
        return self.env["pos.order"].browse(result["pos.order"][0]["id"])

    def sync_redeeming(self, lines, points, member=None):
        """An order whose reward line spends `points` (as the POS adds it)."""
        reward = {"product": self.reward_product, "quantity": 1, "price_unit": -points * self.program.point_value}
        data = self.create_ui_order_data([*lines, reward], customer=self.member if member is None else member)
        discount = points * self.program.point_value
        reward_line = data["lines"][-1][2]
        reward_line.update(price_unit=-discount, price_subtotal=-discount, price_subtotal_incl=-discount)
        total = sum(line[2]["price_subtotal_incl"] for line in data["lines"])
        data.update(amount_total=total, amount_paid=total, amount_tax=0)
        data["payment_ids"][0][2]["amount"] = total
        result = self.env["pos.order"].sync_from_ui([data])
        return self.env["pos.order"].browse(result["pos.order"][0]["id"])

    def refund(self, order, quantities, customer=None):
        """Refund `quantities` ({product: qty}) of `order` through the POS sync."""
        lines = []
        for line in order.lines:
            if line.product_id in quantities:
                lines.append(
                    {
                        "product": line.product_id,
                        "quantity": -quantities[line.product_id],
                        "refunded_orderline_id": line.id,
                    }
                )
        data = self.create_ui_order_data(lines, customer=order.partner_id if customer is None else customer)
        result = self.env["pos.order"].sync_from_ui([data])
        return self.env["pos.order"].browse(next(o["id"] for o in result["pos.order"] if o["id"] != order.id))

    def entries(self, member=None):
        return self.Entry.search([("member_id", "=", (member or self.member).id)], order="id")

    def assertLedgerConsistent(self, member=None):
        member = member or self.member
        entries = self.entries(member)
        member.invalidate_recordset()
        self.assertEqual(member.loyalty_balance, sum(entries.mapped("points")))
        self.assertGreaterEqual(member.loyalty_balance, 0)
        if entries:
            self.assertEqual(entries[-1].balance_after, member.loyalty_balance)

    @staticmethod
    def days_ago(days):
        return fields.Datetime.now() - timedelta(days=days)
