from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
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
    ("search", "Search by a personal value"),
]
BUFFER_KEY = "customer_registry.identity_audit"
# Searches by personal values of the request: {(user id, companies, value name, alias, ...): SQL condition}.
SEARCHES_KEY = "customer_registry.identity_audit_searches"
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
    # Foreign keys, though each entry's INSERT checks them (about 0.1 ms of a lookup): only their check,
    # with its own snapshot, sees an entry committed while the user or company is being deleted (a
    # trigger on the deletion, tried, missed it at REPEATABLE READ and left entries naming nobody).
    # The reader is indexed for that check and for the managers' filter.
    user_id = fields.Many2one(
        "res.users", string="Read By", required=True, readonly=True, ondelete="restrict", index=True
    )
    company_id = fields.Many2one("res.company", required=True, readonly=True)
    # The codes of the members read in the request (sorted, separated by spaces): an entry per request,
    # not per member, keeps the audit of a list of a thousand members one row. Found by code through a
    # GIN index on the codes as an array (see init); no link to the person, who may be erased since.
    member_codes = fields.Text(readonly=True)
    member_count = fields.Integer(string="Members Read", readonly=True)
    member_code = fields.Char(
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
        if operator in ("like", "ilike", "=like", "=ilike") and isinstance(value, str):
            # The search box's default for a text: part of a code, found in the codes' text (no index).
            return [("member_codes", operator, value.strip())]
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
            CREATE TRIGGER customer_identity_audit_no_truncate
                BEFORE TRUNCATE ON customer_identity_audit
                FOR EACH STATEMENT EXECUTE FUNCTION customer_identity_audit_append_only();

            -- The codes of a long list are stored as they are: compressing them at each read's INSERT
            -- costs more time than the space it saves.
            ALTER TABLE customer_identity_audit ALTER COLUMN member_codes SET STORAGE EXTERNAL;
            CREATE INDEX IF NOT EXISTS customer_identity_audit_member_codes_index
                ON customer_identity_audit USING gin (string_to_array(member_codes, ' '));

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
    def _pending(self, key):
        """The request's dict under `key` (reads or searches to write at commit), the commit's flush
        scheduled once whichever comes first."""
        data = self.env.cr.precommit.data
        if key not in data:
            if BUFFER_KEY not in data and SEARCHES_KEY not in data:
                self.env.cr.precommit.add(self._flush_buffer)
            data[key] = {}
        return data[key]

    @api.model
    def _record(self, field_names, channel, codes=None):
        """Note that `field_names` of the members `codes` ({company id: [card codes]}) were read.

        Written once, at commit: one entry per channel (and the members'
        company), whatever the request read. No codes: a lookup that found
        nobody, recorded in the current company.
        """
        buffer = self._pending(BUFFER_KEY)
        for company_id, company_codes in (codes or {self.env.company.id: []}).items():
            key = (channel, self.env.uid, company_id or self.env.company.id)
            names, members = buffer.setdefault(key, (set(), set()))
            names.update(field_names)
            members.update(filter(None, company_codes))

    @api.model
    def _record_search(self, field_name, condition, alias):
        """Note a search by the identity value `field_name` (`condition` on the identities aliased `alias`).

        At commit, the members the condition matches are named in the request's
        `search` entry: whose value the search could confirm, found or not.
        """
        searches = self._pending(SEARCHES_KEY)
        # The same condition searched twice in a request is resolved once (its parameters may be lists).
        key = (self.env.uid, tuple(self.env.companies.ids), field_name, alias, condition.code, repr(condition.params))
        searches.setdefault(key, condition)

    def _resolve_searches(self, searches):
        """The members each recorded search condition matches among those its user could see (the
        user's record rules in the companies of the search), into the buffer: one query per condition."""
        for (uid, company_ids, field_name, alias, _code, _params), condition in searches.items():
            try:
                visible = (
                    self.env["customer.identity"]
                    .with_user(uid)
                    .with_context(allowed_company_ids=list(company_ids))
                    ._search([])
                )
            except AccessError:
                # A user who may not read identities saw none of them: the search is recorded, naming nobody.
                self.with_user(uid)._record([field_name], "search")
                continue
            self.env.cr.execute(
                SQL(
                    """SELECT %(alias)s.company_id, %(alias)s.pseudonym
                         FROM customer_identity AS %(alias)s
                        WHERE %(condition)s AND %(alias)s.id IN %(visible)s""",
                    alias=SQL.identifier(alias),
                    condition=condition,
                    visible=visible.subselect(),
                )
            )
            codes = {}
            for company_id, code in self.env.cr.fetchall():
                codes.setdefault(company_id, []).append(code)
            self.with_user(uid)._record([field_name], "search", codes)

    @api.model
    def _record_members(self, field_names, channel, members):
        """`_record` for members (res.partner) rather than their identities."""
        codes = {}
        for member in members.sudo():
            codes.setdefault(member.company_id.id, []).append(member.pseudonym)
        self._record(field_names, channel, codes)

    def _flush_buffer(self):
        # Resolved into the buffer before leaving the request's data: no second flush is scheduled.
        if searches := self.env.cr.precommit.data.get(SEARCHES_KEY):
            self._resolve_searches(searches)
        self.env.cr.precommit.data.pop(SEARCHES_KEY, None)
        buffer = self.env.cr.precommit.data.pop(BUFFER_KEY, None)
        if not buffer:
            return
        rows = [
            SQL(
                "(now() AT TIME ZONE 'UTC', %s, %s, %s, %s, %s, %s)",
                channel,
                uid,
                company_id,
                ",".join(sorted(names)),
                " ".join(sorted(codes)) or None,
                len(codes),
            )
            for (channel, uid, company_id), (names, codes) in buffer.items()
        ]
        query = SQL(
            """INSERT INTO customer_identity_audit
                      (read_at, channel, user_id, company_id, field_names, member_codes, member_count)
               VALUES %s""",
            SQL(", ").join(rows),
        )
        if self.env.cr.readonly:
            # A read-only route (a replica's cursor) reached identity values: write the audit
            # beside it rather than failing the request into Odoo's read/write retry.
            with self.env.registry.cursor() as audit_cr:
                audit_cr.execute(query)
        else:
            self.env.cr.execute(query)
