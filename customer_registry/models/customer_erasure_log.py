from odoo import fields, models
from odoo.exceptions import UserError

ERASURE_REASONS = [
    ("request", "The member asked to be erased (GDPR Art. 17)"),
    ("consent", "The member withdrew the consent the data was kept for"),
    ("storage_limit", "Storage limit reached"),
    ("unlawful", "The data was processed unlawfully"),
]


class CustomerErasureLog(models.Model):
    """Who erased which member, when and why: no personal value, never edited.

    A supervisory authority may ask for proof that an erasure happened; the
    log answers with the card code only (which, after the erasure, points to
    nobody).
    """

    _name = "customer.erasure.log"
    _description = "Member Erasure Log"
    _order = "erased_at desc, id desc"
    _rec_name = "pseudonym"
    _check_company_auto = True

    pseudonym = fields.Char(string="Member Code", required=True, readonly=True, index=True)
    member_id = fields.Many2one("res.partner", readonly=True, ondelete="set null", index=True)
    company_id = fields.Many2one("res.company", required=True, readonly=True, index=True)
    erased_at = fields.Datetime(required=True, readonly=True, default=fields.Datetime.now)
    user_id = fields.Many2one("res.users", string="Erased By", required=True, readonly=True, ondelete="restrict")
    reason = fields.Selection(ERASURE_REASONS, required=True, readonly=True)
    removed = fields.Text(
        string="What Was Removed",
        readonly=True,
        help="Counts of the records removed, by kind (no values).",
    )

    def init(self):
        result = super().init()
        # Append-only in the database too; a deleted member's link may be nulled by its foreign key.
        self.env.cr.execute("""
            CREATE OR REPLACE FUNCTION customer_erasure_log_append_only() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
                IF TG_OP = 'UPDATE' AND pg_trigger_depth() > 1 AND NEW.member_id IS NULL
                   AND (to_jsonb(NEW) - 'member_id') = (to_jsonb(OLD) - 'member_id') THEN
                    RETURN NEW;
                END IF;
                RAISE EXCEPTION 'customer_erasure_log is append-only: % refused', TG_OP
                    USING ERRCODE = 'check_violation';
            END;
            $$;
            DROP TRIGGER IF EXISTS customer_erasure_log_append_only ON customer_erasure_log;
            CREATE TRIGGER customer_erasure_log_append_only
                BEFORE UPDATE OR DELETE ON customer_erasure_log
                FOR EACH ROW EXECUTE FUNCTION customer_erasure_log_append_only();
        """)
        return result

    def write(self, vals):  # pylint: disable=method-required-super
        raise UserError(self.env._("The erasure log is never changed."))

    def unlink(self):  # pylint: disable=method-required-super
        raise UserError(self.env._("The erasure log is never deleted."))  # pylint: disable=no-raise-unlink
