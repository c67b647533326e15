"""The till's allergen warning in Chromium: contains, traces for a severe member, member set after the products,
remove and confirm; the confirmation synced and stored on the order line."""

from odoo import Command
from odoo.tests import tagged

from odoo.addons.point_of_sale.tests.test_frontend import TestPointOfSaleHttpCommon


class AllergenTourCommon(TestPointOfSaleHttpCommon):
    """Nora is allergic to nuts (severe: traces too) and milk, with a health consent."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.nuts = cls.env.ref("customer_registry.allergen_nuts")
        cls.milk = cls.env.ref("customer_registry.allergen_milk")
        gluten = cls.env.ref("customer_registry.allergen_gluten")
        sesame = cls.env.ref("customer_registry.allergen_sesame")
        Product = cls.env["product.product"]
        untaxed = {"available_in_pos": True, "taxes_id": [Command.clear()]}
        cls.pie = Product.create(
            {
                **untaxed,
                "name": "Pecan Pie",
                "list_price": 60.0,
                "allergen_contains_ids": [Command.set((cls.nuts | gluten | cls.milk).ids)],
                "allergen_trace_ids": [Command.set(sesame.ids)],
            }
        )
        cls.croissant = Product.create(
            {
                **untaxed,
                "name": "Butter Croissant",
                "list_price": 35.0,
                "allergen_contains_ids": [Command.set((cls.milk | gluten).ids)],
            }
        )
        cls.biscuit = Product.create(
            {**untaxed, "name": "Havrekjeks", "list_price": 20.0, "allergen_trace_ids": [Command.set(cls.nuts.ids)]}
        )
        cls.bun = Product.create(
            {**untaxed, "name": "Kanelbolle", "list_price": 36.0, "allergen_contains_ids": [Command.set(gluten.ids)]}
        )
        cls.nora = cls.env["res.partner"].create(
            {"name": "Nora Nøttestad", "registry_greeting_name": "Nora", "is_registry_member": True}
        )
        cls.env["customer.consent"].create({"partner_id": cls.nora.id, "purpose": "health"})
        cls.nora.write(
            {
                "registry_allergen_ids": [Command.set((cls.nuts | cls.milk).ids)],
                "registry_severe_allergen_ids": [Command.set(cls.nuts.ids)],
            }
        )

    def last_order(self):
        # Sudo: the allergen warnings of order lines are for registry administrators.
        return (
            self.env["pos.order"].sudo().search([("config_id", "=", self.main_pos_config.id)], order="id desc", limit=1)
        )

    def run_contains_tour(self):
        self.main_pos_config.with_user(self.pos_user).open_ui()
        self.start_pos_tour("customer_registry_allergen_contains_tour")
        order = self.last_order()
        self.assertEqual(order.partner_id, self.nora)
        self.assertEqual(order.lines.product_id, self.croissant, "the Pecan Pie was removed")
        self.assertRecordValues(
            order.lines,
            [
                {
                    "registry_allergen_confirmed_ids": self.milk.ids,
                    "registry_allergen_unconfirmed_ids": [],
                    "registry_allergen_confirmed_by_id": self.pos_user.id,
                }
            ],
        )
        self.assertTrue(order.lines.registry_allergen_confirmed_at)


@tagged("post_install", "-at_install")
class TestAllergenTourTablet(AllergenTourCommon):
    browser_size = "768x1024"

    def test_contains_remove_then_confirm_and_the_confirmation_is_stored(self):
        self.run_contains_tour()


@tagged("post_install", "-at_install")
class TestAllergenTourPhone(AllergenTourCommon):
    browser_size = "390x844"

    def test_traces_for_a_severe_member_set_after_the_products(self):
        self.main_pos_config.with_user(self.pos_user).open_ui()
        self.start_pos_tour("customer_registry_allergen_traces_tour")
        order = self.last_order()
        biscuit_line = order.lines.filtered(lambda line: line.product_id == self.biscuit)
        self.assertRecordValues(
            biscuit_line,
            [{"registry_allergen_confirmed_ids": self.nuts.ids, "registry_allergen_confirmed_by_id": self.pos_user.id}],
        )
        self.assertFalse((order.lines - biscuit_line).registry_allergen_confirmed_ids)
        self.assertFalse(order.lines.registry_allergen_unconfirmed_ids)


@tagged("post_install", "-at_install")
class TestAllergenTourDesktop(AllergenTourCommon):
    def test_product_info_shows_allergens(self):
        self.main_pos_config.with_user(self.pos_user).open_ui()
        self.start_pos_tour("customer_registry_allergen_product_info_tour")
