"""Identity hardening after the outside review of issue 10: the blind index tells nothing to users, an identity
stays with its member, a members import leaves no plain file behind."""

import psycopg2

from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged
from odoo.tools import SQL, mute_logger

from .common import RegistryCase
from .sealing_common import new_key, registry_keys


@tagged("post_install", "-at_install")
class TestIdentityHardening(RegistryCase):
    def test_the_form_cannot_test_a_guess_against_the_blind_index(self):
        """The onchange recomputed the blind index of a typed email and returned it only when it differed
        from the member's: an exact test of her email, with no read to audit. The index is readable by no user."""
        with registry_keys([(1, new_key())], [(1, new_key())]):
            self.identity._registry_reseal()
            self.env.flush_all()
            self.env.invalidate_all()
            identity = self.identity.with_user(self.pii_user)
            for spec in ({"email_index": {}}, {"phone_index": {}}, {"sealed_values": {}}):
                with self.assertRaises(AccessError):
                    identity.onchange({"id": identity.id, "email": "kari@example.com"}, ["email"], spec)
            with self.assertRaises(AccessError):
                identity.read(["email_index", "phone_index"])
            # The search by exact email or phone (the blind index behind it) still finds her.
            Identity = self.env["customer.identity"].with_user(self.pii_user)
            self.assertEqual(Identity.search([("email", "=", "kari@example.com")]), self.identity)
            self.assertEqual(Identity.search([("phone", "=", "+4791234567")]), self.identity)
            # And the values still read, decrypted.
            self.assertEqual(identity.read(["email"])[0]["email"], "kari@example.com")

    def search_entries(self):
        self.env.cr.precommit.run()
        return self.env["customer.identity.audit"].search(
            [("channel", "=", "search"), ("user_id", "=", self.pii_user.id)]
        )

    def test_a_search_by_a_personal_value_is_audited(self):
        """A count of 1 for a guessed email confirms it: a search by identity values is audited as a read,
        naming the members its condition matches, through the identity, the member and the name search."""
        self.env.cr.precommit.run()
        self.env.invalidate_all()
        Identity = self.env["customer.identity"].with_user(self.pii_user)
        Partner = self.env["res.partner"].with_user(self.pii_user)
        self.assertEqual(Identity.search_count([("email", "=", "someone@example.com")]), 0)
        entry = self.search_entries()
        self.assertEqual((entry.member_codes, entry.member_count, entry.field_names), (False, 0, "email"))
        self.assertEqual(Identity.search_count([("email", "=", "kari@example.com")]), 1)
        self.assertEqual(Identity.search_count([("legal_name", "=ilike", "kari nordmann")]), 1)
        self.assertEqual(Identity.search_count([("email", "in", ["kari@example.com", "nobody@example.com"])]), 1)
        self.assertEqual(Partner.search([("registry_identity_ids.phone", "=", "+47 912 34 567")]), self.member)
        self.assertIn(self.identity.id, [row[0] for row in Identity.name_search("Kari Nordmann")])
        entries = self.search_entries() - entry
        self.assertEqual(len(entries), 1, "one entry for the request's searches")
        self.assertIn(self.member.pseudonym, entries.member_codes.split())
        self.assertEqual(set(entries.field_names.split(",")), {"email", "legal_name", "phone"})
        # With the values encrypted, the blind index answers the exact email: audited the same.
        with registry_keys([(1, new_key())], [(1, new_key())]):
            self.identity._registry_reseal()
            self.env.flush_all()
            self.env.cr.precommit.run()
            before = self.search_entries()
            self.assertEqual(Identity.search_count([("phone", "=", "+4791234567")]), 1)
            entry = self.search_entries() - before
            self.assertEqual((entry.member_codes, entry.field_names), (self.member.pseudonym, "phone"))
        # Server code (the superuser) searching for its own checks is not a user's read.
        self.env["customer.identity"].search_count([("email", "=", "kari@example.com")])
        self.assertEqual(
            self.env["customer.identity.audit"].search_count(
                [("channel", "=", "search"), ("user_id", "=", self.env.uid)]
            ),
            0,
        )

    def test_a_search_names_only_members_its_user_could_see(self):
        """A user of the other company searching Kari's email finds nothing (the company rule hides her): the
        audit must not say that user confirmed her value."""
        self.env.cr.precommit.run()
        Identity = self.env["customer.identity"].with_user(self.other_pii_user)
        self.assertEqual(Identity.search_count([("email", "=", "kari@example.com")]), 0)
        self.env.cr.precommit.run()
        entries = self.env["customer.identity.audit"].search(
            [("channel", "=", "search"), ("user_id", "=", self.other_pii_user.id)]
        )
        self.assertEqual(len(entries), 1, "the search is audited")
        self.assertFalse(entries.member_codes, "an entry names Kari for a search that could not see her")
        # A condition reached by a user who may not read identities at all (another module's search, say):
        # the request still commits, and the entry names nobody.
        self.env["customer.identity.audit"].with_user(self.cashier)._record_search(
            "email", SQL("TRUE"), "customer_identity"
        )
        self.env.cr.precommit.run()
        cashier_entry = self.env["customer.identity.audit"].search([("user_id", "=", self.cashier.id)])
        self.assertEqual((cashier_entry.channel, cashier_entry.member_codes), ("search", False))

    def test_an_identity_stays_with_its_member(self):
        """Moved to an erased member by one import (row by row, flushing), Kari's values were then read and
        audited under the erased member's code, and erasing Kari would have left them behind."""
        Partner = self.env["res.partner"].with_user(self.pii_user)
        decoy = Partner.create({"is_registry_member": True, "registry_greeting_name": "Decoy"})
        decoy._registry_erase("request")
        self.env.flush_all()
        Identity = self.env["customer.identity"].with_user(self.pii_user)
        result = Identity.load(
            [".id", "partner_id/.id"], [[str(self.identity.id), str(decoy.id)], ["", str(self.member.id)]]
        )
        self.assertTrue([message for message in result["messages"] if message["type"] == "error"])
        self.env.invalidate_all()
        self.assertEqual(self.identity.partner_id, self.member)
        self.assertEqual(self.member.registry_identity_ids, self.identity)
        other = Partner.create({"is_registry_member": True, "name": "Ola Nordmann"})
        with self.assertRaises(UserError):
            self.identity.with_user(self.pii_user).write({"partner_id": other.id})
        # Whatever the channel: the database refuses it too, and an identity for an erased member.
        with mute_logger("odoo.sql_db"), self.assertRaises(psycopg2.errors.CheckViolation), self.env.cr.savepoint():
            self.env.cr.execute(
                "UPDATE customer_identity SET partner_id = %s WHERE id = %s", [other.id, self.identity.id]
            )
        with mute_logger("odoo.sql_db"), self.assertRaises(psycopg2.errors.CheckViolation), self.env.cr.savepoint():
            self.env.cr.execute(
                "INSERT INTO customer_identity (partner_id, company_id) VALUES (%s, %s)", [decoy.id, self.company.id]
            )

    def test_a_members_import_leaves_no_plain_file(self):
        """With the identities encrypted, the uploaded file (every value in clear) stayed in base_import_import
        for 12 hours after the import: gone once the import is done, kept while it is only tested."""
        with registry_keys([(1, new_key())], [(1, new_key())]):
            values = {
                "name": "Qimport Importsen",
                "email": "qimport@example.com",
                "phone": "+47 955 11 222",
                "street": "Qimportgata 7",
            }
            wizard = (
                self.env["base_import.import"]
                .with_user(self.pii_user)
                .create(
                    {
                        "res_model": "res.partner",
                        "file": ("name,email,phone,street\n" + ",".join(values.values()) + "\n").encode(),
                        "file_type": "text/csv",
                        "file_name": "members.csv",
                    }
                )
            )
            options = {"quoting": '"', "separator": ",", "has_headers": True}

            def file_holds_the_email():
                self.env.flush_all()
                self.env.cr.execute(
                    "SELECT count(*) FROM base_import_import WHERE position(convert_to(%s, 'UTF8') IN file) > 0",
                    [values["email"]],
                )
                return self.env.cr.fetchone()[0]

            importing = wizard.with_context(default_is_registry_member=True)
            tested = importing.execute_import(list(values), [], options, dryrun=True)
            self.assertFalse([m for m in tested["messages"] if m["type"] == "error"], tested["messages"])
            self.assertTrue(file_holds_the_email(), "a tested import keeps its file for the real one")
            result = importing.execute_import(list(values), [], options)
            self.assertFalse(result["messages"], result["messages"])
            member = self.env["res.partner"].browse(result["ids"])
            self.assertTrue(member.is_registry_member)
            self.env.cr.execute("SELECT key_version, email FROM customer_identity WHERE partner_id = %s", [member.id])
            self.assertEqual(self.env.cr.fetchone(), (1, None), "the identity itself is sealed")
            self.assertFalse(file_holds_the_email(), "base_import_import.file holds the member's email in clear")
