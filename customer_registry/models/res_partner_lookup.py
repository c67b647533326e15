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
        digests = sealing.blind_index_candidates(kind, value)
        if self.env.cr.readonly:
            # A read-only cursor cannot write the entry: the audit's buffer writes it beside the request.
            self.env.cr.execute(
                SQL(
                    """SELECT p.id, p.name, p.pseudonym
                         FROM customer_identity i JOIN res_partner p ON p.id = i.partner_id
                        WHERE i.%s = ANY(%s) AND i.company_id = %s AND p.active AND p.registry_erased_at IS NULL
                        ORDER BY p.id LIMIT 10""",
                    SQL.identifier(f"{kind}_index"),
                    digests,
                    self.env.company.id,
                )
            )
            rows = self.env.cr.fetchall()
            codes = {self.env.company.id: [code for _id, _name, code in rows]}
            self.env["customer.identity.audit"]._record([kind], "lookup", codes)
        else:
            # One call of the database's lookup function: the digest's index finds the members and the
            # same call writes the audit entry (the codes found, or none). No identity value is loaded,
            # nothing is decrypted, and the function's plans are prepared once per connection: the
            # audited lookup costs about what a plain-text one does.
            self.env.cr.execute(
                SQL(
                    "SELECT id, name, pseudonym FROM customer_registry_find_by_contact(%s, %s, %s, %s)",
                    kind,
                    digests,
                    self.env.company.id,
                    self.env.uid,
                )
            )
            rows = self.env.cr.fetchall()
        return [{"id": member_id, "name": name, "pseudonym": pseudonym} for member_id, name, pseudonym in rows]

    def init(self):
        result = super().init()
        # Static SQL in PL/pgSQL: planned once per connection, not at each lookup (about 0.2 ms each).
        self.env.cr.execute(
            """
            CREATE OR REPLACE FUNCTION customer_registry_find_by_contact(
                kind text, digests text[], company integer, reader integer)
            RETURNS TABLE (id integer, name varchar, pseudonym varchar)
            LANGUAGE plpgsql
            -- A generic plan, kept for the connection: the planner would otherwise plan each lookup
            -- again (it cannot size the digests' array), which costs more than the lookup itself.
            SET plan_cache_mode = force_generic_plan
            AS $$
            DECLARE
                ids integer[];
                names varchar[];
                codes varchar[];
            BEGIN
                IF kind = 'email' THEN
                    SELECT array_agg(f.id), array_agg(f.name), array_agg(f.pseudonym) INTO ids, names, codes
                      FROM (SELECT p.id, p.name, p.pseudonym
                              FROM customer_identity i JOIN res_partner p ON p.id = i.partner_id
                             WHERE i.email_index = ANY(digests) AND i.company_id = company
                               AND p.active AND p.registry_erased_at IS NULL
                             ORDER BY p.id LIMIT 10) f;
                ELSIF kind = 'phone' THEN
                    SELECT array_agg(f.id), array_agg(f.name), array_agg(f.pseudonym) INTO ids, names, codes
                      FROM (SELECT p.id, p.name, p.pseudonym
                              FROM customer_identity i JOIN res_partner p ON p.id = i.partner_id
                             WHERE i.phone_index = ANY(digests) AND i.company_id = company
                               AND p.active AND p.registry_erased_at IS NULL
                             ORDER BY p.id LIMIT 10) f;
                ELSE
                    RAISE EXCEPTION 'lookup by % is not supported', kind;
                END IF;
                INSERT INTO customer_identity_audit
                       (read_at, company_id, field_names, channel, user_id, member_codes, member_count)
                VALUES (now() AT TIME ZONE 'UTC', company, kind, 'lookup', reader,
                        (SELECT string_agg(code, ' ' ORDER BY code) FROM unnest(codes) AS code),
                        coalesce(cardinality(codes), 0));
                RETURN QUERY SELECT * FROM unnest(ids, names, codes);
            END;
            $$;
            """
        )
        return result
