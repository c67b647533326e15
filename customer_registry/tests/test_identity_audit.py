"""Every read of identity values is audited: one entry per channel and request, with the codes (issue 10, item 4)."""

import json
import logging
from datetime import timedelta

import psycopg2

from odoo import fields, http
from odoo.exceptions import AccessError, UserError
from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tools import mute_logger

from .common import RegistryCase
from .sealing_common import new_key, registry_keys

EXPORT = "base.group_user,base.group_allow_export"


@tagged("post_install", "-at_install")
class TestIdentityAudit(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.pii_user = new_test_user(
            cls.env, "cr_audit_pii", groups=f"{EXPORT},base.group_partner_manager,customer_registry.group_registry_pii"
        )
        cls.manager = new_test_user(
            cls.env, "cr_audit_manager", groups=f"{EXPORT},customer_registry.group_registry_manager"
        )
        cls.cashier = new_test_user(
            cls.env,
            "cr_audit_cashier",
            groups="base.group_user,base.group_partner_manager,point_of_sale.group_pos_user",
        )
        Partner = cls.env["res.partner"]
        cls.members = Partner.create(
            [
                {"is_registry_member": True, "name": "Audun Qaudit", "email": "audun@example.com", "zip": "5003"},
                {
                    "is_registry_member": True,
                    "name": "Berit Qaudit",
                    "email": "berit@example.com",
                    "phone": "+4791111111",
                },
            ]
        )
        cls.identities = cls.members.registry_identity_ids

    def entries(self, channel=None):
        domain = [("member_code", "in", self.members.mapped("pseudonym"))]
        if channel:
            domain.append(("channel", "=", channel))
        return self.env["customer.identity.audit"].search(domain)

    def call_kw(self, model, method, args, kwargs=None):
        return self.make_jsonrpc_request(
            f"/web/dataset/call_kw/{model}.{method}",
            {"model": model, "method": method, "args": args, "kwargs": kwargs or {}},
        )

    def codes(self, members):
        return " ".join(sorted(members.mapped("pseudonym")))

    def test_web_client_reads_write_one_entry_per_request(self):
        self.authenticate(self.pii_user.login, self.pii_user.login)
        spec = {"legal_name": {}, "email": {}, "phone": {}, "pseudonym": {}}
        # A read-only route would fail on the audit's INSERT and be served twice (Odoo's retry warns).
        with self.assertNoLogs("odoo.http", level=logging.WARNING):
            self.call_kw("customer.identity", "web_search_read", [[("id", "in", self.identities.ids)], spec])
        entry = self.entries()
        self.assertEqual(len(entry), 1, "a list of two members is one request: one entry")
        self.assertEqual(entry.channel, "form")
        self.assertEqual(entry.user_id, self.pii_user)
        self.assertEqual(entry.field_names, "email,legal_name,phone")
        self.assertEqual((entry.member_codes, entry.member_count), (self.codes(self.members), 2))
        # Opening one identity is a new request: one more entry, for that member.
        self.call_kw("customer.identity", "web_read", [self.identities[:1].ids, {"email": {}, "city": {}}])
        self.assertEqual(len(self.entries()), 2)
        self.assertEqual(self.entries()[:1].member_codes, self.members[0].pseudonym)
        self.assertEqual(self.entries()[:1].field_names, "city,email")
        # Reading the card code only is not a read of personal data.
        self.call_kw("customer.identity", "web_read", [self.identities.ids, {"pseudonym": {}}])
        self.assertEqual(len(self.entries()), 2)

    def test_export_writes_one_entry_with_every_member_exported(self):
        self.authenticate(self.pii_user.login, self.pii_user.login)
        params = {
            "model": "customer.identity",
            "fields": [{"name": "legal_name", "label": "Name"}, {"name": "email", "label": "Email"}],
            "ids": self.identities.ids,
            "domain": [],
            "import_compat": False,
        }
        response = self.url_open(
            "/web/export/csv", data={"data": json.dumps(params), "csrf_token": http.Request.csrf_token(self)}
        )
        response.raise_for_status()
        self.assertIn("audun@example.com", response.text)
        self.assertEqual(len(self.entries()), 1)
        self.assertEqual(self.entries().channel, "export")
        self.assertEqual(self.entries().member_codes, self.codes(self.members))

    def test_api_reads_are_audited_as_api(self):
        password = self.pii_user.login
        self.xmlrpc_object.execute_kw(
            self.env.cr.dbname,
            self.pii_user.id,
            password,
            "customer.identity",
            "read",
            [self.identities[:1].ids],
            {"fields": ["email"]},
        )
        self.assertEqual(len(self.entries("api")), 1)
        response = self.url_open(
            "/jsonrpc",
            json={
                "jsonrpc": "2.0",
                "method": "call",
                "id": 1,
                "params": {
                    "service": "object",
                    "method": "execute_kw",
                    "args": [
                        self.env.cr.dbname,
                        self.pii_user.id,
                        password,
                        "customer.identity",
                        "search_read",
                        [[("id", "in", self.identities.ids)]],
                        {"fields": ["phone"]},
                    ],
                },
            },
        )
        self.assertNotIn("error", response.json())
        self.assertEqual(len(self.entries("api")), 2)
        self.assertEqual(self.entries("api")[:1].member_count, 2)
        key = (
            self.env["res.users.apikeys"]
            .with_user(self.pii_user)
            ._generate(None, "audit test", fields.Datetime.now() + timedelta(days=1))
        )
        response = self.url_open(
            "/json/2/customer.identity/read",
            json={"ids": self.identities[1:].ids, "fields": ["street"]},
            headers={"Authorization": f"bearer {key}"},
        )
        response.raise_for_status()
        self.assertEqual(len(self.entries("api")), 3)
        self.assertEqual(self.entries("api")[:1].field_names, "street")

    def test_access_export_erasure_and_segment_export_channels(self):
        self.authenticate(self.pii_user.login, self.pii_user.login)
        response = self.url_open(f"/customer_registry/access_export/{self.members[0].id}")
        response.raise_for_status()
        self.assertEqual(len(self.entries("access_export")), 1)
        segment = self.env["customer.segment"].create({"name": "Everyone"})
        self.env["customer.consent"].create({"partner_id": self.members[1].id, "purpose": "marketing"})
        emails, _left_out = segment.with_user(self.pii_user)._mailing_recipients()
        self.assertEqual(list(emails.values()), ["berit@example.com"])
        self.members[0].with_user(self.pii_user)._registry_erase("request")
        self.env.cr.precommit.run()
        self.assertEqual(self.entries("segment_export").member_codes, self.members[1].pseudonym)
        erased = self.entries("erasure")
        self.assertEqual(erased.member_codes, self.members[0].pseudonym)
        self.assertEqual(erased.field_names, "email,phone")

    def test_one_insert_per_request_whatever_was_read(self):
        self.env.cr.precommit.run()  # what creating the members left to do at commit (mail's tracking)
        Identity = self.env["customer.identity"].with_user(self.pii_user)
        for names in (["email"], ["legal_name", "phone"], ["zip", "email"]):
            Identity.browse(self.identities.ids).read(names)
            Identity.search_read([("id", "in", self.identities.ids)], names)
        self.env.flush_all()
        before = self.env.cr.sql_log_count
        self.env.cr.precommit.run()
        self.assertEqual(self.env.cr.sql_log_count - before, 1)
        self.assertEqual(len(self.entries()), 1)
        self.assertEqual(self.entries().field_names, "email,legal_name,phone,zip")
        self.assertEqual(self.entries().member_codes, self.codes(self.members))

    def test_only_managers_read_the_audit(self):
        self.identities.with_user(self.pii_user).read(["email"])
        self.env.cr.precommit.run()
        Audit = self.env["customer.identity.audit"]
        self.assertEqual(len(Audit.with_user(self.manager).search([("id", "in", self.entries().ids)])), 1)
        for user in (self.cashier, self.pii_user):
            with self.assertRaises(AccessError):
                Audit.with_user(user).search([])

    @mute_logger("odoo.sql_db")
    def test_a_reader_or_company_the_audit_names_cannot_be_deleted(self):
        """The audit keeps who read and for which company: the database refuses to delete them (its
        foreign keys, whose check also sees entries committed meanwhile); a user it does not name goes."""
        self.identities.with_user(self.pii_user).read(["email"])
        self.env.cr.precommit.run()
        company = self.env["res.company"].create({"name": "Qaudit Closed Shop"})
        self.env.cr.execute(
            """INSERT INTO customer_identity_audit (read_at, member_codes, company_id, channel, user_id)
               VALUES (now() AT TIME ZONE 'UTC', 'old', %s, 'form', %s)""",
            [company.id, self.manager.id],
        )
        for table, record_id in (("res_users", self.pii_user.id), ("res_company", company.id)):
            with (
                self.assertRaises(psycopg2.errors.ForeignKeyViolation),
                self.env.cr.savepoint(),
                mute_logger("odoo.sql_db"),
            ):
                self.env.cr.execute(f"DELETE FROM {table} WHERE id = %s", [record_id])
        with (
            self.assertRaises(psycopg2.errors.ForeignKeyViolation),
            mute_logger("odoo.sql_db"),
            self.env.cr.savepoint(),
        ):
            self.pii_user.unlink()
        nobody = new_test_user(self.env, "cr_audit_nobody", groups="base.group_user")
        nobody.unlink()
        self.assertFalse(nobody.exists())
        self.assertEqual(self.entries().user_id, self.pii_user)

    def test_append_only_but_purged_after_its_retention(self):
        self.identities.with_user(self.pii_user).read(["email"])
        self.env.cr.precommit.run()
        entry = self.entries()[:1]
        with self.assertRaises(UserError):
            entry.write({"channel": "api"})
        with self.assertRaises(UserError):
            entry.unlink()
        with self.assertRaises(UserError):
            self.env["customer.identity.audit"].create({"channel": "api"})
        for statement in (
            "UPDATE customer_identity_audit SET channel = 'api' WHERE id = %s",
            "DELETE FROM customer_identity_audit WHERE id = %s",
            "TRUNCATE customer_identity_audit",
        ):
            with self.assertRaises(psycopg2.errors.CheckViolation), self.env.cr.savepoint():
                self.env.cr.execute(statement, [entry.id])
        # An entry older than the company's retention (24 months by default), as a restore brings it.
        self.env.cr.execute(
            """INSERT INTO customer_identity_audit (read_at, member_codes, company_id, channel, user_id)
               VALUES (now() AT TIME ZONE 'UTC' - interval '30 months', 'old', %s, 'form', %s) RETURNING id""",
            [self.env.company.id, self.pii_user.id],
        )
        old_id = self.env.cr.fetchone()[0]
        # Even the purge's switch does not delete a recent entry.
        with self.assertRaises(psycopg2.errors.CheckViolation), self.env.cr.savepoint():
            self.env.cr.execute("SELECT set_config('customer_registry.audit_purge', 'on', true)")
            self.env.cr.execute("DELETE FROM customer_identity_audit WHERE id = %s", [entry.id])
        self.env.company.registry_audit_retention_months = 0
        self.env.flush_all()
        self.assertEqual(self.env["customer.identity.audit"]._cron_purge(), 0)
        self.env.company.registry_audit_retention_months = 24
        self.env.flush_all()
        self.assertEqual(self.env["customer.identity.audit"]._cron_purge(), 1)
        self.env.invalidate_all()
        self.assertFalse(self.env["customer.identity.audit"].browse(old_id).exists())
        self.assertTrue(entry.exists())


@tagged("post_install", "-at_install")
class TestIdentityReadsBesideRead(RegistryCase):
    """Exports through another model, copy_data and grouped reads: audited or refused, never silent."""

    def audit(self, channel=None):
        self.env.cr.precommit.run()
        domain = [("member_code", "=", self.member.pseudonym)]
        if channel:
            domain.append(("channel", "=", channel))
        return self.env["customer.identity.audit"].search(domain)

    def test_partner_export_of_an_identity_path_is_audited(self):
        rows = self.member.with_user(self.pii_user).export_data(["name", "registry_identity_ids/email"])["datas"]
        self.assertIn("kari@example.com", str(rows))
        self.assertEqual(self.audit("export").field_names, "email")

    def test_partner_export_with_keys_is_audited(self):
        self.enterContext(registry_keys([(1, new_key())], [(1, new_key())]))
        self.identity._registry_reseal()
        self.test_partner_export_of_an_identity_path_is_audited()

    def test_copy_data_is_refused(self):
        with self.assertRaises(UserError):
            self.identity.with_user(self.pii_user).copy_data()
        self.assertFalse(self.audit())

    def test_grouped_reads_of_personal_values_are_refused(self):
        Identity = self.env["customer.identity"].with_user(self.pii_user)
        domain = [("id", "=", self.identity.id)]
        for groupby, aggregates in (
            ([], ["legal_name:array_agg", "email:array_agg"]),
            (["email", "legal_name"], ["__count"]),
            (["country_id"], ["__count"]),
            ([], ["zip:max"]),
        ):
            with self.assertRaises(UserError, msg=f"{groupby} {aggregates}"):
                Identity.formatted_read_group(domain, groupby, aggregates)
        with self.assertRaises(UserError):
            Identity.formatted_read_grouping_sets(domain, [["email"], []], ["__count"])
        # What names nobody still groups: the counts per company.
        self.assertEqual(Identity.formatted_read_group(domain, ["company_id"], ["__count"])[0]["__count"], 1)

    def test_retention_has_a_floor_and_no_trigger_changes_an_entry(self):
        for months in (1, 5):
            with (
                mute_logger("odoo.sql_db"),
                self.assertRaises(psycopg2.errors.CheckViolation),
                self.env.cr.savepoint(),
            ):
                self.env.cr.execute(
                    "UPDATE res_company SET registry_audit_retention_months = %s WHERE id = %s",
                    [months, self.company.id],
                )
        self.identity.with_user(self.pii_user).read(["email"])
        entry = self.audit()
        other = self.env["res.partner"].create({"is_registry_member": True, "name": "Qrev Other"})
        # SQL run from a trigger (pg_trigger_depth() > 1) once changed an entry's member at will.
        self.env.cr.execute(
            """CREATE TEMP TABLE qrev_fire (x int);
               CREATE FUNCTION qrev_move_audit() RETURNS trigger LANGUAGE plpgsql AS $$
               BEGIN
                   UPDATE customer_identity_audit SET member_codes = NEW.x::text WHERE id = %s;
                   RETURN NEW;
               END; $$;
               CREATE TRIGGER qrev_move_audit AFTER INSERT ON qrev_fire
                   FOR EACH ROW EXECUTE FUNCTION qrev_move_audit();""",
            [entry.id],
        )
        with mute_logger("odoo.sql_db"), self.assertRaises(psycopg2.errors.CheckViolation), self.env.cr.savepoint():
            self.env.cr.execute("INSERT INTO qrev_fire VALUES (%s)", [other.id])
