from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.http import request
from odoo.service.server import thread_local
from odoo.tools import SQL

AUDIT_CHANNELS = [
    ("form", "Web client (form or list)"),
    ("export", "Export"),
    ("api", "API (JSON-RPC, XML-RPC, JSON-2)"),
    ("segment_export", "Segment export to a mailing list"),
    ("erasure", "Erasure"),
    ("access_export", "Member's copy of their data"),
    ("lookup", "Lookup by email or phone (forgot my card)"),
    ("server", "Server code (scheduled action, shell)"),
]
BUFFER_KEY = "customer_registry.identity_audit"
PURGE_SETTING = "customer_registry.audit_purge"


def request_channel():
    """Where the current read came from, by the HTTP route that serves it."""
    if not request or not getattr(request, "httprequest", None):
        # XML-RPC and JSON-RPC (/xmlrpc, /jsonrpc) unbind the request while the model method runs;
        # Odoo names that method on the thread, and clears it when the thread serves the next request.
        return "api" if getattr(thread_local, "rpc_model_method", "") else "server"
    path = request.httprequest.path
    if path.startswith("/web/export/"):
        return "export"
    if path.startswith(("/jsonrpc", "/xmlrpc", "/json/2/")):
        return "api"
    return "form"


class CustomerIdentityAudit(models.Model):
    """Who read which member's identity values, when, which values and through which channel.

    Append-only in the ORM and in PostgreSQL; entries older than the company's
    audit retention are purged by a scheduled action through the database's
    purge function, the only path allowed to delete them.
    """

    _name = "customer.identity.audit"
    _description = "Identity Read Audit"
    _order = "read_at desc, id desc"
    _rec_name = "member_codes"
    _log_access = False

    read_at = fields.Datetime(string="Read On", required=True, readonly=True, index=True)
    user_id = fields.Many2one("res.users", string="Read By", required=True, readonly=True, ondelete="restrict")
    company_id = fields.Many2one("res.company", required=True, readonly=True)
    # The codes of the members read in the request (sorted, separated by spaces): an entry per request,
    # not per member, keeps the audit of a list of a thousand members one row. Found by code through a
    # GIN index on the codes as an array (see init); no link to the person, who may be erased since.
    member_codes = fields.Text(string="Member Codes", readonly=True)
    member_count = fields.Integer(string="Members Read", readonly=True)
    member_code = fields.Char(
        string="Member Code",
        compute="_compute_member_code",
        search="_search_member_code",
        help="Entries that read this member's values (the member's exact card code).",
    )
    field_names = fields.Char(string="Values Read", readonly=True)
    channel = fields.Selection(AUDIT_CHANNELS, required=True, readonly=True)

    @api.depends("member_codes")
    def _compute_member_code(self):
        for entry in self:
            entry.member_code = entry.member_codes

    def _search_member_code(self, operator, value):
        if operator not in ("=", "in"):
            return NotImplemented
        codes = [code.strip() for code in (value if operator == "in" else [value]) if isinstance(code, str)]
        codes = [code for code in codes if code]
        if not codes:
            return [("id", "=", False)]
        return [
            (
                "id",
                "in",
                SQL(
                    "SELECT id FROM customer_identity_audit WHERE string_to_array(member_codes, ' ') && %s::text[]",
                    codes,
                ),
            )
        ]

    def init(self):
        result = super().init()
        self.env.cr.execute(
            """
            CREATE OR REPLACE FUNCTION customer_identity_audit_append_only() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
                IF TG_OP = 'TRUNCATE' THEN
                    RAISE EXCEPTION 'customer_identity_audit is append-only: TRUNCATE refused'
                        USING ERRCODE = 'check_violation';
                END IF;
                -- The retention purge, and only for entries past their company's retention.
                IF TG_OP = 'DELETE' AND current_setting(%(setting)s, true) = 'on' AND EXISTS (
                    SELECT 1 FROM res_company c
                     WHERE c.id = OLD.company_id AND c.registry_audit_retention_months > 0
                       AND OLD.read_at < (now() AT TIME ZONE 'UTC')
                                         - make_interval(months => c.registry_audit_retention_months)) THEN
                    RETURN OLD;
                END IF;
                RAISE EXCEPTION 'customer_identity_audit is append-only: % refused', TG_OP
                    USING ERRCODE = 'check_violation';
            END;
            $$;
            DROP TRIGGER IF EXISTS customer_identity_audit_append_only ON customer_identity_audit;
            CREATE TRIGGER customer_identity_audit_append_only
                BEFORE UPDATE OR DELETE ON customer_identity_audit
                FOR EACH ROW EXECUTE FUNCTION customer_identity_audit_append_only();
            DROP TRIGGER IF EXISTS customer_identity_audit_no_truncate ON customer_identity_audit;
            CREATE INDEX IF NOT EXISTS customer_identity_audit_member_codes_index
                ON customer_identity_audit USING gin (string_to_array(member_codes, ' '));
            CREATE TRIGGER customer_identity_audit_no_truncate
                BEFORE TRUNCATE ON customer_identity_audit
                FOR EACH STATEMENT EXECUTE FUNCTION customer_identity_audit_append_only();

            CREATE OR REPLACE FUNCTION customer_identity_audit_purge() RETURNS integer
            LANGUAGE plpgsql AS $$
            DECLARE purged integer;
            BEGIN
                PERFORM set_config(%(setting)s, 'on', true);
                DELETE FROM customer_identity_audit a USING res_company c
                 WHERE c.id = a.company_id AND c.registry_audit_retention_months > 0
                   AND a.read_at < (now() AT TIME ZONE 'UTC')
                                   - make_interval(months => c.registry_audit_retention_months);
                GET DIAGNOSTICS purged = ROW_COUNT;
                PERFORM set_config(%(setting)s, 'off', true);
                RETURN purged;
            END;
            $$;
            """.replace("%(setting)s", f"'{PURGE_SETTING}'")
        )
        return result

    @api.model_create_multi
    def create(self, vals_list):  # pylint: disable=method-required-super
        raise UserError(self.env._("Audit entries are written by the reads they record, never by hand."))

    def write(self, vals):  # pylint: disable=method-required-super
        raise UserError(self.env._("The audit of identity reads is never changed."))

    def unlink(self):  # pylint: disable=method-required-super
        raise UserError(  # pylint: disable=no-raise-unlink
            self.env._("The audit of identity reads is only purged by its retention setting.")
        )

    @api.model
    def _cron_purge(self):
        """Delete the entries past each company's audit retention (the database's purge function)."""
        self.env.cr.execute("SELECT customer_identity_audit_purge()")
        return self.env.cr.fetchone()[0]

    # Buffering: at most one INSERT per request, whatever was read.

    @api.model
    def _record(self, field_names, channel, identity_ids=(), member_ids=()):
        """Note that these identities' (or members') `field_names` were read; written once, at commit.

        Nothing is queried here: the flush's single INSERT finds each member's
        code and company. A lookup that found nobody is recorded without a member.
        """
        cr = self.env.cr
        buffer = cr.precommit.data.get(BUFFER_KEY)
        if buffer is None:
            buffer = cr.precommit.data[BUFFER_KEY] = {}
            cr.precommit.add(self._flush_buffer)
        # One entry per channel and request: the values read are the union of what each read asked for.
        names, identities, members = buffer.setdefault(
            (channel, self.env.uid, self.env.company.id), (set(), set(), set())
        )
        names.update(field_names)
        identities.update(identity_ids)
        members.update(member_ids)

    def _flush_buffer(self):
        """One INSERT: an entry per channel (and user), split by the members' company."""
        buffer = self.env.cr.precommit.data.pop(BUFFER_KEY, None)
        if not buffer:
            return
        groups = [
            (index, channel, uid, company_id, ",".join(sorted(names)), list(identities), list(members))
            for index, ((channel, uid, company_id), (names, identities, members)) in enumerate(buffer.items())
        ]
        query = SQL(
            """WITH request AS (
                   SELECT * FROM unnest(%s::int[], %s::varchar[], %s::int[], %s::int[], %s::varchar[])
                          AS r(grp, channel, uid, company_id, field_names)),
               member AS (
                   SELECT g.grp, p.pseudonym, p.company_id
                     FROM unnest(%s::int[], %s::int[]) AS g(grp, identity_id)
                     JOIN customer_identity i ON i.id = g.identity_id
                     JOIN res_partner p ON p.id = i.partner_id
                    UNION
                   SELECT g.grp, p.pseudonym, p.company_id
                     FROM unnest(%s::int[], %s::int[]) AS g(grp, member_id)
                     JOIN res_partner p ON p.id = g.member_id)
               INSERT INTO customer_identity_audit
                      (read_at, company_id, channel, user_id, field_names, member_codes, member_count)
               SELECT now() AT TIME ZONE 'UTC', COALESCE(m.company_id, r.company_id), r.channel, r.uid,
                      r.field_names, string_agg(m.pseudonym, ' ' ORDER BY m.pseudonym), count(m.pseudonym)
                 FROM request r LEFT JOIN member m ON m.grp = r.grp
                GROUP BY r.grp, COALESCE(m.company_id, r.company_id), r.channel, r.uid, r.field_names""",
            *(list(column) for column in list(zip(*groups, strict=True))[:5]),
            [group[0] for group in groups for _ in group[5]],
            [identity_id for group in groups for identity_id in group[5]],
            [group[0] for group in groups for _ in group[6]],
            [member_id for group in groups for member_id in group[6]],
        )
        if self.env.cr.readonly:
            # A read-only route (a replica's cursor) reached identity values: write the audit
            # beside it rather than failing the request into Odoo's read/write retry.
            with self.env.registry.cursor() as audit_cr:
                audit_cr.execute(query)
        else:
            self.env.cr.execute(query)
