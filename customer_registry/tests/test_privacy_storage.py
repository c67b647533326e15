"""Where a member's personal values are stored, byte for byte, and what the till's orders keep.

Members are created through every path a shop uses, each with its own
values, the transaction is "committed" the way a request commits (flush and
precommit hooks: mail's tracking), and then every text column of every table
of the database is scanned for those values.  They may only be in the
identity table, and in the places README.md names.
"""

import base64

import psycopg2

from odoo import Command
from odoo.exceptions import UserError
from odoo.tests import Form, tagged
from odoo.tools import mute_logger

from .common import stored_places
from .pos_privacy_common import PosPrivacyCase

# Tables where a member's values may legitimately be (README, "Where personal data is stored").
ALLOWED_TABLES = {"customer_identity", "mail_mail"}


def person(tag):
    """Personal values that occur nowhere else in a database."""
    return {
        "name": f"Qx{tag} Legalname",
        "email": f"qx{tag.lower()}@example.com",
        "phone": f"+47 5{abs(hash(tag)) % 10**7:07d}",
        "street": f"Qx{tag}vegen 17",
        "city": f"Qx{tag}by",
    }


@tagged("post_install", "-at_install")
class TestPrivacyStorage(PosPrivacyCase):
    def where_stored(self, values):
        return stored_places(self.env, values)

    def test_personal_values_are_stored_only_in_the_identity(self):
        # Odoo's test classes turn chatter off; a shop has it on.
        Partner = self.env["res.partner"].with_context(
            tracking_disable=False, mail_notrack=False, mail_create_nolog=False
        )
        people = {}

        # Backend form, as a personal-data user.
        people["Form"] = person("Form")
        with Form(Partner.with_user(self.pii_user)) as form:
            for key, value in people["Form"].items():
                setattr(form, key, value)
            form.is_registry_member = True

        # The POS "create customer" dialog: the contact form with the POS's context.
        people["Pos"] = person("Pos")
        with Form(Partner.with_user(self.cashier).with_context(default_is_registry_member=True)) as form:
            for key, value in people["Pos"].items():
                setattr(form, key, value)

        # Import without the member column, under the Members menu's default.
        people["Import"] = person("Import")
        values = people["Import"]
        wizard = self.env["base_import.import"].create(
            {
                "res_model": "res.partner",
                "file": ("name,email,phone,street,city\n" + ",".join(values.values()) + "\n").encode(),
                "file_type": "text/csv",
                "file_name": "members.csv",
            }
        )
        result = wizard.with_context(default_is_registry_member=True).execute_import(
            list(values), [], {"quoting": '"', "separator": ",", "has_headers": True}
        )
        self.assertFalse(result["messages"])

        # name_create (a many2one's "Create ...") and RPC create with defaults.
        people["Quick"] = person("Quick")
        Partner.with_user(self.cashier).with_context(default_is_registry_member=True).name_create(
            f"{people['Quick']['name']} <{people['Quick']['email']}>"
        )
        people["Rpc"] = person("Rpc")
        Partner.with_user(self.cashier).with_context(
            default_is_registry_member=True, default_email=people["Rpc"]["email"], default_city=people["Rpc"]["city"]
        ).create({k: v for k, v in people["Rpc"].items() if k not in ("email", "city")})

        # A contact edited in earlier requests (mail tracks it), bought with an emailed receipt, then enrolled.
        people["Track"] = person("Track")
        first = dict(people["Track"], street="Qx" + "Trackgata 1")
        people["Track"]["old_street"] = first["street"]
        contact = Partner.create({k: v for k, v in first.items() if k != "old_street"})
        self.commit_like()
        contact.write({"street": people["Track"]["street"], "phone": people["Track"]["phone"]})
        self.commit_like()
        self.assertIn(
            "mail_tracking_value.old_value_char", self.where_stored([first["street"]]).get(first["street"], [])
        )
        old_order = self.sync(contact)
        self.assertEqual(old_order.email, people["Track"]["email"], "a contact's order keeps its email")
        contact.write({"is_registry_member": True})
        self.commit_like()

        # A member's child contact is refused: its values go nowhere.
        people["Child"] = person("Child")
        with self.assertRaises(UserError):
            Partner.with_user(self.cashier).create({**people["Child"], "type": "invoice", "parent_id": contact.id})

        # A member's emailed receipt.
        people["Receipt"] = person("Receipt")
        member = Partner.create({**people["Receipt"], "is_registry_member": True})
        order = self.sync(member)
        order.with_user(self.cashier).action_send_receipt(
            people["Receipt"]["email"], base64.b64encode(b"receipt").decode(), False
        )
        self.commit_like()

        all_values = {value for values in people.values() for value in values.values()}
        found = self.where_stored(all_values)
        misplaced = {
            value: places
            for value, places in found.items()
            if any(place.split(".")[0] not in ALLOWED_TABLES for place in places)
        }
        self.assertFalse(misplaced, "personal values stored outside the identity")
        # And they are in the identities, so the scan does find what is there.
        for tag in ("Form", "Pos", "Import", "Quick", "Rpc", "Track", "Receipt"):
            self.assertIn("customer_identity.legal_name", found.get(people[tag]["name"], []), tag)
        for tag in ("Child",):
            self.assertNotIn(people[tag]["name"], found)
        # The receipt went out to the address given, and the sent mail is gone.
        outgoing = self.env["mail.mail"].sudo().search([("model", "=", "pos.order"), ("res_id", "=", order.id)])
        if outgoing:
            self.assertTrue(outgoing.auto_delete)
            self.assertNotEqual(outgoing.state, "sent")
        else:
            self.assertEqual(found[people["Receipt"]["email"]], ["customer_identity.email"])

    def test_orders_of_members_keep_no_contact_details_and_the_card_code_is_the_customer(self):
        member = self.env["res.partner"].create(
            {"name": "Sara Sand", "email": "sara@example.com", "phone": "+47 55 55 55 55", "is_registry_member": True}
        )
        order = self.sync(member, email="sara@example.com", mobile="+47 55 55 55 55")
        self.assertEqual(order.pseudonym, member.pseudonym)
        order.invalidate_recordset()
        self.assertFalse(order.email or order.mobile)
        orders = self.env["pos.order"].with_user(self.cashier)
        for domain in ([("email", "ilike", "sara")], [("mobile", "ilike", "55 55")]):
            self.assertFalse(orders.search(domain), domain)
        # The code is the customer's, whatever is written.
        walk_in = self.sync(False)
        for target, value in ((order, "not-a-code"), (walk_in, member.pseudonym)):
            target.write({"pseudonym": value})
            target.invalidate_recordset()
        self.assertEqual(order.pseudonym, member.pseudonym)
        self.assertFalse(walk_in.pseudonym)
        with mute_logger("odoo.sql_db"), self.env.cr.savepoint():
            self.env.cr.execute(
                "UPDATE pos_order SET pseudonym = 'not-a-code', email = 'x@example.com' WHERE id = %s", [order.id]
            )
            self.env.cr.execute("SELECT pseudonym, email FROM pos_order WHERE id = %s", [order.id])
            self.assertEqual(self.env.cr.fetchone(), (member.pseudonym, None))

    def test_a_member_order_cannot_be_invoiced(self):
        member = self.env["res.partner"].create({"name": "Ivar Invoice", "is_registry_member": True})
        with self.assertRaisesRegex(UserError, "pseudonymous"):
            self.sync(member, to_invoice=True)

    def test_invoices_orders_and_their_tracking_around_enrollment(self):
        Move = self.env["account.move"].with_context(tracking_disable=False, mail_notrack=False)
        placeholder = self.env["res.partner"].create({"name": "Walk-in Placeholder"})
        contact = self.env["res.partner"].create({"name": "Qxinv Legalname"})
        invoice_line = [Command.create({"name": "Cake", "price_unit": 10, "quantity": 1})]
        move = Move.create({"move_type": "out_invoice", "partner_id": contact.id, "invoice_line_ids": invoice_line})
        self.commit_like()
        # A contact with customer invoices stays an ordinary contact.
        with self.assertRaisesRegex(UserError, "customer invoices"):
            contact.write({"is_registry_member": True})
        # Once the invoice went to someone else, mail's tracking still names the contact: enrollment drops it.
        move.write({"partner_id": placeholder.id})
        self.commit_like()
        self.assertIn("mail_tracking_value.old_value_char", self.where_stored(["Qxinv Legalname"])["Qxinv Legalname"])
        contact.write({"is_registry_member": True})
        self.commit_like()
        self.assertEqual(self.where_stored(["Qxinv Legalname"]), {"Qxinv Legalname": ["customer_identity.legal_name"]})

    def test_a_member_of_another_company_never_reaches_an_order(self):
        other_company = self.env["res.company"].create({"name": "Other Bakery AS"})
        other_member = (
            self.env["res.partner"]
            .with_company(other_company)
            .create({"name": "Bodil Bakken", "is_registry_member": True})
        )
        order = self.sync(False)
        with self.assertRaisesRegex(UserError, "belongs to Other Bakery AS"):
            order.with_user(self.cashier).write({"partner_id": other_member.id})
        with self.assertRaises(psycopg2.errors.CheckViolation), mute_logger("odoo.sql_db"), self.env.cr.savepoint():
            self.env.cr.execute("UPDATE pos_order SET partner_id = %s WHERE id = %s", [other_member.id, order.id])
        # A shared contact that bought here cannot be enrolled by another company.
        shared = self.env["res.partner"].create({"name": "Shared Sigrid"})
        self.sync(shared)
        with self.assertRaisesRegex(UserError, "another company"):
            shared.with_company(other_company).write({"is_registry_member": True})
