from odoo import api, models
from odoo.exceptions import UserError
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
        self.check_access("read")
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
