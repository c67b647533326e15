import json

import psycopg2

from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import new_test_user, tagged
from odoo.tools import mute_logger

from .common import stored_places
from .pos_privacy_common import PosPrivacyCase

CONTACT = {"email": "sigrid.haugland@example.com", "phone": "+47 934 56 781", "zip": "5003"}


@tagged("post_install", "-at_install")
class TestTillMember(PosPrivacyCase):
    """The member at the till: enrollment in one call, the consent wording agreed to, the member panel."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env.user.group_ids |= cls.env.ref("customer_registry.group_registry_manager")
        cls.company = cls.config.company_id
        cls.company.country_id = cls.env.ref("base.no")
        cls.config.registry_enroll_new_customers = True
        # A cashier who may not write contacts at all: enrollment must not need it.
        cls.till_user = new_test_user(
            cls.env,
            "cr_till_member_cashier",
            groups="base.group_user,point_of_sale.group_pos_user",
            company_id=cls.company.id,
            company_ids=[(6, 0, cls.company.ids)],
        )
        Text = cls.env["customer.consent.text"]
        cls.health_text = Text.create(
            {"company_id": cls.company.id, "purpose": "health", "lang": "en_US", "body": "Store my allergies."}
        )
        cls.marketing_text = Text.create(
            {"company_id": cls.company.id, "purpose": "marketing", "lang": "en_US", "body": "Send me offers."}
        )
        cls.other_company = cls.env["res.company"].create({"name": "Other Café AS"})
        cls.other_text = Text.create(
            {"company_id": cls.other_company.id, "purpose": "health", "lang": "en_US", "body": "Other shop."}
        )

    def enroll(self, user=None, **values):
        Partner = self.env["res.partner"].with_user(user or self.till_user)
        return Partner.registry_enroll_at_till(self.config.id, values)

    def counts(self):
        return (
            self.env["res.partner"].sudo().with_context(active_test=False).search_count([]),
            self.env["customer.identity"].sudo().search_count([]),
            self.env["customer.consent"].sudo().search_count([]),
        )

    # Enrollment

    def test_enrollment_puts_contact_data_in_the_vault_only(self):
        member_id = self.enroll(
            greeting_name="Sigrid",
            **CONTACT,
            consent_text_ids=[self.health_text.id, self.marketing_text.id],
        )
        member = self.env["res.partner"].browse(member_id)
        self.assertTrue(member.is_registry_member)
        self.assertEqual((member.name, member.company_id), ("Sigrid", self.company))
        self.assertEqual(member.registry_postal_area, "50")
        identity = member.sudo().registry_identity_ids
        self.assertEqual((identity.email, identity.phone, identity.zip), tuple(CONTACT.values()))
        places = stored_places(self.env, [CONTACT["email"], CONTACT["phone"]])
        self.assertEqual(
            places, {CONTACT["email"]: ["customer_identity.email"], CONTACT["phone"]: ["customer_identity.phone"]}
        )
        consents = member.sudo().registry_consent_ids
        self.assertEqual(
            {(c.purpose, c.text_id, c.recorded_by_id) for c in consents},
            {("health", self.health_text, self.till_user), ("marketing", self.marketing_text, self.till_user)},
        )
        self.assertTrue(member.has_health_consent and member.has_marketing_consent)
        # The cashier reads the member back without its contact data.
        data = member.with_user(self.till_user).read(["name", "email", "phone", "zip"])[0]
        self.assertEqual((data["email"], data["phone"], data["zip"]), (False, False, False))

    def test_enrollment_with_nothing_but_a_postal_code(self):
        member = self.env["res.partner"].browse(self.enroll(zip="0150"))
        self.assertEqual(member.name, member.pseudonym)
        self.assertFalse(member.sudo().registry_consent_ids)
        self.assertEqual(member.sudo().registry_identity_ids.zip, "0150")

    def test_bad_input_is_refused_with_nothing_created(self):
        before = self.counts()
        cases = {
            "no postal code": ({"zip": " "}, "postal code"),
            "malformed postal code": ({"zip": "50A3"}, "four digits"),
            "malformed email": ({"zip": "5003", "email": "sigrid@"}, "email"),
            "malformed phone": ({"zip": "5003", "phone": "ring meg"}, "phone"),
            "too long a name": ({"zip": "5003", "greeting_name": "S" * 41}, "40 characters"),
        }
        for case, (values, message) in cases.items():
            with self.subTest(case), self.assertRaisesRegex(ValidationError, message):
                self.enroll(**values)
        old_version = self.health_text
        self.health_text.sudo().write({"body": "Store my allergies, version two."})
        wrong_texts = {
            "an old wording version": [old_version.id],
            "another company's wording": [self.other_text.id],
            "an unknown wording": [999999999],
        }
        for case, text_ids in wrong_texts.items():
            with self.subTest(case), self.assertRaisesRegex(UserError, "no longer the current"):
                self.enroll(zip="5003", email=CONTACT["email"], consent_text_ids=text_ids)
        self.assertEqual(self.counts(), before)
        self.assertFalse(stored_places(self.env, [CONTACT["email"]]))

    def test_enrollment_needs_a_pos_user(self):
        office_user = new_test_user(self.env, "cr_till_member_office", groups="base.group_user")
        with self.assertRaises(AccessError):
            self.enroll(user=office_user, zip="5003")

    def test_member_card_prints_for_a_member_enrolled_at_the_till(self):
        member = self.env["res.partner"].browse(self.enroll(greeting_name="Sigrid", **CONTACT))
        Report = self.env["ir.actions.report"]
        html = Report._render_qweb_html("customer_registry.action_report_member_card", member.ids)[0].decode()
        self.assertIn(member.pseudonym, html)
        self.assertIn("o_customer_registry_member_card", html)
        for value in (CONTACT["email"], CONTACT["phone"]):
            self.assertNotIn(value, html)
        # The card's barcode (and Odoo's barcode route) draws the code as an EAN-13 symbol.
        self.assertTrue(Report.barcode("EAN13", member.pseudonym).startswith(b"\x89PNG"))

    # Consent wording versions

    def test_editing_a_wording_writes_a_new_version(self):
        member = self.env["res.partner"].browse(self.enroll(zip="5003", consent_text_ids=[self.health_text.id]))
        self.health_text.write({"body": "Store my allergies and diets."})
        versions = self.env["customer.consent.text"].search(
            [("company_id", "=", self.company.id), ("purpose", "=", "health")], order="version"
        )
        self.assertEqual(versions.mapped("version"), [1, 2])
        self.assertEqual(versions.mapped("body"), ["Store my allergies.", "Store my allergies and diets."])
        self.assertEqual(versions.mapped("is_current"), [False, True])
        consent = member.sudo().registry_consent_ids
        self.assertEqual((consent.text_id, consent.text_id.body), (self.health_text, "Store my allergies."))
        with self.assertRaisesRegex(UserError, "keeps its company"):
            self.health_text.write({"purpose": "marketing"})
        with self.assertRaisesRegex(UserError, "new version"):
            self.health_text.unlink()

    @mute_logger("odoo.sql_db")
    def test_wording_versions_are_immutable_in_the_database(self):
        self.env.flush_all()
        for statement in (
            "UPDATE customer_consent_text SET body = 'Changed' WHERE id = %s",
            "UPDATE customer_consent_text SET version = 7 WHERE id = %s",
            "DELETE FROM customer_consent_text WHERE id = %s",
        ):
            with self.subTest(statement), self.assertRaises(psycopg2.Error), self.env.cr.savepoint():
                self.env.cr.execute(statement, [self.health_text.id])
        self.env.cr.execute("SELECT body FROM customer_consent_text WHERE id = %s", [self.health_text.id])
        self.assertEqual(self.env.cr.fetchone()[0], "Store my allergies.")

    @mute_logger("odoo.sql_db")
    def test_a_consent_keeps_a_version_of_its_own_company_and_purpose(self):
        member = self.env["res.partner"].browse(self.enroll(zip="5003", consent_text_ids=[self.health_text.id]))
        consent = member.sudo().registry_consent_ids
        self.env.flush_all()
        for statement, text in (
            ("UPDATE customer_consent SET text_id = %s WHERE id = %s", self.marketing_text),
            ("UPDATE customer_consent SET text_id = NULL WHERE id = %s", None),
        ):
            params = [text.id, consent.id] if text else [consent.id]
            with self.subTest(statement), self.assertRaises(psycopg2.Error), self.env.cr.savepoint():
                self.env.cr.execute(statement, params)
        # A consent given with another purpose's or another company's wording is refused by the database.
        for text in (self.marketing_text, self.other_text):
            with self.subTest(text.display_name), self.assertRaises(psycopg2.Error), self.env.cr.savepoint():
                self.env.cr.execute(
                    """INSERT INTO customer_consent (partner_id, company_id, purpose, given_at, recorded_by_id, text_id)
                       VALUES (%s, %s, 'health', now(), %s, %s)""",
                    [member.id, self.company.id, self.env.uid, text.id],
                )
        with self.assertRaises(UserError):
            consent.write({"text_id": self.marketing_text.id})

    # The member panel

    def panel(self, member, user=None):
        Partner = self.env["res.partner"].with_user(user or self.till_user)
        return Partner.get_registry_loyalty_status(member.id)["panel"]

    def test_panel_shows_the_member_without_contact_data(self):
        member = self.env["res.partner"].browse(
            self.enroll(greeting_name="Sigrid", **CONTACT, consent_text_ids=[self.health_text.id])
        )
        nuts = self.env.ref("customer_registry.allergen_nuts")
        oat = self.env["customer.preference"].create({"name": "Oat milk"})
        member.write(
            {
                "registry_allergen_ids": [(4, nuts.id)],
                "registry_preference_ids": [(4, oat.id)],
                "registry_service_notes": "Likes a window seat",
            }
        )
        self.sync(member, quantity=3)
        self.sync(member, quantity=2)
        panel = self.panel(member)
        self.assertEqual((panel["label"], panel["code"]), ("Sigrid", member.pseudonym))
        self.assertEqual(panel["allergens"], [nuts.name])
        self.assertEqual(panel["preferences"], ["Oat milk"])
        self.assertEqual(panel["service_notes"], "Likes a window seat")
        self.assertEqual([(item["product_id"], item["qty"]) for item in panel["usual_items"]], [(self.product.id, 5)])
        self.assertTrue(panel["last_visit"])
        text = json.dumps(panel)
        for value in CONTACT.values():
            self.assertNotIn(value, text)

    def test_panel_shows_no_health_data_without_consent(self):
        member = self.env["res.partner"].browse(self.enroll(zip="5003", consent_text_ids=[self.health_text.id]))
        member.registry_allergen_ids = self.env.ref("customer_registry.allergen_nuts")
        self.assertTrue(self.panel(member)["allergens"])
        member.sudo().registry_consent_ids.action_withdraw()
        panel = self.panel(member)
        self.assertEqual((panel["allergens"], panel["diets"], panel["health_consent"]), ([], [], False))

    def test_panel_counts_only_the_members_orders_in_its_company(self):
        member = self.env["res.partner"].browse(self.enroll(zip="5003"))
        self.assertEqual((self.panel(member)["usual_items"], self.panel(member)["last_visit"]), ([], False))
        self.sync(member)
        # An order of the same code in another company (as a forged row would be) is not the member's.
        order = self.sync(member, quantity=4)
        self.env.cr.execute("UPDATE pos_order SET company_id = %s WHERE id = %s", [self.other_company.id, order.id])
        self.env["pos.order"].invalidate_model()
        self.assertEqual([item["qty"] for item in self.panel(member)["usual_items"]], [1])

    def test_panel_of_another_companys_member_is_refused(self):
        other_member = (
            self.env["res.partner"]
            .with_company(self.other_company)
            .create({"is_registry_member": True, "company_id": self.other_company.id})
        )
        with self.assertRaises(AccessError):
            self.panel(other_member)

    # What the till loads

    def test_till_loads_the_current_wording_of_its_company(self):
        self.health_text.write({"body": "Store my allergies and diets."})
        data = self.pos_session.with_user(self.cashier).load_data([])
        texts = {(text["purpose"], text["version"], text["body"]) for text in data["customer.consent.text"]}
        self.assertEqual(texts, {("health", 2, "Store my allergies and diets."), ("marketing", 1, "Send me offers.")})

    # What an outside review found: each case below was accepted, or crashed, before it was fixed.

    # The greeting name: the label every till loads

    @mute_logger("odoo.sql_db")
    def test_greeting_name_cannot_hold_contact_data_or_a_card_code(self):
        other = self.env["res.partner"].browse(self.enroll(zip="5003"))
        before = self.counts()
        contact = {"email": "sigrid.h@example.com", "phone": "+47 934 56 781"}
        for greeting in ("sigrid.h@example.com", "Sigrid@home", "+47 934 56 781", "93456781", other.pseudonym):
            with self.subTest(greeting), self.assertRaisesRegex(ValidationError, "every cashier"):
                self.enroll(zip="5003", greeting_name=greeting, **contact)
        self.assertEqual(self.counts(), before)
        self.assertFalse(stored_places(self.env, ["sigrid.h@example.com"]))
        # The backend's form and imports keep the same rule.
        with self.assertRaisesRegex(ValidationError, "every cashier"):
            self.env["res.partner"].create(
                {"is_registry_member": True, "registry_greeting_name": "Sigrid 93456781", "phone": "93456781"}
            )
        member = self.env["res.partner"].browse(self.enroll(zip="5003", greeting_name="Sigrid", **contact))
        with self.assertRaisesRegex(ValidationError, "every cashier"):
            member.write({"registry_greeting_name": "Sigrid H 934 56 781"})
        # The database compares the label with the identity's email and phone too, whatever writes it.
        self.env.flush_all()
        for label in ("sigrid.h@example.com", "Sigrid 934 56 781"):
            with self.subTest(label), self.assertRaises(psycopg2.Error), self.env.cr.savepoint():
                self.env.cr.execute(
                    "UPDATE res_partner SET registry_greeting_name = %s, name = %s WHERE id = %s",
                    [label, label, member.id],
                )
        self.env.cr.execute("SELECT name FROM res_partner WHERE id = %s", [member.id])
        self.assertEqual(self.env.cr.fetchone()[0], "Sigrid")

    @mute_logger("odoo.sql_db")
    def test_identity_written_later_cannot_match_the_greeting_name(self):
        member = self.env["res.partner"].browse(self.enroll(zip="5003", greeting_name="Sigrid Haugland"))
        identity = member.sudo().registry_identity_ids
        with self.assertRaisesRegex(ValidationError, "legal name"):
            identity.with_user(self.pii_user).write({"legal_name": "Sigrid Haugland"})
        self.env.flush_all()
        for value in ("sigrid haugland", "Haugland"):
            with self.subTest(value), self.assertRaises(psycopg2.Error), self.env.cr.savepoint():
                self.env.cr.execute("UPDATE customer_identity SET legal_name = %s WHERE id = %s", [value, identity.id])
        numbered = self.env["res.partner"].browse(self.enroll(zip="5003", greeting_name="Ola"))
        self.env.cr.execute(
            "UPDATE res_partner SET registry_greeting_name = 'Ola 93456', name = 'Ola 93456' WHERE id = %s",
            [numbered.id],
        )
        with self.assertRaises(psycopg2.Error), self.env.cr.savepoint():
            self.env.cr.execute(
                "UPDATE customer_identity SET phone = '934 56 781' WHERE partner_id = %s", [numbered.id]
            )
        identity.invalidate_recordset()
        self.assertFalse(identity.legal_name)

    # Consents: the wording agreed to is the current one

    @mute_logger("odoo.sql_db")
    def test_a_new_consent_is_given_to_the_current_wording_only(self):
        old = self.health_text
        old.write({"body": "Store my allergies, version two."})
        member = self.env["res.partner"].browse(self.enroll(zip="5003"))
        Consent = self.env["customer.consent"].with_user(self.till_user)
        with self.assertRaisesRegex(UserError, "no longer the current"):
            Consent.create({"partner_id": member.id, "purpose": "health", "text_id": old.id})
        self.env.flush_all()
        with self.assertRaises(psycopg2.Error), self.env.cr.savepoint():
            self.env.cr.execute(
                """INSERT INTO customer_consent (partner_id, company_id, purpose, given_at, recorded_by_id, text_id)
                   VALUES (%s, %s, 'health', now(), %s, %s)""",
                [member.id, self.company.id, self.env.uid, old.id],
            )
        self.assertFalse(member.sudo().registry_consent_ids)
        current = self.env["customer.consent.text"].search(
            [("company_id", "=", self.company.id), ("purpose", "=", "health"), ("is_current", "=", True)]
        )
        consent = Consent.create({"partner_id": member.id, "purpose": "health", "text_id": current.id})
        self.assertEqual(consent.text_id.body, "Store my allergies, version two.")

    @mute_logger("odoo.sql_db")
    def test_wordings_and_consents_cannot_be_truncated(self):
        self.enroll(zip="5003", consent_text_ids=[self.health_text.id])
        self.env.flush_all()
        for statement in ("TRUNCATE customer_consent_text CASCADE", "TRUNCATE customer_consent"):
            with self.subTest(statement), self.assertRaises(psycopg2.Error), self.env.cr.savepoint():
                self.env.cr.execute(statement)
        self.env.cr.execute("SELECT count(*) FROM customer_consent_text WHERE id = %s", [self.health_text.id])
        self.assertEqual(self.env.cr.fetchone()[0], 1)

    def test_wording_language_is_one_odoo_knows(self):
        with self.assertRaisesRegex(ValidationError, "not a language"):
            self.env["customer.consent.text"].create(
                {"company_id": self.company.id, "purpose": "marketing", "lang": "xx_XX", "body": "Bogus"}
            )

    # Enrollment: the till's setting, its session, bad input

    def test_enrollment_follows_the_tills_setting_and_needs_an_open_session(self):
        before = self.counts()
        self.config.registry_enroll_new_customers = False
        with self.assertRaisesRegex(UserError, "does not enroll"):
            self.enroll(zip="5003")
        self.config.registry_enroll_new_customers = True
        closed_till = self.env["pos.config"].create({"name": "Till without a session"})
        with self.assertRaisesRegex(UserError, "open session"):
            self.env["res.partner"].with_user(self.till_user).registry_enroll_at_till(closed_till.id, {"zip": "5003"})
        self.assertEqual(self.counts(), before)

    def test_bad_types_and_unknown_keys_get_a_clear_error(self):
        before = self.counts()
        cases = {
            "values as a list": ["5003"],
            "values as a string": "5003",
            "postal code as a number": {"zip": 5003},
            "postal code as a list": {"zip": ["5003"]},
            "greeting name as a number": {"zip": "5003", "greeting_name": 7},
            "greeting name as a dict": {"zip": "5003", "greeting_name": {"a": 1}},
            "email as a number": {"zip": "5003", "email": 5},
            "phone as a number": {"zip": "5003", "phone": 93456781},
            "phone as a list": {"zip": "5003", "phone": ["93456781"]},
            "consent True": {"zip": "5003", "consent_text_ids": [True]},
            "consents as a string": {"zip": "5003", "consent_text_ids": "1"},
            "consent id out of range": {"zip": "5003", "consent_text_ids": [2**40]},
            "unknown keys": {"zip": "5003", "name": "Sigrid Haugland", "street": "Storgata 1", "vat": "1"},
        }
        for case, values in cases.items():
            with self.subTest(case), self.assertRaises(ValidationError):
                self.env["res.partner"].with_user(self.till_user).registry_enroll_at_till(self.config.id, values)
        with self.assertRaisesRegex(ValidationError, "not kept: birthdate, name, street, vat"):
            self.enroll(zip="5003", name="Sigrid Haugland", street="Storgata 1", vat="1", birthdate="1990-01-01")
        for config_id in ("1", [self.config.id], False):
            with self.subTest(config_id=config_id), self.assertRaises(ValidationError):
                self.env["res.partner"].with_user(self.till_user).registry_enroll_at_till(config_id, {"zip": "5003"})
        member = self.env["res.partner"].browse(self.enroll(zip="5003"))
        Partner = self.env["res.partner"].with_user(self.till_user)
        for partner_id in ([member.id, member.id], "x", 10**12):
            with self.subTest(partner_id=partner_id), self.assertRaises(ValidationError):
                Partner.get_registry_loyalty_status(partner_id)
        self.assertEqual(self.counts()[1:], (before[1] + 1, before[2]))

    def test_sizes_and_characters_are_limited(self):
        before = self.counts()
        cases = {
            "a megabyte of email": ({"email": "a" * 1_000_000 + "@example.com"}, "254 characters"),
            "an email of 300 characters": ({"email": "a" * 300 + "@example.com"}, "254 characters"),
            "a megabyte of spaces in a phone": ({"phone": "9345" + " " * 1_000_000 + "6781"}, "phone number"),
            "brackets and dashes": ({"phone": "(((((((93456781)))))))----"}, "phone number"),
            "digits of another script": ({"phone": "934٥٦٧٨١"}, "phone number"),
            "a NUL in an email": ({"email": "sigrid\x00@example.com"}, "email address"),
            "a phone of 30 characters": ({"phone": "+47 9 3 4 5 6 7 8 1 2 3 4 5 6"}, "phone number"),
            "only zero-width spaces": ({"greeting_name": "\u200b" * 40}, "letters that show"),
            "a zero-width space in a name": ({"greeting_name": "Ola\u200b"}, "letters that show"),
            "control characters": ({"greeting_name": "Ola\n\x00"}, "letters that show"),
        }
        for case, (values, message) in cases.items():
            with self.subTest(case), self.assertRaisesRegex(ValidationError, message):
                self.enroll(zip="5003", **values)
        self.assertEqual(self.counts(), before)
        for phone, stored in (("(22)  12-34-56", "(22) 12-34-56"), ("+47 (0) 934 56 781", "+47 (0) 934 56 781")):
            member = self.env["res.partner"].browse(self.enroll(zip="5003", phone=phone, greeting_name="Åse"))
            self.assertEqual((member.name, member.sudo().registry_identity_ids.phone), ("Åse", stored))

    # The panel

    def test_panel_needs_registry_rights(self):
        member = self.env["res.partner"].browse(self.enroll(zip="5003", greeting_name="Sigrid"))
        contacts_user = new_test_user(
            self.env,
            "cr_till_member_contacts",
            groups="base.group_user,base.group_partner_manager",
            company_id=self.company.id,
            company_ids=[(6, 0, self.company.ids)],
        )
        with self.assertRaisesRegex(AccessError, "registry users"):
            self.env["res.partner"].with_user(contacts_user).get_registry_loyalty_status(member.id)
        registry_user = new_test_user(
            self.env,
            "cr_till_member_registry",
            groups="base.group_user,customer_registry.group_registry_user",
            company_id=self.company.id,
            company_ids=[(6, 0, self.company.ids)],
        )
        panel = self.env["res.partner"].with_user(registry_user).get_registry_loyalty_status(member.id)["panel"]
        self.assertEqual(panel["label"], "Sigrid")
