"""Erasure (GDPR Art. 17) and the member's copy of their data (Art. 15 and 20)."""

import base64
import json
import os

import psycopg2

from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import Form, HttpCase, new_test_user, tagged
from odoo.tools import mute_logger

from .common import RegistryCase, stored_places
from .pos_privacy_common import PosPrivacyCase

PERSON = {
    "name": "Zelda Qverasure",
    "email": "zelda.qverasure@example.com",
    "phone": "+47 48 77 12 93",
    "street": "Qverasuregata 5",
    "city": "Qverasureby",
}


@tagged("post_install", "-at_install")
class TestErasure(PosPrivacyCase):
    def make_member_everywhere(self):
        """A contact edited in earlier requests, buying, enrolled, with a profile, chatter and a receipt by email."""
        Partner = self.env["res.partner"].with_context(
            tracking_disable=False, mail_notrack=False, mail_create_nolog=False
        )
        contact = Partner.create({**PERSON, "street": "Qverasure Old Road 1"})
        self.commit_like()
        contact.write({"street": PERSON["street"]})
        self.commit_like()
        before = self.sync(contact, quantity=2)
        with Form(contact.with_user(self.pii_user)) as form:
            form.is_registry_member = True
            form.registry_greeting_name = "Zelda"
        self.commit_like()
        contact.write({"registry_service_notes": "Zelda likes the corner table"})
        contact.message_post(body="Zelda called about her order")
        self.env["ir.attachment"].create(
            {"name": "zelda.txt", "raw": b"note", "res_model": "res.partner", "res_id": contact.id}
        )
        after = self.sync(contact, quantity=2)
        after.with_user(self.cashier).action_send_receipt(PERSON["email"], base64.b64encode(b"jpg").decode(), False)
        # Free text about the member on its orders, and a message it wrote on another document.
        after.write({"general_customer_note": "Zelda Qverasure collects at 5", "internal_note": "Call Zelda"})
        after.lines[:1].customer_note = "For Zelda Qverasure"
        self.env["res.partner"].create({"name": "Supplier"}).message_post(
            body="Regards, Zelda Qverasure", author_id=contact.id, message_type="comment"
        )
        self.commit_like()
        return contact, before | after

    def test_erasure_leaves_nothing_of_the_person_and_keeps_the_orders(self):
        member, orders = self.make_member_everywhere()
        code = member.pseudonym
        values = [*PERSON.values(), "Zelda", "Qverasure Old Road"]
        self.assertIn("customer_identity.legal_name", stored_places(self.env, values).get(PERSON["name"], []))
        totals = orders.mapped("amount_total")

        wizard = (
            self.env["customer.erasure.wizard"]
            .with_user(self.pii_user)
            .with_context(active_model="res.partner", active_ids=member.ids)
            .create({"reason": "request"})
        )
        with self.assertRaises(UserError):
            wizard.action_erase()
        wizard.confirmed = True
        wizard.action_erase()
        self.commit_like()

        self.assertEqual(stored_places(self.env, values), {}, "something of the person is still stored")
        member.invalidate_recordset()
        self.assertEqual((member.pseudonym, member.name, member.is_registry_member), (code, code, True))
        self.assertTrue(member.registry_erased_at)
        self.assertFalse(member.active)
        orders.invalidate_recordset()
        self.assertEqual(orders.mapped("amount_total"), totals)
        self.assertEqual(set(orders.mapped("pseudonym")), {code}, "the orders stay under the card code")
        log = self.env["customer.erasure.log"].sudo().search([("pseudonym", "=", code)])
        self.assertRecordValues(log, [{"member_id": member.id, "user_id": self.pii_user.id, "reason": "request"}])
        # The member has no identity any more, and the database accepts that only for an erased member.
        self.env.cr.execute("SET CONSTRAINTS customer_registry_member_has_identity IMMEDIATE")
        self.env.cr.execute("SET CONSTRAINTS customer_registry_member_has_identity DEFERRED")
        # Erasing again changes nothing.
        member.with_user(self.pii_user)._registry_erase("request")
        self.assertEqual(self.env["customer.erasure.log"].sudo().search_count([("pseudonym", "=", code)]), 1)

    def test_attachment_files_leave_the_filestore(self):
        """The files of the member's attachments are on disk, outside the database: they go too."""
        member = self.env["res.partner"].create({"name": "Fiona Filestore", "is_registry_member": True})
        attachment = self.env["ir.attachment"].create(
            {"name": "id.txt", "raw": b"Fiona Filestore, born 1980", "res_model": "res.partner", "res_id": member.id}
        )
        path = attachment._full_path(attachment.store_fname)
        # Odoo's daily filestore clean-up ran since: the file is in use, it stays and is checked no more.
        self.env["ir.attachment"]._gc_file_store_unsafe()
        self.assertTrue(os.path.exists(path))
        member.with_user(self.pii_user)._registry_erase("request")
        self.assertFalse(attachment.exists())
        # The next clean-up removes the files no attachment uses any more.
        self.env["ir.attachment"]._gc_file_store_unsafe()
        self.assertFalse(os.path.exists(path), "the member's file is still on disk")

    def test_only_personal_data_users_erase_and_the_log_is_append_only(self):
        member = self.env["res.partner"].create({"name": "Per Persen", "is_registry_member": True})
        for user in (self.cashier,):
            with self.assertRaises(AccessError):
                member.with_user(user)._registry_erase("request")
            with self.assertRaises(AccessError):
                self.env["customer.erasure.wizard"].with_user(user).create(
                    {"member_ids": member.ids, "reason": "request", "confirmed": True}
                ).action_erase()
        self.assertTrue(member.sudo().registry_identity_ids)
        member.with_user(self.pii_user)._registry_erase("storage_limit")
        log = self.env["customer.erasure.log"].sudo().search([("member_id", "=", member.id)])
        with self.assertRaises(UserError):
            log.write({"reason": "request"})
        with self.assertRaises(UserError):
            log.unlink()
        with self.assertRaises(AccessError):
            self.env["customer.erasure.log"].with_user(self.pii_user).create(
                {"pseudonym": "x", "company_id": self.env.company.id, "user_id": self.pii_user.id, "reason": "request"}
            )
        with mute_logger("odoo.sql_db"), self.assertRaises(psycopg2.errors.CheckViolation), self.env.cr.savepoint():
            self.env.cr.execute("DELETE FROM customer_erasure_log WHERE id = %s", [log.id])
        # Without erasure, a member without identity is still refused at commit.
        other = self.env["res.partner"].create({"name": "Ola Olsen", "is_registry_member": True})
        with mute_logger("odoo.sql_db"), self.assertRaises(psycopg2.errors.CheckViolation), self.env.cr.savepoint():
            self.env.cr.execute("DELETE FROM customer_identity WHERE partner_id = %s", [other.id])
            self.env.cr.execute("SET CONSTRAINTS customer_registry_member_has_identity IMMEDIATE")


