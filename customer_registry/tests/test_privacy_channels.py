"""A member's personal data reaches nobody without the right, through any Odoo channel.

Real users (a cashier, a cashier without contact rights, a registry user, a
personal-data user of another company, a portal user) try every ordinary
path around `customer.identity`: nested reads through every relational field,
domains through every relational path, grouping, export, name search,
chatter, POS load data and customer search, order fields, invoices, merges,
the segment export, and writes through the partner.
"""

import json

import psycopg2

from odoo import Command
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import new_test_user, tagged
from odoo.tools import mute_logger

from odoo.addons.mail.tools.discuss import Store

from .common import EXPORT, RegistryCase

# Kari's personal values (tests/common.py), as they could show up in any answer.
KARI = ("Kari Nordmann", "Nordmann", "kari@example.com", "912 34 567", "Storgata 1", "Met at the opening")
RELATIONAL = ("many2one", "one2many", "many2many")


def leaks(data, values=KARI):
    text = json.dumps(data, default=str)
    return [value for value in values if value in text]


@tagged("post_install", "-at_install")
class TestPrivacyChannels(RegistryCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        companies = {"company_id": cls.company.id, "company_ids": [(6, 0, cls.company.ids)]}
        other = {"company_id": cls.other_company.id, "company_ids": [(6, 0, cls.other_company.ids)]}
        cls.plain_cashier = new_test_user(
            cls.env, "cr_plain_cashier", groups="base.group_user,point_of_sale.group_pos_user", **companies
        )
        cls.portal = new_test_user(cls.env, "cr_portal", groups="base.group_portal", **companies)
        cls.other_registry_user = new_test_user(
            cls.env, "cr_other_registry", groups=f"{EXPORT},customer_registry.group_registry_user", **other
        )
        cls.other_cashier = new_test_user(
            cls.env,
            "cr_other_cashier",
            groups=f"{EXPORT},base.group_partner_manager,point_of_sale.group_pos_user",
            **other,
        )
        # The member has a profile, consents and a chatter, so every relational path has something.
        cls.env["customer.consent"].create(
            [{"partner_id": cls.member.id, "purpose": p} for p in ("health", "marketing")]
        )
        cls.member.write(
            {
                "registry_allergen_ids": [Command.link(cls.env.ref("customer_registry.allergen_nuts").id)],
                "registry_service_notes": "Likes the window table",
            }
        )
        cls.member.message_post(body="Asked for oat milk")
        cls.readers = (cls.cashier, cls.plain_cashier, cls.registry_user, cls.manager)

    def commit_like(self):
        self.env.flush_all()
        self.env.cr.precommit.run()

    # Reads

    def nested_specification(self, model, depth=2):
        """A web_read specification through every relational field, `depth` levels deep."""
        specification = {}
        for name, field in self.env[model]._fields.items():
            if field.type in RELATIONAL and depth > 0 and field.comodel_name in self.env:
                specification[name] = {"fields": self.nested_specification(field.comodel_name, depth - 1)}
            elif field.type not in ("binary", "properties", "properties_definition", "json") and not field.groups:
                specification[name] = {}
        return specification

    def readable_specification(self, user, model, depth=2):
        """The nested specification without what `user` may not read at all (Odoo refuses it whole)."""
        env = self.env(user=user)
        specification = {}
        for name, sub in self.nested_specification(model, depth).items():
            field = env[model]._fields[name]
            if not env[model]._has_field_access(field, "read"):
                continue
            if "fields" in sub:
                if not env[field.comodel_name].has_access("read"):
                    continue
                sub = {"fields": self.readable_specification(user, field.comodel_name, depth - 1)}
            specification[name] = sub
        return specification

    def test_nested_reads_through_every_relational_field_hold_no_personal_data(self):
        for user in self.readers:
            partner = self.member.with_user(user)
            specification = self.readable_specification(user, "res.partner")
            with self.subTest(user=user.login):
                read_fields = 0
                for name, sub in specification.items():
                    try:
                        data = [partner.read([name]), partner.search_read([("id", "=", self.member.id)], [name])]
                        data.append(partner.web_read({name: sub}))
                        found = partner.web_search_read([("id", "=", self.member.id)], {name: sub})
                    except AccessError:
                        continue  # refused whole: nothing reached the user
                    read_fields += 1
                    self.assertFalse(leaks(data), f"{user.login} read personal data through {name}")
                    self.assertFalse(leaks(found), f"{user.login} read personal data through {name}")
                self.assertGreater(read_fields, 50, "the user read the member through most fields")

    def test_domains_through_every_relational_path_do_not_find_the_member(self):
        Partner = self.env["res.partner"]
        paths = [name for name, field in Partner._fields.items() if field.type in ("char", "text", "html")]
        for name, field in Partner._fields.items():
            if field.type in RELATIONAL and field.comodel_name in self.env and field.store:
                comodel = self.env[field.comodel_name]
                paths += [
                    f"{name}.{sub}"
                    for sub, subfield in comodel._fields.items()
                    if subfield.type in ("char", "text", "html") and (subfield.store or subfield.search)
                ]
        for user in (self.cashier, self.registry_user):
            Partner = self.env["res.partner"].with_user(user)
            for path in paths:
                for value in ("kari@example.com", "Nordmann", "Storgata"):
                    try:
                        found = Partner.search([(path, "ilike", value)])
                        # Paths that match whatever the value (e.g. a display name without a name
                        # field) tell nothing about the member's data.
                        found -= Partner.search([(path, "ilike", "zz-no-such-value")])
                    except (AccessError, UserError, ValueError):
                        continue  # refused, or not searchable that way: nothing found either
                    self.assertNotIn(self.member, found, f"{user.login} found the member by {path} ilike {value}")

    def test_grouping_export_and_name_search_hold_no_personal_data(self):
        Partner = self.env["res.partner"]
        groupable = [
            name
            for name, field in Partner._fields.items()
            if field.store and field.type in ("char", "many2one", "selection") and not field.groups
        ]
        for user in self.readers:
            partners = Partner.with_user(user)
            with self.subTest(user=user.login):
                for name in groupable:
                    try:
                        grouped = partners.formatted_read_group([("id", "=", self.member.id)], [name], ["__count"])
                    except (AccessError, ValueError):
                        continue
                    self.assertFalse(leaks(grouped), name)
                self.assertFalse(partners.name_search("Nordmann"))
                self.assertFalse(leaks(partners.name_search(self.member.pseudonym)))

    def test_portal_users_reach_no_member(self):
        partners = self.env["res.partner"].with_user(self.portal)
        self.assertFalse(partners.search([("is_registry_member", "=", True)]))
        self.assertFalse(partners.name_search(self.member.pseudonym))
        with self.assertRaises(AccessError):
            self.member.with_user(self.portal).read(["name", "registry_service_notes"])
        with self.assertRaises(AccessError):
            self.identity.with_user(self.portal).read(["email"])

    def test_child_contacts_of_a_member_are_refused(self):
        for contact_type in ("invoice", "delivery", "contact"):
            with self.subTest(type=contact_type), self.assertRaisesRegex(UserError, "no child contacts"):
                self.env["res.partner"].with_user(self.cashier).create(
                    {"name": "Kari Invoice", "type": contact_type, "parent_id": self.member.id, "email": "k@x.no"}
                )
        child = self.env["res.partner"].create({"name": "Kari Delivery", "street": "Elsewhere 2"})
        with self.assertRaisesRegex(UserError, "no child contacts"):
            child.write({"parent_id": self.member.id})
        # Through SQL too: the database refuses the link.
        with (
            self.assertRaises(psycopg2.errors.CheckViolation),
            mute_logger("odoo.sql_db"),
            self.env.cr.savepoint(),
        ):
            self.env.cr.execute("UPDATE res_partner SET parent_id = %s WHERE id = %s", [self.member.id, child.id])
        self.assertEqual(self.identity.street, "Storgata 1", "the identity's address was not overwritten")
        # A contact with child contacts cannot be enrolled either.
        company_contact = self.env["res.partner"].create(
            {"name": "Hansen", "child_ids": [Command.create({"name": "x"})]}
        )
        with self.assertRaisesRegex(UserError, "child contacts"):
            company_contact.write({"is_registry_member": True})

    def test_chatter_of_an_enrolled_contact_holds_no_old_address(self):
        contact = self.env["res.partner"].create({"name": "Eva Lund", "street": "Gamleveien 3", "city": "Moss"})
        self.commit_like()
        contact.write({"street": "Nyveien 9", "email": "eva@example.com"})
        self.commit_like()
        tracking = self.env["mail.tracking.value"].search([("mail_message_id.res_id", "=", contact.id)])
        self.assertIn("Gamleveien", str(tracking.mapped("old_value_char")), "mail tracked the address")
        contact.write({"is_registry_member": True})
        self.commit_like()
        values = ("Eva Lund", "Gamleveien", "Nyveien", "eva@example.com", "Moss")
        for user in self.readers:
            partner = contact.with_user(user)
            with self.subTest(user=user.login):
                # What the chatter shows (the /mail/thread/messages route): bodies and tracking values.
                fetched = self.env["mail.message"].with_user(user)._message_fetch(domain=None, thread=partner)
                self.assertFalse(leaks(Store().add(fetched["messages"]).get_result(), values))
                messages = self.env["mail.message"].with_user(user)
                domain = [("model", "=", "res.partner"), ("res_id", "=", contact.id)]
                self.assertFalse(leaks(messages.search_read(domain, ["body", "subject", "email_from"]), values))
                self.assertFalse(messages.search([*domain, ("body", "ilike", "Gamleveien")]))
        self.env.cr.execute(
            "SELECT count(*) FROM mail_tracking_value v JOIN mail_message m ON m.id = v.mail_message_id "
            "WHERE m.res_id = %s AND m.model = 'res.partner'",
            [contact.id],
        )
        self.assertEqual(self.env.cr.fetchone()[0], 0)

    # Membership decided after defaults

    def test_members_created_through_a_context_default(self):
        Partner = self.env["res.partner"].with_user(self.pii_user).with_context(default_is_registry_member=True)
        created = Partner.create({"name": "Default Dagny", "email": "dagny@example.com", "city": "Hamar"})
        named_id, _label = Partner.name_create("Name Create Nils <nils@example.com>")
        named = self.env["res.partner"].browse(named_id)
        for partner, legal_name, email in (
            (created, "Default Dagny", "dagny@example.com"),
            (named, "Name Create Nils", "nils@example.com"),
        ):
            with self.subTest(partner=legal_name):
                self.assertTrue(partner.is_registry_member)
                self.assertTrue(partner.pseudonym)
                self.assertEqual(partner.name, partner.pseudonym)
                self.assertFalse(partner.email or partner.city)
                self.assertRecordValues(
                    partner.sudo().registry_identity_ids, [{"legal_name": legal_name, "email": email}]
                )
        created.write({"email": "dagny.new@example.com", "phone": "+47 1234"})
        self.assertFalse(created.email or created.phone)
        self.assertEqual(created.sudo().registry_identity_ids.email, "dagny.new@example.com")

    def test_import_without_the_member_column_under_a_member_default(self):
        wizard = self.env["base_import.import"].create(
            {
                "res_model": "res.partner",
                "file": b"name,email,city\nImported Ida,ida@example.com,Bodo\n",
                "file_type": "text/csv",
                "file_name": "members.csv",
            }
        )
        result = wizard.with_context(default_is_registry_member=True).execute_import(
            ["name", "email", "city"], [], {"quoting": '"', "separator": ",", "has_headers": True}
        )
        self.assertFalse(result["messages"], result["messages"])
        member = self.env["res.partner"].browse(result["ids"])
        self.assertTrue(member.pseudonym)
        self.assertFalse(member.email or member.city)
        self.assertEqual(member.sudo().registry_identity_ids.legal_name, "Imported Ida")

    def test_personal_values_given_as_context_defaults_go_to_the_identity(self):
        member = (
            self.env["res.partner"]
            .with_context(default_is_registry_member=True, default_email="ctx@example.com", default_city="Vik")
            .create({"name": "Context Carl"})
        )
        self.assertFalse(member.email or member.city)
        self.assertRecordValues(member.sudo().registry_identity_ids, [{"email": "ctx@example.com", "city": "Vik"}])

    def test_a_half_member_cannot_exist_in_the_database(self):
        for statement in (
            "UPDATE res_partner SET email = 'leak@example.com' WHERE id = %(member)s",
            "UPDATE res_partner SET name = 'Kari Nordmann' WHERE id = %(member)s",
            "UPDATE res_partner SET is_registry_member = true WHERE id = %(plain)s",
            "UPDATE res_partner SET pseudonym = 'not-a-code' WHERE id = %(plain)s",
            "UPDATE res_partner SET company_id = %(other)s WHERE id = %(member)s",
            "UPDATE res_partner SET is_registry_member = false WHERE id = %(member)s",
        ):
            plain = self.env["res.partner"].create({"name": "Plain Paul"})
            params = {"member": self.member.id, "plain": plain.id, "other": self.other_company.id}
            with (
                self.subTest(statement=statement),
                self.assertRaises(psycopg2.errors.CheckViolation),
                mute_logger("odoo.sql_db"),
                self.env.cr.savepoint(),
            ):
                self.env.cr.execute(statement, params)
        # A member without identity is refused at commit.
        with (
            self.assertRaises(psycopg2.errors.CheckViolation),
            mute_logger("odoo.sql_db"),
            self.env.cr.savepoint(),
        ):
            self.env.cr.execute("DELETE FROM customer_identity WHERE partner_id = %s", [self.member.id])
            self.env.cr.execute("SET CONSTRAINTS customer_registry_member_has_identity IMMEDIATE")

    def test_pseudonym_is_only_a_valid_code_on_a_member(self):
        plain = self.env["res.partner"].create({"name": "Plain Paula"})
        with self.assertRaises(UserError):
            plain.write({"pseudonym": "not-a-code"})
        self.assertFalse(plain.pseudonym)

    # Writes through the partner

    def test_writes_through_the_partner_need_the_right_to_write_it(self):
        member = self.member.with_user(self.plain_cashier)
        self.assertFalse(self.env["res.partner"].with_user(self.plain_cashier).has_access("write"))
        for vals in ({"name": "Hacked"}, {"email": "hacked@example.com"}, {"street": "Hackerveien 1"}):
            with self.subTest(vals=vals), self.assertRaises(AccessError):
                member.write(vals)
        with self.assertRaises(AccessError):
            self.member.with_user(self.other_cashier).write({"email": "other@example.com"})
        self.assertRecordValues(
            self.identity, [{"legal_name": "Kari Nordmann", "email": "kari@example.com", "street": "Storgata 1"}]
        )

    # Companies

    def test_a_member_belongs_to_the_company_that_enrolled_it(self):
        self.assertEqual(self.member.company_id, self.company)
        self.assertEqual(self.identity.company_id, self.company)
        with self.assertRaises(UserError):
            self.member.write({"company_id": self.other_company.id})
        for user in (self.other_registry_user, self.other_cashier, self.other_pii_user):
            partners = self.env["res.partner"].with_user(user)
            with self.subTest(user=user.login):
                self.assertFalse(partners.search([("id", "=", self.member.id)]))
                with self.assertRaises(AccessError):
                    self.member.with_user(user).read(["registry_allergen_ids", "registry_service_notes"])
                self.assertFalse(
                    self.env["customer.consent"].with_user(user).search([("partner_id", "=", self.member.id)])
                )
                with self.assertRaises(AccessError):
                    self.member.with_user(user).write({"name": "Renamed", "email": "b@example.com"})
        self.assertEqual(self.identity.legal_name, "Kari Nordmann")

    def test_consents_are_given_to_the_member_company(self):
        consent = (
            self.env["customer.consent"]
            .with_company(self.other_company)
            .create({"partner_id": self.member.id, "purpose": "marketing"})
        )
        self.assertEqual(consent.company_id, self.company)

    def test_segment_export_stays_in_the_segment_company(self):
        other_member = (
            self.env["res.partner"]
            .with_company(self.other_company)
            .create({"name": "Bodil B", "email": "bodil@example.com", "is_registry_member": True})
        )
        self.assertEqual(other_member.company_id, self.other_company)
        self.env["customer.consent"].create({"partner_id": other_member.id, "purpose": "marketing"})
        segment = self.env["customer.segment"].create({"name": "All", "company_id": self.company.id})
        emails, _left_out = segment.with_user(self.pii_user)._mailing_recipients()
        self.assertEqual(set(emails.values()), {"kari@example.com"})

    # Display names and access errors

    def test_identity_display_name_and_access_errors_show_no_legal_name(self):
        self.assertNotIn("Nordmann", self.identity.display_name)
        self.assertIn(self.member.pseudonym, self.identity.display_name)
        debug_user = new_test_user(
            self.env,
            "cr_debug_other",
            groups="base.group_user,base.group_no_one,customer_registry.group_registry_pii",
            company_id=self.other_company.id,
            company_ids=[(6, 0, self.other_company.ids)],
        )
        with self.assertRaises(AccessError) as refused:
            self.identity.with_user(debug_user).read(["email"])
        self.assertNotIn("Nordmann", str(refused.exception))

    # Wrong partners

    def test_enrolling_users_and_companies_is_refused(self):
        for partner in (self.portal.partner_id, self.cashier.partner_id, self.company.partner_id):
            before = (partner.name, partner.email)
            with self.subTest(partner=partner.name), self.assertRaises(UserError):
                partner.write({"is_registry_member": True})
            self.assertFalse(partner.pseudonym)
            self.assertEqual((partner.name, partner.email), before)
        with (
            self.assertRaises(psycopg2.errors.CheckViolation),
            mute_logger("odoo.sql_db"),
            self.env.cr.savepoint(),
        ):
            self.env.cr.execute("UPDATE res_users SET partner_id = %s WHERE id = %s", [self.member.id, self.portal.id])

    def test_invoices_for_a_member_are_refused(self):
        with self.assertRaisesRegex(ValidationError, "pseudonymous"):
            self.env["account.move"].create({"move_type": "out_invoice", "partner_id": self.member.id})

    def test_merging_members_is_refused(self):
        other = self.env["res.partner"].create({"name": "Kari N.", "is_registry_member": True})
        wizard = self.env["base.partner.merge.automatic.wizard"].create({})
        with self.assertRaisesRegex(UserError, "cannot be merged"):
            wizard._merge((self.member | other).ids, self.member)
        self.assertEqual(self.identity.legal_name, "Kari Nordmann")
        self.assertTrue(other.sudo().registry_identity_ids.exists())

    # Consents

    def test_a_withdrawal_is_set_once_by_the_withdraw_action(self):
        consent = self.member.registry_consent_ids.filtered(lambda c: c.purpose == "marketing")
        with self.assertRaises(UserError):
            consent.write({"withdrawn_at": "2020-01-01 00:00:00"})
        consent.action_withdraw()
        self.assertFalse(consent.is_valid)
        with self.assertRaises(UserError):
            consent.write({"withdrawn_at": False})
        with (
            self.assertRaises(psycopg2.errors.CheckViolation),
            mute_logger("odoo.sql_db"),
            self.env.cr.savepoint(),
        ):
            self.env.cr.execute("UPDATE customer_consent SET withdrawn_at = NULL WHERE id = %s", [consent.id])
        consent.invalidate_recordset()
        self.assertFalse(consent.is_valid)
        self.assertFalse(self.member.has_marketing_consent)

    # Upgrades from 19.0.1.0.0

    def test_upgrade_repairs_members_stored_by_the_previous_version(self):
        from ..models.registry_sql import repair_members_before_guards

        half = self.env["res.partner"].create({"name": "Half Hanne", "email": "hanne@example.com"})
        child = self.env["res.partner"].create({"name": "Kari Invoice", "email": "kari.inv@example.com"})
        self.env.flush_all()
        # What 19.0.1.0.0 left behind, written with the guards off (a replica role skips triggers).
        self.env.cr.execute("SET LOCAL session_replication_role = replica")
        self.env.cr.execute("UPDATE res_partner SET is_registry_member = true WHERE id = %s", [half.id])
        self.env.cr.execute("UPDATE res_partner SET parent_id = %s WHERE id = %s", [self.member.id, child.id])
        self.env.cr.execute("UPDATE res_partner SET company_id = NULL WHERE id = %s", [self.member.id])
        self.env.cr.execute("SET LOCAL session_replication_role = origin")
        self.env.invalidate_all()

        pending = repair_members_before_guards(self.env.cr)
        self.assertEqual(pending, [half.id])
        for model in ("res.partner", "customer.consent", "pos.order"):
            self.env[model].init()  # as the upgrade does next
        self.env.invalidate_all()
        self.assertEqual(self.member.company_id, self.company)
        self.assertFalse(child.parent_id)
        self.assertFalse(child.active)
        half.write({"is_registry_member": True})
        self.assertTrue(half.pseudonym)
        self.assertFalse(half.email)
        self.assertEqual(half.sudo().registry_identity_ids.email, "hanne@example.com")
