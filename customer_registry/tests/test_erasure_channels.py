"""Erasure and storage limits through channels an outside review found the earlier proofs missed (issue 10)."""

import json
from unittest.mock import patch

from odoo.exceptions import UserError
from odoo.tests import new_test_user, tagged

from .common import RegistryCase, stored_places
from .pos_privacy_common import PosPrivacyCase

PERSON = {
    "name": "Xaver Qprobeson",
    "email": "xaver.qprobeson@example.com",
    "phone": "+47 41 55 66 77",
    "street": "Qprobegata 3",
}
PHONE_DIGITS = "41556677"


@tagged("post_install", "-at_install")
class TestErasureChannels(RegistryCase):
    def commit_like(self):
        self.env.flush_all()
        self.env.cr.precommit.run()

    def new_member(self, **extra):
        return self.env["res.partner"].create({**PERSON, "is_registry_member": True, **extra})

    def erase(self, member):
        member.with_user(self.pii_user)._registry_erase("request")
        self.commit_like()

    def leftovers(self):
        values = [PERSON["name"], PERSON["email"], PERSON["street"], "Qprobeson", PHONE_DIGITS, "41 55 66 77"]
        return stored_places(self.env, values)

    # 1. Newsletter opt-out (mass_mailing's "unsubscribe from all" / blocklist)
    def test_a_blocklisted_address_is_erased(self):
        member = self.new_member()
        # The member clicked "unsubscribe" in a newsletter: mass_mailing blocklists the address.
        self.env["mail.blacklist"].sudo()._add(PERSON["email"], message="Blocklist request from unsubscribe link")
        self.commit_like()
        self.erase(member)
        self.env.cr.execute("SELECT id, email FROM mail_blacklist WHERE email ILIKE %s", [PERSON["email"]])
        rows = self.env.cr.fetchall()
        lookup = self.env["privacy.lookup.wizard"].create({"name": PERSON["name"], "email": PERSON["email"]})
        lookup.action_lookup()
        found = [(line.res_model, line.res_name) for line in lookup.line_ids]
        self.assertEqual(rows, [], f"mail_blacklist.email after erasure; privacy_lookup finds {found}")
        self.assertEqual(found, [], "privacy_lookup finds records after the erasure")

    # 2. An SMS to the member from its chatter (the number typed in Odoo's SMS composer)
    def test_an_sms_to_the_member_is_erased(self):
        member = self.new_member()
        composer = (
            self.env["sms.composer"]
            .with_context(active_model="res.partner", active_id=member.id)
            .create(
                {
                    "body": "Hi Xaver Qprobeson, your cake is ready",
                    "composition_mode": "comment",
                    "res_model": "res.partner",
                    "res_id": member.id,
                    "recipient_single_number_itf": PERSON["phone"],
                }
            )
        )
        composer.action_send_sms()
        self.commit_like()
        self.env.cr.execute("SELECT count(*) FROM sms_sms WHERE number LIKE %s", [f"%{PHONE_DIGITS}%"])
        self.assertTrue(self.env.cr.fetchone()[0], "the SMS is queued before the erasure")
        self.erase(member)
        self.env.cr.execute("SELECT number, body FROM sms_sms WHERE number LIKE %s", [f"%{PHONE_DIGITS}%"])
        rows = self.env.cr.fetchall()
        self.assertEqual(rows, [], f"sms_sms keeps the member's number; all places: {self.leftovers()}")

    # 3. Bus notifications of the member's chatter (an internal user follows the member, inbox notifications)
    def test_bus_notifications_of_its_chatter_are_erased(self):
        follower = new_test_user(self.env, "cr_erasure_follower", groups="base.group_user", notification_type="inbox")
        member = self.new_member()
        member.message_subscribe(partner_ids=follower.partner_id.ids)
        member.message_post(
            body="Xaver Qprobeson called: deliver to Qprobegata 3",
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
        )
        self.commit_like()
        self.erase(member)
        self.env.cr.execute("SELECT id, channel FROM bus_bus WHERE message ILIKE %s", ["%Qprobeson%"])
        rows = self.env.cr.fetchall()
        self.assertEqual(rows, [], f"bus_bus.message keeps the chatter; all places: {self.leftovers()}")

    # 4. The storage limit: an old contact enrolled today, never bought
    def enroll_an_old_contact(self):
        """A contact of the shop's address book for three years, joining the register today (24-month limit)."""
        contact = self.env["res.partner"].create(dict(PERSON))
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE res_partner SET create_date = now() - interval '3 years' WHERE id = %s", [contact.id]
        )
        contact.invalidate_recordset()
        contact.with_user(self.pii_user).write({"is_registry_member": True})
        self.company.registry_erase_inactive_months = 24
        return contact

    def test_a_contact_enrolled_today_is_not_due(self):
        contact = self.enroll_an_old_contact()
        self.assertTrue(contact.is_registry_member)
        erase, _health = self.env["res.partner"]._registry_storage_limit_due(self.company)
        self.assertNotIn(
            contact.pseudonym,
            erase,
            "a member enrolled today ('if they never bought, no enrollment for 24 months') is due for erasure",
        )

    def test_the_job_keeps_a_contact_enrolled_today(self):
        contact = self.enroll_an_old_contact()
        with patch.object(type(self.env["ir.cron"]), "_commit_progress", lambda *args, **kwargs: 0):
            self.env["res.partner"]._cron_registry_storage_limits()
        contact.invalidate_recordset()
        self.assertFalse(contact.registry_erased_at, "the daily job erased a member who enrolled today")

    def test_the_enrollment_date_is_the_databases(self):
        """Written, imported or given as a context default, an earlier enrollment date would erase a new
        member the next night: the ORM refuses it, the database sets its own clock whatever was written."""
        Partner = self.env["res.partner"].with_user(self.pii_user)
        with self.assertRaises(UserError):
            Partner.create({**PERSON, "is_registry_member": True, "registry_enrolled_at": "2020-01-01 00:00:00"})
        member = Partner.with_context(default_registry_enrolled_at="2020-01-01 00:00:00").create(
            {**PERSON, "is_registry_member": True}
        )
        with self.assertRaises(UserError):
            member.write({"registry_enrolled_at": "2020-01-01 00:00:00"})
        backdated = (
            self.env["res.partner"]
            .sudo()
            .create({"name": "Qearly", "is_registry_member": True, "registry_enrolled_at": "2020-01-01 00:00:00"})
        )
        self.env.flush_all()
        self.env.cr.execute("SELECT now() AT TIME ZONE 'UTC'")
        now = self.env.cr.fetchone()[0]
        (member | backdated).invalidate_recordset(["registry_enrolled_at"])
        self.assertEqual(member.registry_enrolled_at.replace(microsecond=0), now.replace(microsecond=0))
        self.assertEqual(backdated.registry_enrolled_at.replace(microsecond=0), now.replace(microsecond=0))

    # 5. A loyalty adjustment's reason, typed by staff about the member
    def test_a_loyalty_adjustment_reason_is_erased(self):
        member = self.new_member()
        self.env["customer.loyalty.adjustment"].create(
            {"member_id": member.id, "points": 50, "reason": "Xaver Qprobeson's birthday cake was late"}
        ).action_post()
        self.commit_like()
        self.erase(member)
        self.env.cr.execute(
            "SELECT id, note FROM customer_loyalty_entry WHERE member_id = %s AND note ILIKE %s",
            [member.id, "%Qprobeson%"],
        )
        rows = self.env.cr.fetchall()
        self.assertEqual(rows, [], f"customer_loyalty_entry.note after erasure; all places: {self.leftovers()}")

    # 6. A newsletter link the member clicked (mass_mailing's link tracking)
    def test_the_clicks_of_its_newsletter_links_are_erased(self):
        member = self.new_member()
        mailing_list = self.env["mailing.list"].create({"name": "Qprobe news"})
        contact = self.env["mailing.contact"].create(
            {"name": member.pseudonym, "email": PERSON["email"], "list_ids": [(4, mailing_list.id)]}
        )
        mailing = self.env["mailing.mailing"].create(
            {"subject": "News", "body_html": "<p>Hi</p>", "contact_list_ids": [(4, mailing_list.id)]}
        )
        trace = self.env["mailing.trace"].create(
            {
                "trace_type": "mail",
                "mass_mailing_id": mailing.id,
                "model": "mailing.contact",
                "res_id": contact.id,
                "email": PERSON["email"],
            }
        )
        tracker = self.env["link.tracker"].create({"url": "https://example.com/menu", "mass_mailing_id": mailing.id})
        self.env["link.tracker.click"].sudo().add_click(
            tracker.code, ip="203.0.113.77", country_code="NO", mailing_trace_id=trace.id, mass_mailing_id=mailing.id
        )
        self.commit_like()
        self.erase(member)
        self.env.cr.execute("SELECT id, ip, mailing_trace_id FROM link_tracker_click WHERE ip = '203.0.113.77'")
        rows = self.env.cr.fetchall()
        self.assertEqual(rows, [], "link_tracker_click.ip of the member's click after erasure")

    # 7. A greeting name on a sales receipt (account.move out_receipt: not refused for members)
    def test_the_greeting_name_leaves_a_sales_receipt(self):
        member = self.new_member(registry_greeting_name="Qwilmina")
        move = self.env["account.move"].create(
            {
                "move_type": "out_receipt",
                "partner_id": member.id,
                "invoice_line_ids": [(0, 0, {"name": "Cake", "quantity": 1, "price_unit": 100.0})],
            }
        )
        move.action_post()
        self.commit_like()
        before = stored_places(self.env, ["Qwilmina"])
        self.erase(member)
        self.assertEqual(stored_places(self.env, ["Qwilmina"]), {}, f"greeting name left; before erasure: {before}")

    # 8. Tracking of another document's customer: a sales receipt moved from the member to another contact
    def test_the_greeting_name_leaves_the_tracking_of_another_document(self):
        member = self.new_member(registry_greeting_name="Qwilmina")
        other = self.env["res.partner"].create({"name": "Walk-in Customer"})
        move = self.env["account.move"].create(
            {
                "move_type": "out_receipt",
                "partner_id": member.id,
                "invoice_line_ids": [(0, 0, {"name": "Cake", "quantity": 1, "price_unit": 100.0})],
            }
        )
        self.commit_like()
        move.partner_id = other  # the receipt was for someone else: corrected (tracked)
        self.commit_like()
        self.erase(member)
        self.env.cr.execute(
            "SELECT id, old_value_char, new_value_char FROM mail_tracking_value "
            "WHERE old_value_char ILIKE '%%Qwilmina%%' OR new_value_char ILIKE '%%Qwilmina%%'"
        )
        rows = self.env.cr.fetchall()
        self.assertEqual(
            rows,
            [],
            f"mail_tracking_value keeps the greeting name; all places: {stored_places(self.env, ['Qwilmina'])}",
        )


