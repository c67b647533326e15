"""Identity values encrypted at rest, the blind-index lookup and key rotation (issue 10, requirements 5)."""

import base64
import os
import threading

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged

from odoo.addons.customer_registry import sealing
from odoo.addons.customer_registry.models.customer_identity import SEALED_FIELDS

from .common import RegistryCase, stored_places
from .sealing_common import new_key, registry_keys

PERSON = {
    "name": "Signe Qsealtest",
    "email": "Signe.Qsealtest@example.com",
    "phone": "+47 934 55 120",
    "street": "Qsealveien 12",
    "zip": "7010",
    "city": "Qsealby",
    "comment": "<p>Qsealnote about Signe</p>",
}
VALUES = ["Signe Qsealtest", "Signe.Qsealtest@example.com", "934 55 120", "Qsealveien 12", "Qsealby", "Qsealnote"]


@tagged("post_install", "-at_install")
class TestIdentitySealing(RegistryCase):
    def setUp(self):
        super().setUp()
        self.key1, self.index1 = new_key(), new_key()
        self.enterContext(registry_keys([(1, self.key1)], [(1, self.index1)]))

    def create_member(self, **values):
        return self.env["res.partner"].create({"is_registry_member": True, **PERSON, **values})

    def test_sealed_identity_leaves_no_plain_value_in_any_table(self):
        member = self.create_member()
        self.env.flush_all()
        self.assertEqual(stored_places(self.env, VALUES), {})
        self.env.cr.execute(
            "SELECT sealed_values, key_version FROM customer_identity WHERE partner_id = %s", [member.id]
        )
        sealed, version = self.env.cr.fetchone()
        self.assertTrue(sealed.startswith("crv1;"))
        self.assertEqual(version, 1)
        # The postal area is still derived from the postal code.
        self.assertEqual(member.registry_postal_area, "70")

    def test_personal_data_user_reads_the_values_and_a_cashier_does_not(self):
        member = self.create_member()
        identity = member.registry_identity_ids
        identity.birthdate = "1990-04-05"
        self.env.flush_all()
        self.env.invalidate_all()
        values = identity.with_user(self.pii_user).read(["legal_name", "email", "phone", "street", "birthdate"])[0]
        self.assertEqual(values["legal_name"], PERSON["name"])
        self.assertEqual(values["email"], PERSON["email"])
        self.assertEqual(values["street"], PERSON["street"])
        self.assertEqual(str(values["birthdate"]), "1990-04-05")
        with self.assertRaises(AccessError):
            identity.with_user(self.cashier).read(["email"])
        # Editing one value keeps the others (they are sealed together).
        identity.with_user(self.pii_user).city = "Trondheim"
        self.env.flush_all()
        self.env.invalidate_all()
        self.assertEqual(identity.with_user(self.pii_user).legal_name, PERSON["name"])
        self.assertEqual(identity.with_user(self.pii_user).city, "Trondheim")
        self.assertEqual(stored_places(self.env, ["Trondheim", *VALUES]), {})

    def test_search_by_exact_email_or_phone_only(self):
        member = self.create_member()
        Identity = self.env["customer.identity"].with_user(self.pii_user)
        self.assertEqual(Identity.search([("email", "=", "signe.qsealtest@example.com")]).partner_id, member)
        self.assertEqual(Identity.search([("phone", "=", "+4793455120")]).partner_id, member)
        self.assertFalse(Identity.search([("email", "=", "signe.qsealtest@example.co")]))
        with self.assertRaises(UserError):
            Identity.search([("legal_name", "ilike", "Signe")])
        # A pattern would silently become an exact match (finding nothing for "example.com"): refused.
        for operator, value in (("ilike", "example.com"), ("ilike", PERSON["email"]), ("=ilike", PERSON["email"])):
            with self.assertRaises(UserError, msg=f"{operator} {value}"):
                Identity.search([("email", operator, value)])
        self.assertEqual(Identity.search([("email", "in", [PERSON["email"], "x@example.com"])]).partner_id, member)

    def test_ordering_by_a_sealed_value_is_refused(self):
        self.create_member()
        Identity = self.env["customer.identity"].with_user(self.pii_user)
        for order in ("legal_name", "email desc", "zip, id"):
            with self.assertRaises(UserError, msg=order):
                Identity.search([], order=order)
        self.assertTrue(Identity.search([], order="id desc"))

    def test_lookup_finds_exact_matches_only_in_the_company_and_is_audited(self):
        member = self.create_member(registry_greeting_name="Signe")
        other = self.env["res.partner"].create(
            {
                "is_registry_member": True,
                "name": "Other Shop Signe",
                "phone": PERSON["phone"],
                "company_id": self.other_company.id,
            }
        )
        Partner = self.env["res.partner"].with_user(self.cashier)
        expected = [{"id": member.id, "name": "Signe", "pseudonym": member.pseudonym}]
        self.assertEqual(Partner.registry_find_by_contact("0047 93 45 51 20"), expected)
        self.assertEqual(Partner.registry_find_by_contact("+47 934 55 120"), expected)
        self.assertEqual(Partner.registry_find_by_contact(" SIGNE.qsealtest@EXAMPLE.com"), expected)
        for near_miss in ("+47 934 55 121", "934 55 12", "signe.qsealtest@example.co", "signe.qsealtes@example.com"):
            self.assertEqual(Partner.registry_find_by_contact(near_miss), [], near_miss)
        self.assertNotIn(other.id, [row["id"] for row in Partner.registry_find_by_contact(PERSON["phone"])])
        self.env.cr.precommit.run()
        entries = self.env["customer.identity.audit"].search([("channel", "=", "lookup")])
        self.assertEqual(set(entries.mapped("member_codes")), {member.pseudonym, False})
        self.assertEqual(entries.user_id, self.cashier)

    def test_plain_rows_are_sealed_and_keys_rotated_in_batches(self):
        # RegistryCase's member was enrolled before any key was configured: plain text.
        self.env.cr.execute("SELECT email FROM customer_identity WHERE id = %s", [self.identity.id])
        self.assertEqual(self.env.cr.fetchone()[0], "kari@example.com")
        members = [self.create_member(email=f"qrot{index}@example.com", phone=False) for index in range(3)]
        Identity = self.env["customer.identity"]
        while Identity._registry_reseal_batch(limit=2):
            pass
        self.assertEqual(stored_places(self.env, ["kari@example.com", "Kari Nordmann", "Storgata 1"]), {})
        # Rotation: a new key first, the old one kept until every row is resealed.
        key2, index2 = new_key(), new_key()
        with registry_keys([(2, key2), (1, self.key1)], [(2, index2), (1, self.index1)]):
            self.assertEqual(Identity._registry_reseal_batch(limit=2), 2)
            # Half-way (killed here), the lookup still finds rows indexed under the old key.
            found = {
                row["id"]
                for index in range(3)
                for row in self.env["res.partner"].registry_find_by_contact(f"qrot{index}@example.com")
            }
            self.assertEqual(found, {member.id for member in members})
            while Identity._registry_reseal_batch(limit=2):
                pass
            self.assertEqual(Identity._registry_reseal_batch(limit=2), 0)
        with registry_keys([(2, key2)], [(2, index2)]):
            self.env.invalidate_all()
            self.env.cr.execute("SELECT DISTINCT key_version, index_key_version FROM customer_identity")
            self.assertEqual(self.env.cr.fetchall(), [(2, 2)])
            self.assertEqual(self.identity.with_user(self.pii_user).email, "kari@example.com")
            self.assertEqual(
                self.env["res.partner"].registry_find_by_contact("qrot1@example.com")[0]["id"], members[1].id
            )
        # The lookup never decrypts: it works with the index key alone.
        with registry_keys([], [(2, index2)]):
            self.env.invalidate_all()
            self.assertEqual(
                self.env["res.partner"].registry_find_by_contact("qrot2@example.com")[0]["id"], members[2].id
            )
        with registry_keys([(1, self.key1)], [(1, self.index1)]):
            self.env.invalidate_all()
            with self.assertRaises(UserError):
                self.identity.with_user(self.pii_user).email  # noqa: B018 - a key that no longer opens the row

    def test_erasure_of_a_sealed_member(self):
        member = self.create_member()
        self.env["mail.mail"].create({"email_to": PERSON["email"], "subject": "Receipt", "body_html": "<p>x</p>"})
        member.with_user(self.pii_user)._registry_erase("request")
        self.env.cr.precommit.run()
        self.assertFalse(member.registry_identity_ids)
        self.assertEqual(stored_places(self.env, [PERSON["email"], PERSON["name"]]), {})
        erasure = self.env["customer.identity.audit"].search(
            [("channel", "=", "erasure"), ("member_code", "=", member.pseudonym)]
        )
        self.assertEqual(erasure.field_names, "email,phone")

    def test_settings_warn_without_a_key(self):
        settings = self.env["res.config.settings"].create({})
        self.assertEqual(settings.registry_encryption_state, "on")
        with registry_keys([]):
            settings = self.env["res.config.settings"].create({})
            self.assertEqual(settings.registry_encryption_state, "off")
            self.assertIn("plain text", settings.registry_encryption_message)

    def test_identity_values_open_as_aesgcm_sealed_them_and_tampering_is_refused(self):
        """What cryptography's AESGCM seals opens; a changed byte, another key or purpose do not."""
        key = base64.urlsafe_b64decode(self.key1)
        values = {"email": "signe.qsealtest@example.com", "notes": "<p>æøå</p>", "street": None}
        token = sealing.seal(values, 7)
        self.assertEqual(sealing.unseal(token, 7), values)
        with self.assertRaises(sealing.SealingError):
            sealing.unseal(token, 8)  # another identity's row
        # A text sealed by cryptography's AESGCM itself opens; one changed byte, another key or purpose do not.
        nonce = os.urandom(sealing.NONCE_SIZE)
        raw = AESGCM(key).encrypt(nonce, b'{"city":"Qsealby"}', sealing.ASSOCIATED_DATA)
        opened = sealing.unseal(f"crv1:{base64.urlsafe_b64encode(nonce + raw).decode()}", 7)
        self.assertEqual(opened, {"city": "Qsealby"})
        forged = bytearray(nonce + raw)
        forged[sealing.NONCE_SIZE + 3] ^= 1
        other_purpose = AESGCM(key).encrypt(nonce, b'{"city":"Qsealby"}', b"another table")
        for sealed in (bytes(forged), nonce + other_purpose):
            with self.assertRaises(sealing.SealingError):
                sealing.unseal(f"crv1:{base64.urlsafe_b64encode(sealed).decode()}", 7)
        with self.assertRaises(sealing.SealingError):
            sealing.unseal(token, 7, {1: os.urandom(32)})
        self.assertEqual(sealing.unseal(token, 7), values, "a refused text leaves the next one readable")
        # Threads (Odoo's workers) open texts side by side.
        results = []
        threads = [threading.Thread(target=lambda: results.append(sealing.unseal(token, 7))) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        self.assertEqual(results, [values] * 4)

    def test_a_list_of_sealed_and_plain_identities_reads_every_value(self):
        """One read of many identities: sealed rows open together, rows not sealed yet read their columns."""
        plain_identity = self.identity  # enrolled before any key: plain columns
        members = [
            self.create_member(email=f"qlist{index}@example.com", phone=f"+47 9000000{index}") for index in range(5)
        ]
        identities = plain_identity | self.env["res.partner"].concat(*members).registry_identity_ids
        self.env.flush_all()
        self.env.invalidate_all()
        rows = identities.with_user(self.pii_user).read(["email", "phone", "legal_name", "city"])
        by_id = {row["id"]: row for row in rows}
        self.assertEqual(by_id[plain_identity.id]["email"], "kari@example.com")
        for index, member in enumerate(members):
            values = by_id[member.registry_identity_ids.id]
            self.assertEqual(values["email"], f"qlist{index}@example.com")
            self.assertEqual(values["phone"], f"+47 9000000{index}")
            self.assertEqual((values["legal_name"], values["city"]), (PERSON["name"], PERSON["city"]))
        # The audit names every member read, in one entry, without a query of its own before commit.
        self.env.cr.precommit.run()
        entry = self.env["customer.identity.audit"].search([("member_code", "=", members[3].pseudonym)])
        self.assertEqual(entry.member_count, 6)
        self.assertEqual(entry.member_codes.split(), sorted(identities.mapped("pseudonym")))

    def seal_as_before(self, values):
        """`values` sealed as the previous version sealed them: names in the text, URL-safe base64 after "crv1:"."""
        key = base64.urlsafe_b64decode(self.key1)
        data = "\x00".join([sealing.FRAMED + ",".join(values), *(value or "" for value in values.values()), ""])
        data = data.encode()
        data += b" " * (-(sealing.NONCE_SIZE + len(data) + sealing.TAG_SIZE) % 3)
        while True:  # a text whose base64 holds URL-safe characters, which only that alphabet decodes
            nonce = os.urandom(sealing.NONCE_SIZE)
            raw = nonce + AESGCM(key).encrypt(nonce, data, sealing.ASSOCIATED_DATA)
            token = f"crv1:{base64.urlsafe_b64encode(raw).decode()}"
            if "-" in token or "_" in token:
                return token

    def test_identities_sealed_by_the_previous_version_read_and_are_resealed(self):
        """Rows sealed before this version read as before, in one read with rows sealed now; the
        key-rotation command re-seals them in the current form (the values not named in each text)."""
        members = [self.create_member(email=f"qform{index}@example.com", phone=False) for index in range(4)]
        identities = self.env["res.partner"].concat(*members).registry_identity_ids
        self.env.flush_all()
        self.env.cr.execute("SELECT sealed_values FROM customer_identity WHERE id = %s", [identities[0].id])
        current = sealing._open(self.env.cr.fetchone()[0], identities[0].id, sealing.encryption_keys())
        self.assertNotIn(b"legal_name", current, "a text sealed now does not repeat the values' names")
        for identity in identities[:2]:
            values = dict.fromkeys(SEALED_FIELDS)
            values.update(legal_name=PERSON["name"], email=identity.email, city="Qformby")
            self.env.cr.execute(
                "UPDATE customer_identity SET sealed_values = %s WHERE id = %s",
                [self.seal_as_before(values), identity.id],
            )
        self.env.invalidate_all()
        expected = [
            {
                "id": identity.id,
                "email": f"qform{index}@example.com",
                "city": "Qformby" if index < 2 else PERSON["city"],
            }
            for index, identity in enumerate(identities)
        ]
        reader = identities.with_user(self.pii_user)
        self.assertEqual(
            sorted(reader.read(["email", "city"]), key=lambda row: row["id"]),
            sorted(expected, key=lambda row: row["id"]),
        )
        self.assertEqual(reader[:2].read(["email"]), [{"id": i.id, "email": i.email} for i in identities[:2]])
        Identity = self.env["customer.identity"]
        self.assertGreaterEqual(Identity._registry_reseal_pending_count(), 2)
        while Identity._registry_reseal_batch(limit=2):
            pass
        self.env.cr.execute("SELECT count(*) FROM customer_identity WHERE sealed_values LIKE 'crv1:%%'")
        self.assertEqual(self.env.cr.fetchone()[0], 0)
        self.env.invalidate_all()
        self.assertEqual(
            sorted(reader.read(["email", "city"]), key=lambda row: row["id"]),
            sorted(expected, key=lambda row: row["id"]),
        )
        # Half-way through a rotation to a second key, one read opens texts of both keys and both forms.
        values = dict.fromkeys(SEALED_FIELDS)
        values.update(legal_name=PERSON["name"], email="qform0@example.com", city="Qformby")
        self.env.cr.execute(
            "UPDATE customer_identity SET sealed_values = %s WHERE id = %s",
            [self.seal_as_before(values), identities[0].id],
        )
        self.env.invalidate_all()
        with registry_keys([(2, new_key()), (1, self.key1)], [(1, self.index1)]):
            identities[1:3]._registry_reseal()
            self.env.cr.execute(
                "SELECT array_agg(DISTINCT left(sealed_values, 5)) FROM customer_identity WHERE id = ANY(%s)",
                [identities.ids],
            )
            self.assertEqual(sorted(self.env.cr.fetchone()[0]), ["crv1:", "crv1;", "crv2;"])
            self.env.invalidate_all()
            self.assertEqual(
                sorted(reader.read(["email", "city"]), key=lambda row: row["id"]),
                sorted(expected, key=lambda row: row["id"]),
            )

    def test_a_sealed_text_cannot_be_written_nor_altered_to_open(self):
        """A personal-data user cannot copy another member's sealed text onto an identity (its values
        would read under this member's code, audited as this member); an altered text does not open."""
        first, second = (self.create_member(email=f"qcopy{index}@example.com") for index in range(2))
        self.env.flush_all()
        mine = first.registry_identity_ids.with_user(self.pii_user)
        theirs = second.registry_identity_ids.with_user(self.pii_user)
        # No user reads a sealed text (nor a blind index): taken here as a backup would show it.
        with self.assertRaises(AccessError):
            theirs.read(["sealed_values"])
        with self.assertRaises(AccessError):
            theirs.read(["email_index"])
        token = theirs.sudo().sealed_values
        for vals in ({"sealed_values": token}, {"email_index": "x"}, {"key_version": 0}):
            with self.assertRaises(UserError):
                mine.write(vals)
        with self.assertRaises(UserError):
            self.env["customer.identity"].with_user(self.pii_user).create(
                {"partner_id": first.id, "sealed_values": token}
            )
        result = (
            self.env["customer.identity"]
            .with_user(self.pii_user)
            .load([".id", "sealed_values"], [[str(mine.id), token]])
        )
        self.assertTrue(result["messages"], "an import of the sealed text is refused")
        self.env.invalidate_all()
        self.assertEqual(mine.email, "qcopy0@example.com")
        self.assertEqual(sealing.unseal(token, theirs.id)["email"], "qcopy1@example.com")
        # Copied by SQL onto another identity's row, the text does not open there.
        self.env.cr.execute("UPDATE customer_identity SET sealed_values = %s WHERE id = %s", [token, mine.id])
        self.env.invalidate_all()
        with self.assertRaises(UserError):
            mine.read(["email"])
        # Appended, inserted or re-prefixed, a text does not open (strict base64, one way to write a version).
        body = token.partition(";")[2]
        for altered in (
            token + "QUJD",
            f"crv1;{body[:20]}\n{body[20:]}",
            f"crv01;{body}",
            f"crv1;{body[:20]}-{body[20:]}",
        ):
            with self.assertRaises(sealing.SealingError, msg=repr(altered[:8])):
                sealing.unseal(altered, theirs.id)
        # An empty text is no text: the row reads its (empty) columns, alone or beside a sealed row.
        self.env.cr.execute("UPDATE customer_identity SET sealed_values = '' WHERE id = %s", [mine.id])
        self.env.invalidate_all()
        rows = {row["id"]: row["email"] for row in (mine | theirs).read(["email"])}
        self.assertEqual(rows, {mine.id: False, theirs.id: "qcopy1@example.com"})
        self.env.invalidate_all()
        self.assertEqual(mine.read(["email"]), [{"id": mine.id, "email": False}])

    def test_many_sealed_texts_open_together_and_a_bad_one_is_refused(self):
        names = ("email", "city", "notes")
        values = [
            {"email": f"q{index}@example.com", "city": "Qby" * index or None, "notes": None} for index in range(7)
        ]
        tokens = [sealing.seal(value, row) for row, value in enumerate(values)]
        rows = list(range(len(values)))
        columns = sealing.unseal_columns(tokens, rows, names)
        self.assertEqual(columns, {name: [value[name] for value in values] for name in names})
        # A text sealed as JSON by an earlier version opens among framed ones.
        key = base64.urlsafe_b64decode(self.key1)
        nonce = os.urandom(sealing.NONCE_SIZE)
        earlier = AESGCM(key).encrypt(nonce, b'{"email":"old@example.com","city":null}', sealing.ASSOCIATED_DATA)
        earlier = f"crv1:{base64.urlsafe_b64encode(nonce + earlier).decode()}"
        self.assertEqual(
            sealing.unseal_columns([tokens[0], earlier], [0, 99], names)["email"], ["q0@example.com", "old@example.com"]
        )
        # One changed character, valid base64 or not, refuses the whole read rather than returning garbage.
        for bad_char in ("A" if tokens[3][30] != "A" else "B", "!"):
            forged = tokens[3][:30] + bad_char + tokens[3][31:]
            with self.assertRaises(sealing.SealingError):
                sealing.unseal_columns([*tokens[:3], forged, *tokens[4:]], rows, names)
        # NUL frames the values: a value holding one is refused, as PostgreSQL refuses it in plain text.
        with self.assertRaises(ValueError):
            sealing.seal({"email": "a\x00b@example.com"}, 1)
