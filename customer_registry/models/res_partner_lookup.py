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
        self.flush_model(["active", "registry_erased_at", "name", "pseudonym", "company_id"])
        self.env["customer.identity"].flush_model([f"{kind}_index", "company_id", "partner_id"])
        company = self.env.company.id
        found = SQL(
            """SELECT p.id, p.name, p.pseudonym
                 FROM customer_identity i JOIN res_partner p ON p.id = i.partner_id
                WHERE i.%s = ANY(%s) AND i.company_id = %s AND p.active AND p.registry_erased_at IS NULL
                ORDER BY p.id LIMIT 10""",
            SQL.identifier(f"{kind}_index"),
            sealing.blind_index_candidates(kind, value),
            company,
        )
        if self.env.cr.readonly:
            # A read-only cursor cannot write the entry: the audit's buffer writes it beside the request.
            self.env.cr.execute(found)
            rows = self.env.cr.fetchall()
            self.env["customer.identity.audit"]._record([kind], "lookup", {company: [row[2] for row in rows]})
        else:
            # One statement: the digest's index finds the members and the same statement writes the audit
            # entry (the codes found, or none). No identity value is loaded, nothing is decrypted, and the
            # lookup costs no round trip more than a plain-text one.
            self.env.cr.execute(
                SQL(
                    """WITH found AS (%(found)s),
                            audit AS (
                                INSERT INTO customer_identity_audit
                                       (read_at, company_id, field_names, channel, user_id, member_codes, member_count)
                                SELECT now() AT TIME ZONE 'UTC', %(company)s, %(field)s, 'lookup', %(uid)s,
                                       string_agg(pseudonym, ' ' ORDER BY pseudonym), count(pseudonym)
                                  FROM found)
                       SELECT id, name, pseudonym FROM found""",
                    found=found,
                    company=company,
                    field=kind,
                    uid=self.env.uid,
                )
            )
            rows = self.env.cr.fetchall()
        return [{"id": member_id, "name": name, "pseudonym": pseudonym} for member_id, name, pseudonym in rows]
