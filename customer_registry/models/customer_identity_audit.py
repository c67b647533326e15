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
    _rec_name = "pseudonym"
    _log_access = False

    read_at = fields.Datetime(string="Read On", required=True, readonly=True, index=True)
    user_id = fields.Many2one("res.users", string="Read By", required=True, readonly=True, ondelete="restrict")
    pseudonym = fields.Char(string="Member Code", readonly=True, index=True)
    member_id = fields.Many2one("res.partner", readonly=True, ondelete="set null", index=True)
    company_id = fields.Many2one("res.company", required=True, readonly=True, index=True)
    field_names = fields.Char(string="Values Read", readonly=True)
    channel = fields.Selection(AUDIT_CHANNELS, required=True, readonly=True, index=True)

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
                -- A deleted member's link is nulled by its foreign key; nothing else changes.
                IF TG_OP = 'UPDATE' AND pg_trigger_depth() > 1 AND NEW.member_id IS NULL
                   AND (to_jsonb(NEW) - 'member_id') = (to_jsonb(OLD) - 'member_id') THEN
                    RETURN NEW;
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
        names = set(field_names)
        keys = [(identity_id, None) for identity_id in identity_ids] + [(None, member_id) for member_id in member_ids]
        for identity_id, member_id in keys or [(None, None)]:
            buffer.setdefault((identity_id, member_id, channel, self.env.uid, self.env.company.id), set()).update(names)

    def _flush_buffer(self):
        buffer = self.env.cr.precommit.data.pop(BUFFER_KEY, None)
        if not buffer:
            return
        rows = [(*key, ",".join(sorted(names))) for key, names in buffer.items()]
        query = SQL(
            """INSERT INTO customer_identity_audit
                   (read_at, member_id, pseudonym, company_id, field_names, channel, user_id)
               SELECT now() AT TIME ZONE 'UTC', p.id, p.pseudonym, COALESCE(p.company_id, r.company_id),
                      r.field_names, r.channel, r.uid
                 FROM unnest(%s::int[], %s::int[], %s::varchar[], %s::int[], %s::int[], %s::varchar[])
                      AS r(identity_id, member_id, channel, uid, company_id, field_names)
                 LEFT JOIN customer_identity i ON i.id = r.identity_id
                 LEFT JOIN res_partner p ON p.id = COALESCE(r.member_id, i.partner_id)""",
            *(list(column) for column in zip(*rows, strict=True)),
        )
        if self.env.cr.readonly:
            # A read-only route (a replica's cursor) reached identity values: write the audit
            # beside it rather than failing the request into Odoo's read/write retry.
            with self.env.registry.cursor() as audit_cr:
                audit_cr.execute(query)
        else:
            self.env.cr.execute(query)
