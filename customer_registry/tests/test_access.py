"""Who may do what with members' personal data, as real users through the ORM."""

from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged

from .common import RegistryCase

IDENTITY_OPERATIONS = {
    "read": lambda m, rec: rec.with_env(m.env).read(["legal_name", "email"]),
    "search": lambda m, rec: m.search([("email", "=", "kari@example.com")]),
    "read_group": lambda m, rec: m.formatted_read_group([], ["city"], ["__count"]),
    "export_data": lambda m, rec: rec.with_env(m.env).export_data(["legal_name", "email", "phone"]),
    "name_search": lambda m, rec: m.name_search("Kari"),
    "write": lambda m, rec: rec.with_env(m.env).write({"email": "x@example.com"}),
    "unlink": lambda m, rec: rec.with_env(m.env).unlink(),
}

# Reaching identity fields through the member's res.partner record.
PARTNER_OPERATIONS = {
    "read": lambda p, rec: rec.with_env(p.env).read(["registry_identity_ids"]),
    "search": lambda p, rec: p.search([("registry_identity_ids.email", "=", "kari@example.com")]),
    "read_group": lambda p, rec: p.formatted_read_group([], ["registry_identity_ids"], ["__count"]),
    "export_data": lambda p, rec: rec.with_env(p.env).export_data(["registry_identity_ids/email"]),
}


@tagged("post_install", "-at_install")
class TestPersonalDataAccess(RegistryCase):
    def test_roles_without_personal_data_rights_are_refused_every_operation(self):
        for user in (self.cashier, self.registry_user, self.manager):
            identities = self.env["customer.identity"].with_user(user)
            for operation, call in IDENTITY_OPERATIONS.items():
                with (
                    self.subTest(user=user.login, model="customer.identity", operation=operation),
                    self.assertRaises(AccessError),
                ):
                    call(identities, self.identity)
            partners = self.env["res.partner"].with_user(user)
            for operation, call in PARTNER_OPERATIONS.items():
                with (
                    self.subTest(user=user.login, model="res.partner", operation=operation),
                    self.assertRaises(AccessError),
                ):
                    call(partners, self.member)

    def test_member_partner_shows_no_personal_data(self):
        for user in (self.cashier, self.registry_user, self.manager):
            partner = self.member.with_user(user)
            values = partner.read(["name", "display_name", "email", "phone", "street", "zip", "city", "comment"])[0]
            with self.subTest(user=user.login):
                self.assertEqual(values["name"], self.member.pseudonym)
                self.assertFalse(any(values[f] for f in ("email", "phone", "street", "zip", "city", "comment")))
                self.assertNotIn("Nordmann", str(partner.export_data(["name", "display_name", "email"])["datas"]))
                self.assertFalse(partner.search([("name", "ilike", "Nordmann")]))
                self.assertFalse(partner.search([("email", "=", "kari@example.com")]))
                grouped = partner.formatted_read_group([("is_registry_member", "=", True)], ["city"], ["__count"])
                self.assertNotIn("Bergen", str(grouped))

    def test_registry_users_find_members_by_code(self):
        for user in (self.cashier, self.registry_user):
            Partner = self.env["res.partner"].with_user(user)
            with self.subTest(user=user.login):
                self.assertEqual(Partner.find_by_pseudonym(self.member.pseudonym), self.member)
                self.assertEqual(Partner.search([("pseudonym", "=", self.member.pseudonym)]), self.member)

    def test_personal_data_users_read_and_edit_identities(self):
        identities = self.env["customer.identity"].with_user(self.pii_user)
        identity = self.identity.with_user(self.pii_user)
        self.assertEqual(identity.read(["legal_name"])[0]["legal_name"], "Kari Nordmann")
        self.assertEqual(identities.search([("email", "=", "kari@example.com")]), self.identity)
        self.assertEqual(identities.name_search("Kari")[0][0], self.identity.id)
        self.assertIn("Kari Nordmann", str(identity.export_data(["legal_name"])["datas"]))
        # Grouped by a personal value, the values would come back with no record read to audit.
        with self.assertRaises(UserError):
            identities.formatted_read_group([], ["city"], ["__count"])
        self.assertEqual(self.member.with_user(self.pii_user).registry_identity_ids, self.identity)
        identity.write({"email": "kari.n@example.com"})
        self.assertEqual(self.identity.email, "kari.n@example.com")
        self.assertEqual(
            self.env["res.partner"]
            .with_user(self.pii_user)
            .search([("registry_identity_ids.email", "=", "kari.n@example.com")]),
            self.member,
        )

    def test_personal_data_users_see_their_companies_only(self):
        identities = self.env["customer.identity"].with_user(self.other_pii_user)
        self.assertFalse(identities.search([]))
        with self.assertRaises(AccessError):
            self.identity.with_user(self.other_pii_user).read(["legal_name"])
        with self.assertRaises(AccessError):
            self.identity.with_user(self.other_pii_user).write({"email": "x@example.com"})
        other_member = (
            self.env["res.partner"]
            .with_company(self.other_company)
            .create({"name": "Nils Nilsen", "is_registry_member": True})
        )
        self.assertEqual(identities.search([]), other_member.sudo().registry_identity_ids)
        self.assertFalse(
            self.env["customer.identity"].with_user(self.pii_user).search([("partner_id", "=", other_member.id)])
        )

    def test_consents_follow_company_rules(self):
        consent = self.env["customer.consent"].create({"partner_id": self.member.id, "purpose": "marketing"})
        self.assertEqual(self.env["customer.consent"].with_user(self.registry_user).search([]), consent)
        self.assertFalse(self.env["customer.consent"].with_user(self.other_pii_user).search([]))

    def test_configuration_is_for_managers(self):
        allergen = self.env.ref("customer_registry.allergen_nuts")
        for user in (self.cashier, self.registry_user, self.pii_user):
            with self.subTest(user=user.login), self.assertRaises(AccessError):
                allergen.with_user(user).write({"name": "Tree nuts"})
            with self.subTest(user=user.login), self.assertRaises(AccessError):
                self.env["customer.preference"].with_user(user).create({"name": "Decaf"})
        allergen.with_user(self.manager).write({"name": "Tree nuts"})
        self.env["customer.preference"].with_user(self.manager).create({"name": "Decaf"})
