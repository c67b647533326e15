from odoo.exceptions import AccessError, UserError
from odoo.tests import HttpCase, JsonRpcException, new_test_user, tagged

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
        self.assertEqual(sorted(lookups.mapped("member_codes"), key=bool), [False, self.solveig.pseudonym])
        self.assertEqual(set(lookups.mapped("field_names")), {"phone"})


@tagged("post_install", "-at_install")
class TestFindByContactAccess(HttpCase):
    """Only internal registry users look members up: not portal users, not employees without registry rights."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.enterClassContext(registry_keys([(1, new_key())], [(1, new_key())]))
        cls.member = cls.env["res.partner"].create(
            {"is_registry_member": True, "name": "Pia Qrevportal", "phone": "+4790000001"}
        )

    def test_portal_user_over_http_is_refused(self):
        new_test_user(self.env, "cr_portal_http", groups="base.group_portal")
        self.authenticate("cr_portal_http", "cr_portal_http")
        with self.assertRaises(JsonRpcException) as refused:
            self.make_jsonrpc_request(
                "/web/dataset/call_kw/res.partner/registry_find_by_contact",
                {
                    "model": "res.partner",
                    "method": "registry_find_by_contact",
                    "args": ["+47 900 00 001"],
                    "kwargs": {},
                },
            )
        self.assertIn("AccessError", str(refused.exception))

    def test_plain_employee_is_refused(self):
        employee = new_test_user(self.env, "cr_plain_employee", groups="base.group_user")
        with self.assertRaises(AccessError):
            self.env["res.partner"].with_user(employee).registry_find_by_contact("+4790000001")

    def test_registry_user_finds_and_bad_arguments_get_a_clear_error(self):
        cashier = new_test_user(self.env, "cr_lookup_cashier", groups="base.group_user,point_of_sale.group_pos_user")
        Partner = self.env["res.partner"].with_user(cashier)
        self.assertEqual([row["id"] for row in Partner.registry_find_by_contact("+47 900 00 001")], self.member.ids)
        for value in (["+4790000001"], {"a": 1}, 4790000001):
            with self.assertRaises(UserError, msg=repr(value)):
                Partner.registry_find_by_contact(value)