@tagged("post_install", "-at_install")
class TestAccessExport(PosPrivacyCase):
    def test_the_copy_holds_every_value_of_that_member_only(self):
        member = self.env["res.partner"].create(
            {**PERSON, "zip": "5003", "is_registry_member": True, "registry_greeting_name": "Zelda"}
        )
        member.sudo().registry_identity_ids.birthdate = "1990-04-01"
        other = self.env["res.partner"].create(
            {"name": "Otto Other", "email": "otto@example.com", "is_registry_member": True}
        )
        self.env["customer.consent"].create({"partner_id": member.id, "purpose": "health"})
        marketing = self.env["customer.consent"].create({"partner_id": member.id, "purpose": "marketing"})
        marketing.action_withdraw()
        member.write(
            {
                "registry_allergen_ids": [(4, self.env.ref("customer_registry.allergen_nuts").id)],
                "registry_service_notes": "Window table",
            }
        )
        for customer in (member, other):
            data = self.create_ui_order_data([(self.product, 3)], customer=customer)
            self.env["pos.order"].sync_from_ui([data])

        copy = member.with_user(self.pii_user)._registry_access_export()
        text = json.dumps(copy)
        for value in (*PERSON.values(), "5003", "1990-04-01", "Zelda", "Window table", member.pseudonym):
            self.assertIn(value, text)
        self.assertNotIn("Otto", text)
        self.assertNotIn(other.pseudonym, text)
        self.assertEqual(len(copy["purchases"]), 1)
        self.assertEqual(copy["purchases"][0]["lines"][0]["quantity"], 3)
        self.assertEqual([c["purpose"] for c in copy["consents"]], ["health", "marketing"])
        self.assertTrue(copy["consents"][1]["withdrawn_at"])
        self.assertEqual(copy["profile"]["allergies"], [self.env.ref("customer_registry.allergen_nuts").name])
        with self.assertRaises(AccessError):
            member.with_user(self.cashier)._registry_access_export()


