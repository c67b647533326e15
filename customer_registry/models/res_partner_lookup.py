from odoo import api, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import SQL

from .. import sealing


class ResPartner(models.Model):
    """The cashier's "forgot my card": find a member by exact email or phone, through the blind index."""

    _inherit = "res.partner"  # pylint: disable=consider-merging-classes-inherited

    @api.model
    def registry_find_by_contact(self, value):
        """Members of the current company whose email or phone is exactly `value`: [{id, name, pseudonym}].

        Matched by the keyed blind index (HMAC of the normalised value), never by
        reading identities: near misses find nothing, and the caller learns the
        member's label and card code only. Every lookup is audited (channel lookup).
        """
        # Model read access alone lets portal users and every employee probe who is a member: only
        # internal users serving members (registry users, cashiers through the POS group) may look up.
        if not self.env.su and not (
            self.env.user._is_internal() and self.env.user.has_group("customer_registry.group_registry_user")
        ):
            raise AccessError(self.env._("Only registry users may look members up by email or phone."))
        self.check_access("read")
        if value and not isinstance(value, str):
            raise UserError(self.env._("Type the member's full email address or phone number."))
        value = (value or "").strip()
        kind = "email" if "@" in value else "phone"
        if not sealing.NORMALIZERS[kind](value):
            raise UserError(self.env._("Type the member's full email address or phone number."))
        if not sealing.index_keys():
            raise UserError(
                self.env._(
                    "The lookup by email or phone needs a blind-index key (customer_registry_index_keys in the "
                    "Odoo configuration file): ask your administrator."
                )
            )
        # One indexed query on the digest; no identity value is loaded, nothing is decrypted.
        self.env["customer.identity"].flush_model([f"{kind}_index", "company_id", "partner_id"])
        self.env.cr.execute(
            SQL(
                "SELECT partner_id FROM customer_identity WHERE %s = ANY(%s) AND company_id = %s LIMIT 10",
                SQL.identifier(f"{kind}_index"),
                sealing.blind_index_candidates(kind, value),
                self.env.company.id,
            )
        )
        partners = self.sudo().browse(row[0] for row in self.env.cr.fetchall())
        members = partners.filtered(lambda member: member.active and not member.registry_erased_at)
        self.env["customer.identity.audit"]._record([kind], "lookup", member_ids=members.ids)
        return [{"id": member.id, "name": member.name, "pseudonym": member.pseudonym} for member in members]