@tagged("post_install", "-at_install")
class TestErasureTillChannels(PosPrivacyCase):
    def member_order_then_erase(self, line_note=None, floating_order_name=None, cardholder_name=None):
        """A member's order synced from the till with these values; then the member is erased."""
        member = self.env["res.partner"].create({**PERSON, "is_registry_member": True})
        line = {"product": self.product, "quantity": 1}
        if line_note:
            line["note"] = line_note
        data = self.create_ui_order_data(
            [line],
            customer=member,
            pos_order_ui_args={"floating_order_name": floating_order_name} if floating_order_name else {},
        )
        if cardholder_name:
            data["payment_ids"][0][2].update({"cardholder_name": cardholder_name, "card_no": "4242"})
        result = self.env["pos.order"].with_user(self.cashier).sync_from_ui([data])
        order = self.env["pos.order"].browse(result["pos.order"][0]["id"])
        self.commit_like()
        before = stored_places(self.env, ["Qprobeson"])
        member.with_user(self.pii_user)._registry_erase("request")
        self.commit_like()
        self.assertTrue(order.exists() and member.registry_erased_at)
        return order, before

    def test_the_name_typed_on_its_order_is_erased(self):
        order, before = self.member_order_then_erase(floating_order_name="Xaver Qprobeson")
        self.env.cr.execute("SELECT floating_order_name FROM pos_order WHERE id = %s", [order.id])
        self.assertFalse(self.env.cr.fetchone()[0], f"pos_order.floating_order_name after erasure (before: {before})")

    def test_the_kitchen_notes_of_its_order_lines_are_erased(self):
        order, before = self.member_order_then_erase(line_note="No nuts: Xaver Qprobeson is allergic")
        self.env.cr.execute("SELECT note FROM pos_order_line WHERE order_id = %s", [order.id])
        self.assertEqual(
            [row[0] for row in self.env.cr.fetchall() if row[0]], [], f"pos_order_line.note after erasure ({before})"
        )

    def test_the_cardholder_name_of_its_payments_is_erased(self):
        order, before = self.member_order_then_erase(cardholder_name="QPROBESON/XAVER")
        self.env.cr.execute("SELECT cardholder_name FROM pos_payment WHERE pos_order_id = %s", [order.id])
        self.assertEqual(
            [row[0] for row in self.env.cr.fetchall() if row[0]],
            [],
            f"pos_payment.cardholder_name after erasure ({before})",
        )


