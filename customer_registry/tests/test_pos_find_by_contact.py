from odoo.tests import tagged

from odoo.addons.point_of_sale.tests.test_frontend import TestPointOfSaleHttpCommon

from .sealing_common import new_key, registry_keys


@tagged("post_install", "-at_install")
class TestPosFindByContact(TestPointOfSaleHttpCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.enterClassContext(registry_keys([(1, new_key())], [(1, new_key())]))
        Partner = cls.env["res.partner"]
        cls.solveig = Partner.create(
            {
                "is_registry_member": True,
                "name": "Solveig Qforgot",
                "registry_greeting_name": "Solveig",
                "phone": "+47 48 12 34 56",
                "email": "solveig@example.com",
            }
        )

    def test_forgot_card_tour(self):
        self.main_pos_config.with_user(self.pos_user).open_ui()
        self.start_pos_tour("customer_registry_forgot_card_tour")
        lookups = self.env["customer.identity.audit"].sudo().search([("channel", "=", "lookup")])
        self.assertEqual(sorted(lookups.mapped("pseudonym"), key=bool), [False, self.solveig.pseudonym])
        self.assertEqual(set(lookups.mapped("field_names")), {"phone"})
