"""Review of the per-request audit (rev10): attacks on the codes and companies an entry names."""

from unittest.mock import patch

from odoo.exceptions import UserError
from odoo.tests import tagged

from odoo.addons.customer_registry import sealing

from .common import RegistryCase
from .sealing_common import new_key, registry_keys


@tagged("post_install", "-at_install")
class TestAuditNamesTheRightMembers(RegistryCase):
    def entries(self, code):
        self.env.cr.precommit.run()
        return self.env["customer.identity.audit"].search([("member_code", "=", code)])

    def test_identity_code_written_by_rpc_or_sql_does_not_hide_reads(self):
        """The stored card code beside the identity names the member in the audit: nobody changes it."""
        other = self.env["res.partner"].create({"is_registry_member": True, "name": "Qrev Decoy"})
        identity = self.identity.with_user(self.pii_user)
        with self.assertRaises(UserError), self.env.cr.savepoint():
            identity.write({"pseudonym": other.pseudonym})
        identity.write({"pseudonym": self.member.pseudonym})  # an export re-imported as it was: accepted
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE customer_identity SET pseudonym = %s WHERE id = %s", [other.pseudonym, self.identity.id]
        )
        self.env.invalidate_all()
        identity.read(["email"])
        self.assertEqual(self.identity.pseudonym, self.member.pseudonym)
        self.assertTrue(self.entries(self.member.pseudonym), "a read of Kari's email names Kari's code")
        self.assertFalse(self.entries(other.pseudonym), "and not another member's")

    def test_two_companies_in_one_request_write_an_entry_each(self):
        user = self.pii_user
        user.company_ids = [(4, self.other_company.id)]
        other = (
            self.env["res.partner"]
            .with_company(self.other_company)
            .create({"is_registry_member": True, "name": "Qrev Other Co", "email": "qrev.other@example.com"})
        )
        self.assertEqual(other.company_id, self.other_company)
        identities = (self.identity | other.registry_identity_ids).with_user(user)
        identities = identities.with_context(allowed_company_ids=[self.company.id, self.other_company.id])
        self.env.flush_all()
        self.env.invalidate_all()
        identities.read(["email"])
        mine, theirs = self.entries(self.member.pseudonym), self.entries(other.pseudonym)
        self.assertEqual((mine.company_id, mine.member_codes), (self.company, self.member.pseudonym))
        self.assertEqual((theirs.company_id, theirs.member_codes), (self.other_company, other.pseudonym))

    def test_manager_finds_entries_by_a_code_typed_in_the_search_box(self):
        self.identity.with_user(self.pii_user).read(["email"])
        self.env.cr.precommit.run()
        Audit = self.env["customer.identity.audit"].with_user(self.manager)
        # The search view's field: a char field's default operator in the web client is ilike.
        found = Audit.search([("member_code", "ilike", self.member.pseudonym)])
        self.assertEqual(found.member_codes, self.member.pseudonym)
        self.assertEqual(Audit.search([("member_code", "ilike", self.member.pseudonym[:6])]), found)

    def test_new_identity_form_opens(self):
        """The form's New button (onchange of a new record) reads no stored identity: nothing to audit."""
        Identity = self.env["customer.identity"].with_user(self.pii_user)
        result = Identity.onchange({}, [], {"email": {}, "partner_id": {}, "pseudonym": {}, "display_name": {}})
        self.assertIs(result["value"]["email"], False)
        # Editing a stored identity in its form: whatever the onchange reads is audited in the member's company.
        self.env.invalidate_all()
        self.identity.with_user(self.pii_user).onchange(
            {"id": self.identity.id, "partner_id": self.member.id}, ["partner_id"], {"email": {}, "partner_id": {}}
        )
        self.assertFalse(self.entries(self.member.pseudonym).filtered(lambda entry: entry.company_id != self.company))

    def test_audit_screens_speak_norwegian(self):
        self.env["res.lang"]._activate_lang("nb_NO")
        self.env["ir.module.module"]._load_module_terms(["customer_registry"], ["nb_NO"], overwrite=True)
        nb_env = self.env(context=dict(self.env.context, lang="nb_NO"))
        described = nb_env["customer.identity.audit"].fields_get(["member_codes", "member_count", "member_code"])
        self.assertEqual(described["member_code"]["string"], "Medlemskode")
        self.assertNotEqual(described["member_codes"]["string"], "Member Codes")
        self.assertNotEqual(described["member_count"]["string"], "Members Read")
        self.assertNotIn("card code", described["member_code"]["help"])
        with (
            registry_keys([(1, new_key())], [(1, new_key())]),
            patch.object(sealing, "slow_cryptography", lambda: "3.4.8"),
        ):
            message = nb_env["res.config.settings"].create({}).registry_encryption_message
        self.assertIn("3.4.8", message)
        self.assertNotIn("cryptography package installed", message)


@tagged("post_install", "-at_install")
class TestListReadsAcrossKeysAndEdits(RegistryCase):
    def create_members(self, count, prefix):
        return self.env["res.partner"].create(
            [
                {"is_registry_member": True, "name": f"Qrev {prefix} {i}", "email": f"qrev.{prefix}{i}@example.com"}
                for i in range(count)
            ]
        )

    def test_rows_under_two_keys_and_an_unflushed_edit_read_their_own_values(self):
        key1, key2, index = new_key(), new_key(), new_key()
        with registry_keys([(1, key1)], [(1, index)]):
            old = self.create_members(3, "old")
            self.env.flush_all()
        with registry_keys([(2, key2), (1, key1)], [(1, index)]):
            new = self.create_members(3, "new")
            self.env.flush_all()
            members = old | new
            identities = members.registry_identity_ids
            self.env.cr.execute(
                "SELECT key_version FROM customer_identity WHERE id = ANY(%s) ORDER BY id", [identities.ids]
            )
            self.assertEqual([row[0] for row in self.env.cr.fetchall()], [1, 1, 1, 2, 2, 2])
            self.env.invalidate_all()
            # One edit left in the cache (not flushed) while the list is read.
            new[1].registry_identity_ids.with_user(self.pii_user).city = "Qrevby"
            rows = identities.with_user(self.pii_user).read(["email", "city"])
            by_member = {
                identity.partner_id: row
                for identity, row in zip(identities.browse([r["id"] for r in rows]), rows, strict=True)
            }
            expected = [f"qrev.{prefix}{i}@example.com" for prefix in ("old", "new") for i in range(3)]
            self.assertEqual([by_member[member]["email"] for member in members], expected)
            self.assertEqual(by_member[new[1]]["city"], "Qrevby")
            self.assertEqual([by_member[m]["city"] for m in members - new[1]], [False] * 5)
