from odoo.exceptions import UserError, ValidationError
from odoo.tests import TransactionCase, tagged


@tagged("post_install", "-at_install")
class TestNorwegianBokmal(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["res.lang"]._activate_lang("nb_NO")
        cls.env["ir.module.module"]._load_module_terms(["customer_registry"], ["nb_NO"], overwrite=True)
        cls.nb_env = cls.env(context=dict(cls.env.context, lang="nb_NO"))

    def test_allergens_are_named_in_norwegian(self):
        allergens = self.nb_env["customer.allergen"].search([])
        self.assertEqual(len(allergens), 14)
        self.assertIn("Korn som inneholder gluten", allergens.mapped("name"))
        self.assertEqual(self.nb_env.ref("customer_registry.allergen_milk").name, "Melk")
        self.assertEqual(self.env.ref("customer_registry.allergen_milk").with_context(lang="en_US").name, "Milk")

    def test_errors_speak_norwegian(self):
        with self.assertRaisesRegex(ValidationError, "sifre"):
            self.nb_env["res.partner"].find_by_pseudonym("12a")

    def test_allergen_refusal_speaks_norwegian(self):
        nuts = self.env.ref("customer_registry.allergen_nuts")
        pie = self.env["product.template"].create({"name": "Pecan Pie", "allergen_contains_ids": [(6, 0, nuts.ids)]})
        with self.assertRaisesRegex(ValidationError, "kan ikke både inneholde"), self.env.cr.savepoint():
            pie.with_context(lang="nb_NO").write({"allergen_trace_ids": [(4, nuts.id)]})

    def test_till_speaks_norwegian(self):
        # The till's strings are read from nb.po merged with the .pot: an entry missing from the .pot is lost.
        from odoo.tools.translate import code_translations

        messages = code_translations.get_web_translations("customer_registry", "nb_NO")["messages"]
        translated = {message["id"]: message["string"] for message in messages}
        self.assertEqual(translated.get("Allergen warning"), "Allergenvarsel")
        self.assertEqual(translated.get("Customer was told: keep"), "Kunden er informert: behold")

    def test_order_line_allergen_refusal_speaks_norwegian(self):
        with self.assertRaisesRegex(UserError, "registreres bare av kassens synkronisering"):
            self.nb_env["pos.order.line"].sudo().browse().write({"registry_allergen_confirmed_at": False})