@tagged("post_install", "-at_install")
class TestAccessExportRoute(HttpCase):
    def test_the_copy_is_downloaded_as_json_and_html_by_personal_data_users_only(self):
        new_test_user(
            self.env,
            "cr_route_pii",
            groups="base.group_user,base.group_partner_manager,customer_registry.group_registry_pii",
        )
        new_test_user(self.env, "cr_route_cashier", groups="base.group_user,point_of_sale.group_pos_user")
        member = self.env["res.partner"].create({**PERSON, "is_registry_member": True})
        url = f"/customer_registry/access_export/{member.id}"
        self.authenticate("cr_route_pii", "cr_route_pii")
        response = self.url_open(url)
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.json()["identity"]["email"], PERSON["email"])
        page = self.url_open(f"{url}?format=html")
        self.assertIn(PERSON["street"], page.text)
        self.assertIn(member.pseudonym, page.text)
        self.authenticate("cr_route_cashier", "cr_route_cashier")
        with mute_logger("odoo.http"):
            refused = self.url_open(url)
        self.assertNotEqual(refused.status_code, 200)
        self.assertNotIn(PERSON["email"], refused.text)


@tagged("post_install", "-at_install")
class TestErasureMatchesWholeAddresses(RegistryCase):
    """Erasure removes mails, mailing contacts and traces of the member's own addresses, nobody else's."""

    def test_erasure_keeps_other_peoples_mailing_contacts(self):
        member = self.env["res.partner"].create(
            {"is_registry_member": True, "name": "Ann Qrev", "email": "ann@example.org"}
        )
        own = self.env["mailing.contact"].create({"name": "Ann", "email": "ANN@example.org"})
        other = self.env["mailing.contact"].create({"name": "Jo Ann", "email": "joann@example.org"})
        other_mail = self.env["mail.mail"].create({"email_to": "joann@example.org, x@example.net", "body_html": "Hi"})
        own_mail = self.env["mail.mail"].create({"email_to": "x@example.net, Ann <ann@example.org>", "body_html": "Hi"})
        member.with_user(self.pii_user)._registry_erase("request")
        self.assertFalse(own.exists())
        self.assertFalse(own_mail.exists())
        self.assertTrue(other.exists(), "erasing ann@example.org deleted joann@example.org's mailing contact")
        self.assertTrue(other_mail.exists(), "erasing ann@example.org deleted a mail to joann@example.org")

    def test_wildcard_email_is_refused_and_matches_nothing(self):
        with self.assertRaises(ValidationError):
            self.env["res.partner"].create({"is_registry_member": True, "name": "Wild Qrev", "email": "%"})
        with self.assertRaises(ValidationError):
            self.identity.write({"email": "%@%"})
        bystander = self.env["mailing.contact"].create({"name": "Bystander", "email": "someone@else.test"})
        self.env["res.partner"]._registry_erase_address_traces(["%", "%@%", "_@else.test"], ["%"])
        self.assertTrue(bystander.exists(), "an address holding wildcards deleted every mailing contact")
