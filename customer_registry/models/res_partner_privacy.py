import json
import logging
from collections import Counter

from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import SQL, email_normalize, email_normalize_all
from odoo.tools.sql import escape_psql

from .. import sealing
from .customer_loyalty_entry import ERASURE_SETTING

PII_GROUP = "customer_registry.group_registry_pii"
_logger = logging.getLogger(__name__)
COUNTED_ORDER_STATES = ("paid", "done")


IDENTITY_EXPORT_FIELDS = (
    "legal_name",
    "email",
    "phone",
    "street",
    "street2",
    "zip",
    "city",
    "state_id",
    "country_id",
    "birthdate",
    "vat",
    "notes",
)


def _delete_returning(cr, table, where, key="id"):
    """DELETE FROM table WHERE where, returning the rows of the columns named in key (comma-separated)."""
    cr.execute(
        SQL(
            "DELETE FROM %s WHERE %s RETURNING %s",
            SQL.identifier(table),
            where,
            SQL(", ").join(SQL.identifier(name) for name in key.split(",")),
        )
    )
    return cr.fetchall()


class ResPartner(models.Model):
    """The privacy lifecycle of a member: erasure (GDPR Art. 17), access export (Art. 15 and 20)."""

    # One file per concern of res.partner, as the layout asks: the vault, loyalty, the privacy lifecycle.
    _inherit = "res.partner"  # pylint: disable=consider-merging-classes-inherited

    registry_erased_at = fields.Datetime(
        string="Erased On",
        readonly=True,
        copy=False,
        help="The member's personal data was erased: the card code points to nobody any more.",
    )

    def _registry_check_privacy_right(self):
        if self.env.su:
            return  # the scheduled storage-limit job
        if not self.env.user.has_group(PII_GROUP):
            raise AccessError(self.env._("Only users allowed to read and edit personal data may do this."))
        self.check_access("write")

    def _registry_erase(self, reason):
        """Erase the members' personal data everywhere Odoo or this addon keeps it.

        Orders, invoices and loyalty entries stay (bookkeeping law) under the card
        code, which nothing links to a person any more.  Logged with who, when,
        which code and why.  Re-running on an erased member changes nothing.
        """
        members = self.filtered(lambda partner: partner.is_registry_member and not partner.registry_erased_at)
        if self - self.filtered("is_registry_member"):
            raise UserError(self.env._("Only registry members are erased here; use Odoo's tools for other contacts."))
        members._registry_check_privacy_right()
        if not members:
            return
        identities = members._registry_identity()
        # The identities are deleted below: the audit names the members' codes, which stay.
        self.env["customer.identity.audit"]._record_members(["email", "phone"], "erasure", identities.partner_id)
        traces = {
            member.id: [v for v in (identity.email, identity.phone) if v]
            for member, identity in ((i.partner_id, i) for i in identities)
        }
        emails = [identity.email for identity in identities if identity.email]
        removed = {member.id: {} for member in members}

        def delete_rows(table, where, *params, key="id"):
            return _delete_returning(self.env.cr, table, SQL(where, *params), key)

        def count_by_member(name, rows):
            for member_id, count in Counter(rows).items():
                if member_id in removed:
                    removed[member_id][name] = count

        self.env.flush_all()
        member_ids = members.ids
        for stats in removed.values():
            stats.update(messages=0, followers=0, activities=0)
        # The members as another document's partner (tracked many2one values show their label, the
        # greeting name), as the author of messages elsewhere: what enrollment forgets, erasure too.
        members._forget_tracked_personal_data()
        # The chatter of the member's record: messages (with their tracking values), followers,
        # activities and attachments; and the member as a follower of other documents.  One
        # statement per kind for the whole batch, not per member: the storage-limit job erases
        # thousands.
        rows = delete_rows("mail_message", "model = 'res.partner' AND res_id = ANY(%s)", member_ids, key="res_id")
        count_by_member("messages", [row[0] for row in rows])
        rows = delete_rows(
            "mail_followers",
            "(res_model = 'res.partner' AND res_id = ANY(%s)) OR partner_id = ANY(%s)",
            member_ids,
            member_ids,
            key="res_model,res_id,partner_id",
        )
        count_by_member(
            "followers",
            [
                res_id if res_model == "res.partner" and res_id in removed else partner
                for res_model, res_id, partner in rows
            ],
        )
        rows = delete_rows("mail_activity", "res_model = 'res.partner' AND res_id = ANY(%s)", member_ids, key="res_id")
        count_by_member("activities", [row[0] for row in rows])
        # Attachments through the ORM: their files are outside the database, and only an unlink
        # marks them for Odoo's filestore clean-up (a DELETE would leave them on disk for ever).
        attachments = (
            self.env["ir.attachment"]
            .sudo()
            .search(
                [
                    ("res_model", "=", "res.partner"),
                    ("res_id", "in", members.ids),
                    "|",
                    ("res_field", "=", False),
                    ("res_field", "!=", False),
                ]
            )
        )
        for member in members:
            removed[member.id]["attachments"] = len(attachments.filtered(lambda a, m=member: a.res_id == m.id))
        attachments.unlink()
        self._registry_erase_address_traces(
            emails, [identity.legal_name for identity in identities if identity.legal_name]
        )
        self._registry_erase_phone_traces(member_ids, [identity.phone for identity in identities if identity.phone])
        self._registry_erase_notifications(
            [
                value
                for identity in identities
                for value in (identity.legal_name, identity.email, identity.phone, identity.street)
                if value
            ]
        )
        self._registry_erase_ledger_notes(member_ids)
        # Free text written about the member elsewhere: the notes of its orders (not bookkeeping
        # data) and the bodies of messages it wrote on other documents.
        member_orders = "order_id IN (SELECT id FROM pos_order WHERE partner_id = ANY(%s))"
        for table, column, where in (
            ("pos_order", "general_customer_note", "partner_id = ANY(%s)"),
            ("pos_order", "internal_note", "partner_id = ANY(%s)"),
            # The name the cashier gave the order (a tab, a table: often the customer's).
            ("pos_order", "floating_order_name", "partner_id = ANY(%s)"),
            ("pos_order_line", "customer_note", member_orders),
            # The kitchen's note on a line ("no nuts, allergic"): health data too.
            ("pos_order_line", "note", member_orders),
            # Filled in by card terminals: the card holder's name. The payment and its amount stay.
            ("pos_payment", "cardholder_name", "pos_order_id IN (SELECT id FROM pos_order WHERE partner_id = ANY(%s))"),
            ("mail_message", "body", "author_id = ANY(%s)"),
        ):
            self.env.cr.execute(
                "SELECT 1 FROM information_schema.columns WHERE table_name = %s AND column_name = %s",
                [table, column],
            )
            if self.env.cr.fetchone():
                self.env.cr.execute(
                    SQL(
                        "UPDATE %s SET %s = NULL WHERE %s",
                        SQL.identifier(table),
                        SQL.identifier(column),
                        SQL(where, member_ids),
                    )
                )
        # The till's allergen confirmations on its orders tell of the member's allergies: gone with the person.
        self._registry_erase_order_allergen_warnings(member_ids)
        self.env.invalidate_all()

        identities.sudo().unlink()
        # The name a member asked to be greeted by goes, and its label is its code again.  One
        # UPDATE: a write() with a greeting name renames member by member (each label differs).
        greeted = members.filtered("registry_greeting_name")
        if greeted:
            self.env.cr.execute(
                SQL(
                    """UPDATE res_partner SET registry_greeting_name = NULL, name = pseudonym,
                              write_date = now() at time zone 'UTC', write_uid = %s
                        WHERE id = ANY(%s)""",
                    self.env.uid,
                    greeted.ids,
                )
            )
            greeted.invalidate_recordset(["registry_greeting_name", "name", "complete_name", "write_date", "write_uid"])
            greeted.modified(["name", "registry_greeting_name"])
        # The rest of the profile: preferences, health data, notes, area.
        # Without tracking: the chatter was just emptied, and would only get a message about the erasure.
        members.sudo().with_context(customer_registry_postal_area_sync=True, tracking_disable=True).write(
            {
                "registry_erased_at": fields.Datetime.now(),
                "registry_service_notes": False,
                "registry_preference_ids": [fields.Command.clear()],
                "registry_allergen_ids": [fields.Command.clear()],
                "registry_severe_allergen_ids": [fields.Command.clear()],
                "registry_diet_ids": [fields.Command.clear()],
                "registry_postal_area": False,
                "active": False,
            }
        )
        self.env["customer.erasure.log"].sudo().create(
            [
                {
                    "pseudonym": member.pseudonym,
                    "member_id": member.id,
                    "company_id": member.company_id.id,
                    "user_id": self.env.uid,
                    "reason": reason,
                    "removed": json.dumps({**removed[member.id], "contact_values": len(traces.get(member.id, []))}),
                }
                for member in members
            ]
        )

    @api.model
    def _registry_erase_address_traces(self, emails, names):
        """Outgoing mails, mailing contacts and traces with these addresses, and privacy_lookup's searches.

        Whole addresses only: a row goes when one of its addresses, normalised, is one of the member's
        (erasing ann@example.org leaves joann@example.org's mails). A LIKE with escaped wildcards only
        narrows the rows read; the exact comparison in Python decides, so an address holding % or _
        matches nothing else.
        """
        cr = self.env.cr
        wanted = {normalized for normalized in map(email_normalize, emails or ()) if normalized}
        if wanted:
            patterns = [f"%{escape_psql(email)}%" for email in wanted]

            def matching(table, column, key="id"):
                cr.execute(
                    SQL(
                        "SELECT %s, %s FROM %s WHERE %s ILIKE ANY(%s)",
                        SQL.identifier("id"),
                        SQL.identifier(column),
                        SQL.identifier(table),
                        SQL.identifier(column),
                        patterns,
                    )
                )
                return [row_id for row_id, value in cr.fetchall() if wanted.intersection(email_normalize_all(value))]

            mail_ids = matching("mail_mail", "email_to")
            if mail_ids:
                mails = _delete_returning(cr, "mail_mail", SQL("id = ANY(%s)", mail_ids), "mail_message_id")
                _delete_returning(cr, "mail_message", SQL("id = ANY(%s)", [row[0] for row in mails if row[0]]))
            # The member's clicks on the mailings' links (address, country): gone with the traces.
            if "link.tracker.click" in self.env and (trace_ids := matching("mailing_trace", "email")):
                _delete_returning(cr, "link_tracker_click", SQL("mailing_trace_id = ANY(%s)", trace_ids))
            for model, table in (("mailing.contact", "mailing_contact"), ("mailing.trace", "mailing_trace")):
                if model in self.env and (row_ids := matching(table, "email")):
                    _delete_returning(cr, table, SQL("id = ANY(%s)", row_ids))
            # The blocklist (an unsubscribed address): privacy_lookup finds it. Erased, the address is no
            # longer known here at all, so nothing is sent to it unless it is given again.
            if "mail.blacklist" in self.env and (row_ids := matching("mail_blacklist", "email")):
                _delete_returning(cr, "mail_message", SQL("model = 'mail.blacklist' AND res_id = ANY(%s)", row_ids))
                for table in ("mail_followers", "mail_activity"):
                    _delete_returning(cr, table, SQL("res_model = 'mail.blacklist' AND res_id = ANY(%s)", row_ids))
                _delete_returning(cr, "mail_blacklist", SQL("id = ANY(%s)", row_ids))
        # Odoo's privacy_lookup, used to answer the request, keeps what was looked up (name, email)
        # and the names of the records found in its wizard until the transient vacuum: not after this.
        # Exact (case-insensitive) values, never patterns: another person's search must stay.
        values = [value.strip().lower() for value in [*(emails or ()), *(names or ()), *wanted] if value]
        values = [value for value in values if value]
        if "privacy.lookup.wizard" in self.env and values:
            cr.execute(
                """DELETE FROM privacy_lookup_wizard_line line
                    WHERE lower(trim(line.res_name)) = ANY(%(values)s)
                       OR line.wizard_id IN (SELECT id FROM privacy_lookup_wizard
                                              WHERE lower(trim(email)) = ANY(%(values)s)
                                                 OR lower(trim(name)) = ANY(%(values)s));
                   DELETE FROM privacy_lookup_wizard
                    WHERE lower(trim(email)) = ANY(%(values)s) OR lower(trim(name)) = ANY(%(values)s)""",
                {"values": values},
            )

    @api.model
    def _registry_erase_phone_traces(self, member_ids, phones):
        """Text messages (SMS) to the members or their numbers, queued, sent or failed, and SMS composers
        left open on them: a chatter message's deletion only unlinks its SMS."""
        cr = self.env.cr
        if "sms.sms" not in self.env:
            return
        # A number as the member gave it, and, given without its country code, with the shop's
        # (+47 912 34 567 and 912 34 567 in a Norwegian shop): exact numbers only, never a suffix
        # (+1 479 123 4567 is someone else's).
        country_code = str(self.env.company.country_id.phone_code or "")
        wanted = set()
        for phone in phones:
            digits = sealing.normalize_phone(phone)
            if len(digits) < 6:
                continue
            wanted.add(digits)
            if country_code and not phone.strip().startswith(("+", "00")):
                wanted.add(country_code + digits.lstrip("0"))

        def by_number(table, column, where=None):
            if not wanted:
                return []
            # The last six digits narrow the rows read; the whole normalised number decides.
            patterns = [f"%{digits[-6:]}" for digits in wanted]
            cr.execute(
                SQL(
                    "SELECT id, %s FROM %s WHERE %s AND %s IS NOT NULL AND %s LIKE ANY(%s)",
                    SQL.identifier(column),
                    SQL.identifier(table),
                    where or SQL("TRUE"),
                    SQL.identifier(column),
                    SQL("regexp_replace(%s, '[^0-9]', '', 'g')", SQL.identifier(column)),
                    patterns,
                )
            )
            return [
                row_id
                for row_id, value in cr.fetchall()
                if any(
                    sealing.normalize_phone(number) in wanted
                    for number in (value or "").replace(";", ",").replace("\n", ",").split(",")
                )
            ]

        sms_ids = by_number("sms_sms", "number")
        _delete_returning(cr, "sms_sms", SQL("partner_id = ANY(%s) OR id = ANY(%s)", list(member_ids), sms_ids))
        # An SMS from another document's chatter to the member: its notification keeps the number.
        notification_ids = by_number("mail_notification", "sms_number", SQL("notification_type = 'sms'"))
        cr.execute(
            SQL(
                """UPDATE mail_notification SET sms_number = NULL
                    WHERE sms_number IS NOT NULL AND (res_partner_id = ANY(%s) OR id = ANY(%s))""",
                list(member_ids),
                notification_ids,
            )
        )
        if "sms.composer" in self.env:
            composer_ids = {
                *by_number("sms_composer", "numbers"),
                *by_number("sms_composer", "recipient_single_number_itf"),
            }
            _delete_returning(
                cr,
                "sms_composer",
                SQL(
                    "(res_model = 'res.partner' AND res_id = ANY(%s)) OR id = ANY(%s)",
                    list(member_ids),
                    list(composer_ids),
                ),
            )

    @api.model
    def _registry_erase_notifications(self, values):
        """The bus's pending notifications naming the members (kept a day for clients that reconnect):
        the chatter and mails they carried are gone, their copies go too. A value counts whole, not as
        part of a longer one (kari@ is not in nikari@, Storgata 1 not in Storgata 12); values of fewer
        than four characters are not searched."""
        patterns = set()
        for value in values:
            value = value.strip()
            if len(value) >= 4:
                for form in (value, json.dumps(value)[1:-1]):  # as written, and as JSON escapes it
                    literal = "".join(char if char.isalnum() else "\\" + char for char in form)
                    patterns.add(f"(^|[^[:alnum:]]){literal}([^[:alnum:]]|$)")
        if patterns and "bus.bus" in self.env:
            # Only notifications carrying messages are searched value by value (the till's own sync
            # notifications are many and never hold a message).
            _delete_returning(
                self.env.cr,
                "bus_bus",
                SQL("message LIKE '%%mail.message%%' AND message ~* ANY(%s)", sorted(patterns)),
            )

    @api.model
    def _registry_erase_ledger_notes(self, member_ids):
        """The notes of the members' loyalty entries (an adjustment's reason is typed about the member):
        the entries, their points and balances stay; the ledger lets the erasure clear a note only."""
        cr = self.env.cr
        cr.execute(SQL("SELECT set_config(%s, 'on', true)", ERASURE_SETTING))
        cr.execute(
            SQL(
                "UPDATE customer_loyalty_entry SET note = NULL WHERE member_id = ANY(%s) AND note IS NOT NULL",
                list(member_ids),
            )
        )
        cr.execute(SQL("SELECT set_config(%s, 'off', true)", ERASURE_SETTING))
        cr.execute(SQL("DELETE FROM customer_loyalty_adjustment WHERE member_id = ANY(%s)", list(member_ids)))
        self.env["customer.loyalty.entry"].invalidate_model(["note"])

    def _registry_erase_order_allergen_warnings(self, member_ids):
        """Delete the allergen warnings (confirmed and not) of the members' order lines; the orders stay.

        By SQL: the ORM refuses these fields outside the sync's re-check (pos_order_line).
        """
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                """DELETE FROM pos_order_line_allergen_confirmed_rel r USING pos_order_line line, pos_order o
                    WHERE r.pos_order_line_id = line.id AND line.order_id = o.id AND o.partner_id = ANY(%(ids)s);
                   DELETE FROM pos_order_line_allergen_unconfirmed_rel r USING pos_order_line line, pos_order o
                    WHERE r.pos_order_line_id = line.id AND line.order_id = o.id AND o.partner_id = ANY(%(ids)s);
                   UPDATE pos_order_line SET registry_allergen_confirmed_at = NULL,
                                             registry_allergen_confirmed_by_id = NULL
                    WHERE registry_allergen_confirmed_at IS NOT NULL
                      AND order_id IN (SELECT id FROM pos_order WHERE partner_id = ANY(%(ids)s));""",
                ids=list(member_ids),
            )
        )
        self.env["pos.order.line"].invalidate_model(
            [
                "registry_allergen_confirmed_ids",
                "registry_allergen_unconfirmed_ids",
                "registry_allergen_confirmed_at",
                "registry_allergen_confirmed_by_id",
            ]
        )

    # Access and portability (GDPR Art. 15 and 20)

    def _registry_access_export(self):
        """Everything held about this member, as plain data (JSON-serialisable).

        Read with sudo once the right is checked, like the identity form: the
        identity, the profile, the consents with their wording and history,
        the purchases by card code and the loyalty ledger.
        """
        self.ensure_one()
        if not self.is_registry_member:
            raise UserError(self.env._("The access export is for registry members."))
        self._registry_check_privacy_right()
        member = self.sudo()

        def plain(record, names):
            values = {}
            for name in names:
                value = record[name]
                field = record._fields[name]
                if field.type == "many2one":
                    value = value.display_name or None
                elif field.type in ("one2many", "many2many"):
                    value = value.mapped("display_name")
                elif field.type == "datetime":
                    value = fields.Datetime.to_string(value) if value else None
                elif field.type == "date":
                    value = fields.Date.to_string(value) if value else None
                values[name] = value if value is not False else None
            return values

        identity = member._registry_identity()
        identity._registry_audit(IDENTITY_EXPORT_FIELDS, "access_export")
        purposes = dict(self.env["customer.consent"]._fields["purpose"]._description_selection(self.env))
        orders = self.env["pos.order"].sudo().search([("pseudonym", "=", member.pseudonym)], order="date_order, id")
        entries = self.env["customer.loyalty.entry"].sudo().search([("member_id", "=", member.id)], order="id")
        return {
            "member_code": member.pseudonym,
            "company": member.company_id.name,
            "exported_at": fields.Datetime.to_string(fields.Datetime.now()),
            "identity": plain(identity, IDENTITY_EXPORT_FIELDS) if identity else None,
            "profile": {
                "greeting_name": member.registry_greeting_name or None,
                "postal_area": member.registry_postal_area or None,
                "preferences": member.registry_preference_ids.mapped("name"),
                "allergies": member.registry_allergen_ids.mapped("name"),
                "severe_allergies": member.registry_severe_allergen_ids.mapped("name"),
                "diets": member.registry_diet_ids.mapped("name"),
                "service_notes": member.registry_service_notes or None,
            },
            "consents": [
                {
                    "purpose": consent.purpose,
                    "wording": purposes.get(consent.purpose),
                    "given_at": fields.Datetime.to_string(consent.given_at),
                    "recorded_by": consent.recorded_by_id.name,
                    "withdrawn_at": consent.withdrawn_at and fields.Datetime.to_string(consent.withdrawn_at) or None,
                }
                for consent in member.registry_consent_ids.sorted("given_at")
            ],
            "purchases": [
                {
                    "reference": order.pos_reference or order.name,
                    "date": fields.Datetime.to_string(order.date_order),
                    "point_of_sale": order.config_id.name,
                    "total": order.amount_total,
                    "currency": order.currency_id.name,
                    "lines": [
                        {
                            "product": line.full_product_name or line.product_id.display_name,
                            "quantity": line.qty,
                            "total": line.price_subtotal_incl,
                            # The till's allergen warning of the line: health data about the member.
                            "allergens_confirmed": line.registry_allergen_confirmed_ids.mapped("name"),
                            "allergens_confirmed_at": fields.Datetime.to_string(line.registry_allergen_confirmed_at)
                            if line.registry_allergen_confirmed_at
                            else None,
                            "allergens_confirmed_by": line.registry_allergen_confirmed_by_id.name or None,
                            "allergens_not_confirmed": line.registry_allergen_unconfirmed_ids.mapped("name"),
                        }
                        for line in order.lines
                    ],
                }
                for order in orders
            ],
            "loyalty": [
                {
                    "date": fields.Datetime.to_string(entry.date),
                    "kind": entry.kind,
                    "points": entry.points,
                    "balance_after": entry.balance_after,
                    "order": entry.order_id.pos_reference or entry.order_id.name or None,
                }
                for entry in entries
            ],
        }

    def action_registry_access_export(self):
        self.ensure_one()
        self._registry_check_privacy_right()
        return {
            "type": "ir.actions.act_url",
            "url": f"/customer_registry/access_export/{self.id}?format=html",
            "target": "new",
        }

    # Storage limits (GDPR Art. 5(1)(e))

    @api.model
    def _registry_inactive_member_ids(self, company, months, after_id=0, limit=None, with_health_data=False):
        """Members of `company` enrolled over `months` ago with no purchase for `months`, by id."""
        cutoff = fields.Datetime.now() - relativedelta(months=months)
        health = (
            SQL(
                """AND (EXISTS (SELECT 1 FROM customer_allergen_res_partner_rel a WHERE a.res_partner_id = p.id)
                     OR EXISTS (SELECT 1 FROM customer_diet_res_partner_rel d WHERE d.res_partner_id = p.id)
                     -- the allergen warnings of its orders, which outlive a withdrawn consent
                     OR p.id IN (SELECT o.partner_id FROM pos_order o
                                   JOIN pos_order_line line ON line.order_id = o.id
                                  WHERE line.id IN (SELECT r.pos_order_line_id
                                                      FROM pos_order_line_allergen_confirmed_rel r
                                                    UNION ALL
                                                    SELECT r.pos_order_line_id
                                                      FROM pos_order_line_allergen_unconfirmed_rel r)))"""
            )
            if with_health_data
            else SQL()
        )
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                """SELECT p.id FROM res_partner p
                    WHERE p.is_registry_member AND p.registry_erased_at IS NULL AND p.company_id = %(company)s
                      AND p.id > %(after)s AND p.registry_enrolled_at < %(cutoff)s %(health)s
                      AND NOT EXISTS (SELECT 1 FROM pos_order o
                                       WHERE o.partner_id = p.id AND o.state IN %(states)s
                                         AND o.date_order >= %(cutoff)s)
                    ORDER BY p.id %(limit)s""",
                company=company.id,
                after=after_id,
                cutoff=cutoff,
                health=health,
                states=COUNTED_ORDER_STATES,
                limit=SQL("LIMIT %s", limit) if limit else SQL(),
            )
        )
        return [row[0] for row in self.env.cr.fetchall()]

    @api.model
    def _registry_storage_limit_due(self, company):
        """(codes to erase, codes whose health data to erase) today: the dry run."""
        erase = health = []
        if company.registry_erase_inactive_months:
            erase = self.browse(
                self._registry_inactive_member_ids(company, company.registry_erase_inactive_months)
            ).mapped("pseudonym")
        if company.registry_health_data_months:
            health = self.browse(
                self._registry_inactive_member_ids(company, company.registry_health_data_months, with_health_data=True)
            ).mapped("pseudonym")
        return erase, health

    def _registry_clear_health_data(self):
        """The health-data storage limit: the members' allergies and diets, and the allergen warnings on the
        lines of their orders (kept after a withdrawn consent as the shop's evidence, until this limit)."""
        self.write(
            {
                "registry_allergen_ids": [fields.Command.clear()],
                "registry_severe_allergen_ids": [fields.Command.clear()],
                "registry_diet_ids": [fields.Command.clear()],
            }
        )
        self._registry_erase_order_allergen_warnings(self.ids)

    @api.model
    def _cron_registry_storage_limits(self, batch_size=500):
        """Erase what is past the companies' storage limits, batch by batch, committed per batch.

        Killed halfway, a re-run starts over and finds only what is still due:
        erased members are not found again, so nothing is erased twice.
        """
        Partner = self.sudo()
        limited = ["|", ("registry_erase_inactive_months", ">", 0), ("registry_health_data_months", ">", 0)]
        for company in self.env["res.company"].sudo().search(limited):
            for months, with_health in (
                (company.registry_erase_inactive_months, False),
                (company.registry_health_data_months, True),
            ):
                if not months:
                    continue
                last_id, done = 0, 0
                while ids := Partner._registry_inactive_member_ids(
                    company, months, last_id, batch_size, with_health_data=with_health
                ):
                    members = Partner.browse(ids)
                    if with_health:
                        members._registry_clear_health_data()
                    else:
                        members._registry_erase("storage_limit")
                    done += len(ids)
                    last_id = ids[-1]
                    _logger.info(
                        "Storage limit (%s, %s): %d members %s so far, up to partner #%d",
                        company.name,
                        "health data" if with_health else "members",
                        done,
                        "cleared" if with_health else "erased",
                        last_id,
                    )
                    self.env["ir.cron"]._commit_progress(len(ids))