@tagged("post_install", "-at_install")
class TestErasureLeavesOthers(RegistryCase):
    """What the erasure of Kari (kari@example.com, +47 912 34 567, Storgata 1) must not touch: other people's
    numbers, addresses and documents that merely look like hers (found by a review of the erasure above)."""

    def commit_like(self):
        self.env.flush_all()
        self.env.cr.precommit.run()

    def erase_kari(self):
        self.commit_like()
        self.member.with_user(self.pii_user)._registry_erase("request")
        self.commit_like()

    def bus_note(self, body):
        return (
            self.env["bus.bus"]
            .sudo()
            .create(
                {
                    "channel": json.dumps(["probe", "res.partner", 1]),
                    "message": json.dumps({"type": "mail.message/inbox", "payload": {"body": body}}),
                }
            )
        )

    def test_an_sms_to_another_number_ending_like_hers_stays(self):
        """+1 479 123 4567 (a US number) ends with Kari's digits 4791234567: it is someone else's."""
        other = self.env["res.partner"].create({"name": "Joe Smith", "phone": "+1 479 123 4567"})
        sms = (
            self.env["sms.sms"]
            .sudo()
            .create({"number": "+1 479 123 4567", "body": "Joe, your order is ready", "partner_id": other.id})
        )
        self.erase_kari()
        self.assertTrue(sms.exists(), "another person's SMS was deleted by Kari's erasure")

    def test_notifications_of_longer_addresses_stay_and_hers_go(self):
        others = self.bus_note("Ola: write to nikari@example.com")
        street = self.bus_note("Ola moved to Storgata 12")
        hers = self.bus_note("Kari moved to Storgata 1, write to kari@example.com")
        self.erase_kari()
        self.assertTrue(others.exists(), "a notification naming nikari@example.com was deleted")
        self.assertTrue(street.exists(), "a notification naming Storgata 12 was deleted")
        self.assertFalse(hers.exists(), "the notification naming Kari stays")

    def test_another_documents_change_to_another_customer_stays(self):
        """A receipt of Kari's was corrected to Ola: its history stays, Kari's side shows her card code."""
        ola = self.env["res.partner"].create({"name": "Ola Hansen"})
        move = self.env["account.move"].create(
            {
                "move_type": "out_receipt",
                "partner_id": self.member.id,
                "invoice_line_ids": [(0, 0, {"name": "Cake", "quantity": 1, "price_unit": 100.0})],
            }
        )
        self.commit_like()
        move.partner_id = ola
        self.commit_like()
        self.erase_kari()
        self.env.cr.execute(
            "SELECT old_value_char FROM mail_tracking_value WHERE old_value_integer = %s AND new_value_integer = %s",
            [self.member.id, ola.id],
        )
        self.assertEqual(self.env.cr.fetchall(), [(self.member.pseudonym,)], "the change to Ola stays, under the code")

    def test_an_sms_to_her_from_another_document_leaves_no_number(self):
        shop = self.env["res.partner"].create({"name": "Bakery front desk"})
        shop._message_sms(
            "Your cake is ready", partner_ids=self.member.ids, sms_pid_to_number={self.member.id: "+4791234567"}
        )
        self.commit_like()
        self.assertTrue(stored_places(self.env, ["4791234567"]), "precondition: the number is stored")
        self.erase_kari()
        after = stored_places(self.env, ["4791234567", "91234567"])
        self.assertEqual(after, {}, f"Kari's number after her erasure: {after}")
