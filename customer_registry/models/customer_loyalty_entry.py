import logging

from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

_logger = logging.getLogger(__name__)

EARN, REDEEM, REFUND, EXPIRY, ADJUSTMENT = "earn", "redeem", "refund", "expiry", "adjustment"
# Columns a deleted user's cascade may null: the ledger keeps its own user_id.
AUDIT_COLUMNS = ("create_uid", "write_uid")


class CustomerLoyaltyEntry(models.Model):
    """Append-only ledger: every point of a member's balance is explained by an entry.

    Entries are inserted by `_post` only, in the same statement that moves the
    member's stored balance; nothing updates or deletes them afterwards (the ORM
    refuses, and so does a trigger in PostgreSQL).  Corrections are new entries.
    """

    _name = "customer.loyalty.entry"
    _description = "Loyalty Ledger Entry"
    _order = "date desc, id desc"
    _rec_name = "pseudonym"

    member_id = fields.Many2one("res.partner", required=True, readonly=True, ondelete="restrict", index=True)
    pseudonym = fields.Char(string="Member Code", required=True, readonly=True, index=True)
    company_id = fields.Many2one("res.company", required=True, readonly=True, ondelete="restrict", index=True)
    program_id = fields.Many2one("customer.loyalty.program", readonly=True, ondelete="restrict")
    currency_id = fields.Many2one(related="company_id.currency_id")
    date = fields.Datetime(required=True, readonly=True, index=True)
    kind = fields.Selection(
        [
            (EARN, "Earned"),
            (REDEEM, "Redeemed"),
            (REFUND, "Refund Reversal"),
            (EXPIRY, "Expired"),
            (ADJUSTMENT, "Adjustment"),
        ],
        required=True,
        readonly=True,
        index=True,
    )
    points = fields.Integer(required=True, readonly=True, aggregator="sum")
    balance_after = fields.Integer(required=True, readonly=True, aggregator=False)
    base_amount = fields.Monetary(
        string="Earning Amount",
        readonly=True,
        help="Amount of the order that earned points, in the company currency: refunds reverse in proportion.",
    )
    points_unreversed = fields.Integer(
        string="Points Not Reversed",
        readonly=True,
        aggregator="sum",
        help="Points a refund should have taken back but the member had already spent.",
    )
    order_id = fields.Many2one("pos.order", readonly=True, ondelete="restrict", index="btree_not_null")
    origin_order_id = fields.Many2one(
        "pos.order",
        string="Refunded Order",
        readonly=True,
        ondelete="restrict",
        index="btree_not_null",
        help="For a refund reversal: the order whose points are taken back.",
    )
    expired_until = fields.Date(readonly=True, help="For an expiry: points earned before this day expired.")
    user_id = fields.Many2one("res.users", readonly=True, ondelete="restrict")
    note = fields.Text(readonly=True)

    # One earning, one redemption per order, one reversal per refund order: the
    # offline POS may send the same order twice, the database says no.
    _order_kind_unique = models.Constraint("UNIQUE(order_id, kind)", "This order already has this ledger entry.")
    _expiry_unique = models.UniqueIndex("(member_id, expired_until) WHERE kind = 'expiry'")
    _balance_not_negative = models.Constraint("CHECK(balance_after >= 0)", "A loyalty balance cannot go negative.")
    _company_member_date = models.Index("(company_id, member_id, date)")

    def init(self):
        result = super().init()
        unchanged = " ".join(f"- '{column}'" for column in AUDIT_COLUMNS)
        self.env.cr.execute(
            SQL(f"""
            CREATE OR REPLACE FUNCTION customer_loyalty_entry_append_only() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
                IF TG_OP = 'UPDATE' AND (to_jsonb(NEW) {unchanged}) = (to_jsonb(OLD) {unchanged}) THEN
                    RETURN NEW;
                END IF;
                RAISE EXCEPTION 'customer_loyalty_entry is append-only: %% refused', TG_OP
                    USING ERRCODE = 'integrity_constraint_violation',
                          HINT = 'Post a correcting entry instead.';
            END;
            $$;
            DROP TRIGGER IF EXISTS customer_loyalty_entry_append_only ON customer_loyalty_entry;
            CREATE TRIGGER customer_loyalty_entry_append_only
                BEFORE UPDATE OR DELETE ON customer_loyalty_entry
                FOR EACH ROW EXECUTE FUNCTION customer_loyalty_entry_append_only();
            DROP TRIGGER IF EXISTS customer_loyalty_entry_no_truncate ON customer_loyalty_entry;
            CREATE TRIGGER customer_loyalty_entry_no_truncate
                BEFORE TRUNCATE ON customer_loyalty_entry
                FOR EACH STATEMENT EXECUTE FUNCTION customer_loyalty_entry_append_only();
        """)
        )
        return result

    # The ledger posts entries with one SQL statement beside the balance move (_post);
    # the ORM's create, write and unlink are refused outright, never delegated.
    @api.model_create_multi
    def create(self, vals_list):  # pylint: disable=method-required-super
        raise UserError(
            self.env._("Loyalty entries are posted by orders, refunds, expiry and the adjustment wizard only.")
        )

    def write(self, vals):  # pylint: disable=method-required-super
        raise UserError(self.env._("Loyalty entries cannot be changed: post a correcting adjustment instead."))

    def unlink(self):  # pylint: disable=method-required-super
        raise UserError(  # pylint: disable=no-raise-unlink
            self.env._("Loyalty entries cannot be deleted: post a correcting adjustment instead.")
        )

    # Posting

    @api.model
    def _lock_member(self, member, spend_since=None, order=None):
        """Lock the member's balance row until the transaction ends; return (balance, rolling spend, tier id).

        The rolling spend counts the member's paid orders since `spend_since`,
        `order` included without flushing its pending write.  Two tills redeeming
        for the same member queue on the lock; under Odoo's REPEATABLE READ the
        second gets a serialization failure and its request is retried against
        the new balance.
        """
        spend = SQL("NULL")
        if spend_since:
            spend = SQL(
                """(SELECT COALESCE(SUM(amount_total), 0) FROM pos_order
                     WHERE partner_id = partner.id AND state IN ('paid', 'done') AND date_order >= %s
                       AND id != %s)""",
                spend_since,
                order.id if order else 0,
            )
        self.env.cr.execute(
            SQL(
                """SELECT COALESCE(partner.loyalty_balance, 0), %s, partner.loyalty_tier_id
                 FROM res_partner partner WHERE partner.id = %s FOR NO KEY UPDATE""",
                spend,
                member.id,
            )
        )
        balance, spend_total, tier_id = self.env.cr.fetchone()
        spend_total = float(spend_total or 0.0)
        if order and spend_since and order.date_order >= spend_since:
            spend_total += order.amount_total
        return balance, spend_total, tier_id

    @api.model
    def _post(self, member, kind, points, balance, program=None, order=None, tier=None, **values):
        """Insert one entry and move the member's stored balance in one statement.

        `balance` is the member's balance read under `_lock_member` in this
        transaction.  Returns the new balance, or None when the entry already
        exists (same order synced twice): nothing is counted twice.
        """
        balance_after = balance + points
        if balance_after < 0:
            raise UserError(
                self.env._(
                    "Member %(code)s has %(balance)s points: %(points)s cannot be taken.",
                    code=member.pseudonym,
                    balance=balance,
                    points=-points,
                )
            )
        now = fields.Datetime.now()
        row = {
            "member_id": member.id,
            "pseudonym": member.pseudonym,
            "company_id": (program.company_id.id if program else values.pop("company_id")),
            "program_id": program.id if program else None,
            "date": values.pop("date", now),
            "kind": kind,
            "points": points,
            "balance_after": balance_after,
            "order_id": order.id if order else None,
            "user_id": self.env.uid,
            "create_uid": self.env.uid,
            "create_date": now,
            "write_uid": self.env.uid,
            "write_date": now,
            **values,
        }
        partner_update = SQL("loyalty_balance = entry.balance_after")
        if tier is not None:
            partner_update = SQL("%s, loyalty_tier_id = %s", partner_update, tier or None)
        self.env.cr.execute(
            SQL(
                """WITH entry AS (
                   INSERT INTO customer_loyalty_entry (%s) VALUES %s
                   ON CONFLICT DO NOTHING RETURNING balance_after
               )
               UPDATE res_partner SET %s FROM entry WHERE res_partner.id = %s
               RETURNING entry.balance_after""",
                SQL(", ").join(SQL.identifier(column) for column in row),
                tuple(row.values()),
                partner_update,
                member.id,
            )
        )
        inserted = self.env.cr.fetchone()
        member.invalidate_recordset(["loyalty_balance", "loyalty_tier_id", "loyalty_entry_ids"])
        return inserted[0] if inserted else None

    @api.model
    def _set_tier(self, member, tier_id):
        self.env.cr.execute(
            SQL("UPDATE res_partner SET loyalty_tier_id = %s WHERE id = %s", tier_id or None, member.id)
        )
        member.invalidate_recordset(["loyalty_tier_id"])

    @api.model
    def _adjust(self, member, points, reason):
        """A manager's correction: a new entry, never an edit."""
        if not points:
            raise UserError(self.env._("An adjustment moves at least one point."))
        if not (reason or "").strip():
            raise UserError(self.env._("An adjustment needs a reason."))
        program = self.env["customer.loyalty.program"]._for_company((member.company_id or self.env.company).id)
        balance, _spend, _tier = self._lock_member(member)
        return self._post(
            member,
            ADJUSTMENT,
            points,
            balance,
            program=program or None,
            note=reason.strip(),
            company_id=(member.company_id or self.env.company).id,
        )

    # Expiry

    @api.model
    def _expirable_points(self, member_ids, cutoff):
        """Points still unspent in lots earned before `cutoff`, per member.

        Every debit (redemption, reversal, expiry, negative adjustment) consumes
        the oldest lots first, so the expired lots are a prefix of the member's
        credits: what is left in them is their sum minus all debits.
        """
        self.env.cr.execute(
            SQL(
                """SELECT member_id,
                      COALESCE(SUM(points) FILTER (WHERE points > 0 AND date < %(cutoff)s), 0)
                      + COALESCE(SUM(points) FILTER (WHERE points < 0), 0)
                 FROM customer_loyalty_entry
                WHERE member_id = ANY(%(members)s)
                GROUP BY member_id""",
                cutoff=cutoff,
                members=list(member_ids),
            )
        )
        return {member_id: max(0, left) for member_id, left in self.env.cr.fetchall()}

    @api.model
    def _expire_points(self, batch_size=500, commit=True, today=None):
        """Expire points past their validity, oldest first, member batch by member batch.

        Idempotent: what is expirable is computed from the ledger itself, so a
        run killed halfway and started again posts only what is still due, and
        the unique (member, cutoff) index refuses a second expiry for a day.
        """
        today = today or fields.Date.context_today(self)
        posted = 0
        programs = self.env["customer.loyalty.program"].sudo().search([("validity_months", ">", 0)])
        for program in programs:
            cutoff = today - relativedelta(months=program.validity_months)
            last_member_id = 0
            while True:
                self.env.cr.execute(
                    SQL(
                        """SELECT id FROM res_partner
                        WHERE id > %s AND loyalty_balance > 0 AND id IN (
                              SELECT member_id FROM customer_loyalty_entry
                               WHERE company_id = %s AND points > 0 AND date < %s)
                        ORDER BY id LIMIT %s""",
                        last_member_id,
                        program.company_id.id,
                        cutoff,
                        batch_size,
                    )
                )
                member_ids = [row[0] for row in self.env.cr.fetchall()]
                if not member_ids:
                    break
                last_member_id = member_ids[-1]
                expirable = self._expirable_points(member_ids, cutoff)
                batch_posted = 0
                for member in self.env["res.partner"].browse(member_ids):
                    if not expirable.get(member.id):
                        continue
                    balance, _spend, _tier = self._lock_member(member)
                    # Recounted under the lock: a redemption may have spent them meanwhile.
                    points = min(self._expirable_points([member.id], cutoff).get(member.id, 0), balance)
                    if (
                        points
                        and self._post(
                            member,
                            EXPIRY,
                            -points,
                            balance,
                            program=program,
                            expired_until=cutoff,
                            note=self.env._("Points earned before %s expired.", cutoff),
                        )
                        is not None
                    ):
                        batch_posted += 1
                posted += batch_posted
                _logger.info(
                    "Loyalty expiry (%s): %d members expired in a batch of %d, up to member #%d",
                    program.company_id.name,
                    batch_posted,
                    len(member_ids),
                    last_member_id,
                )
                if commit:
                    self.env["ir.cron"]._commit_progress(len(member_ids))
        return posted

    @api.model
    def _cron_expire_points(self):
        self.sudo()._expire_points()

    # Balance check

    @api.model
    def _balance_mismatches(self):
        """Members whose stored balance differs from the sum of their entries: [(id, stored, ledger)]."""
        self.env.cr.execute("""
            SELECT partner.id, COALESCE(partner.loyalty_balance, 0), COALESCE(ledger.total, 0)
              FROM res_partner partner
              LEFT JOIN (SELECT member_id, SUM(points) AS total FROM customer_loyalty_entry GROUP BY member_id) ledger
                ON ledger.member_id = partner.id
             WHERE COALESCE(partner.loyalty_balance, 0) != COALESCE(ledger.total, 0)
             ORDER BY partner.id
        """)
        return self.env.cr.fetchall()

    @api.model
    def _cron_check_balances(self):
        mismatches = self._balance_mismatches()
        for member_id, stored, ledger in mismatches:
            _logger.error("Loyalty balance of partner #%d is %d but its ledger sums to %d", member_id, stored, ledger)
        if not mismatches:
            _logger.info("Loyalty balances all equal the sum of their ledger entries")
        return mismatches

    @api.model
    def action_check_balances(self):
        mismatches = self._cron_check_balances()
        if not mismatches:
            message, kind = self.env._("Every member's balance equals the sum of its ledger entries."), "success"
        else:
            members = self.env["res.partner"].browse([row[0] for row in mismatches])
            message = self.env._(
                "%(count)s members' balances differ from their ledger: %(codes)s",
                count=len(mismatches),
                codes=", ".join(m.pseudonym or str(m.id) for m in members[:20]),
            )
            kind = "danger"
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": self.env._("Loyalty balance check"),
                "message": message,
                "type": kind,
                "sticky": bool(mismatches),
            },
        }
