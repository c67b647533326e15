import json

from odoo import fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import SQL

PII_GROUP = "customer_registry.group_registry_pii"


class ResPartner(models.Model):
    """The privacy lifecycle of a member: erasure (GDPR Art. 17)."""

    _inherit = "res.partner"

    registry_erased_at = fields.Datetime(
        string="Erased On",
        readonly=True,
        copy=False,
        help="The member's personal data was erased: the card code points to nobody any more.",
    )

    def _registry_check_privacy_right(self):
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
        traces = {
            member.id: [v for v in (identity.email, identity.phone) if v]
            for member, identity in ((i.partner_id, i) for i in identities)
        }
        emails = [identity.email for identity in identities if identity.email]
        removed = {member.id: {} for member in members}

        def delete_rows(table, where, *params, key="id"):
            self.env.cr.execute(
                SQL(
                    "DELETE FROM %s WHERE %s RETURNING %s",
                    SQL.identifier(table),
                    SQL(where, *params),
                    SQL.identifier(key),
                )
            )
            return self.env.cr.fetchall()

        self.env.flush_all()
        # The chatter of the member's record: messages (with their tracking values), followers,
        # activities and attachments; and the member as a follower of other documents.
        for member in members:
            stats = removed[member.id]
            stats["messages"] = len(delete_rows("mail_message", "model = 'res.partner' AND res_id = %s", member.id))
            stats["followers"] = len(
                delete_rows(
                    "mail_followers",
                    "(res_model = 'res.partner' AND res_id = %s) OR partner_id = %s",
                    member.id,
                    member.id,
                )
            )
            stats["activities"] = len(
                delete_rows("mail_activity", "res_model = 'res.partner' AND res_id = %s", member.id)
            )
            stats["attachments"] = len(
                delete_rows("ir_attachment", "res_model = 'res.partner' AND res_id = %s", member.id)
            )
        # Outgoing mails and mailing contacts that carry the member's address.
        if emails:
            pattern = [f"%{email}%" for email in emails]
            mails = delete_rows("mail_mail", "email_to ILIKE ANY(%s)", pattern, key="mail_message_id")
            if mails:
                delete_rows("mail_message", "id = ANY(%s)", [row[0] for row in mails])
            if "mailing.contact" in self.env:
                delete_rows("mailing_contact", "email ILIKE ANY(%s)", pattern)
            if "mailing.trace" in self.env:
                delete_rows("mailing_trace", "email ILIKE ANY(%s)", pattern)
        self.env.invalidate_all()

        identities.sudo().unlink()
        # The profile: what was asked to be called, preferences, health data, notes, area.
        members.sudo().write(
            {
                "registry_erased_at": fields.Datetime.now(),
                "registry_greeting_name": False,
                "registry_service_notes": False,
                "registry_preference_ids": [fields.Command.clear()],
                "registry_allergen_ids": [fields.Command.clear()],
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
