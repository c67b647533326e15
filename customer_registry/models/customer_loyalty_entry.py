import logging

from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

_logger = logging.getLogger(__name__)

EARN, REDEEM, REFUND, EXPIRY, ADJUSTMENT = "earn", "redeem", "refund", "expiry", "adjustment"
RESTORE, TIER = "restore", "tier"
# Columns a deleted user's cascade may null: the ledger keeps its own user_id.
AUDIT_COLUMNS = ("create_uid", "write_uid")
# Transaction-local PostgreSQL settings read by the ledger's triggers.
POSTING_SETTING = "customer_registry.ledger_posting"
MAINTENANCE_SETTING = "customer_registry.ledger_maintenance"
# Set by a member's erasure while it clears the notes of the member's entries (nothing else).
ERASURE_SETTING = "customer_registry.ledger_erasure"

UNCHANGED_AUDIT = " ".join(f"- '{column}'" for column in AUDIT_COLUMNS)

# The ledger's rules, enforced by PostgreSQL whatever the channel (ORM, RPC, import, SQL):
# - customer_loyalty_entry_post (BEFORE INSERT on the ledger): locks the member's row, checks the entry's
#   company is the member's (and its program's and tier's), computes balance_after (and the tier after), and
#   moves the member's stored balance, tier and write_date, flagged as the ledger's own move;
# - customer_loyalty_partner_guard (res_partner): refuses any other move of loyalty_balance/loyalty_tier_id,
#   a new partner with a balance or tier, and a member with entries changing company;
# - customer_loyalty_entry_append_only: refuses UPDATE, DELETE and TRUNCATE of entries.
# Both refusals yield to the maintenance setting (see ledger_maintenance).
LEDGER_FUNCTIONS = (
    "customer_loyalty_entry_post",
    "customer_loyalty_partner_guard",
    "customer_loyalty_entry_append_only",
)
ENTRY_TRIGGERS = f"""
CREATE OR REPLACE FUNCTION customer_loyalty_entry_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('{MAINTENANCE_SETTING}', true) = 'on' AND TG_OP = 'UPDATE' THEN
        RETURN NEW;
    END IF;
    IF TG_OP = 'UPDATE' AND (to_jsonb(NEW) {UNCHANGED_AUDIT}) = (to_jsonb(OLD) {UNCHANGED_AUDIT}) THEN
        RETURN NEW;
    END IF;
    -- A member's erasure clears the free text of its entries; points, balances and dates stay.
    IF TG_OP = 'UPDATE' AND NEW.note IS NULL AND current_setting('{ERASURE_SETTING}', true) = 'on'
       AND (to_jsonb(NEW) - 'note' {UNCHANGED_AUDIT}) = (to_jsonb(OLD) - 'note' {UNCHANGED_AUDIT}) THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'customer_loyalty_entry is append-only: % refused', TG_OP
        USING ERRCODE = 'integrity_constraint_violation',
              HINT = 'Post a correcting entry instead.';
END;
$$;

CREATE OR REPLACE FUNCTION customer_loyalty_entry_post() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    member_balance integer;
    member_tier integer;
    member_company integer;
BEGIN
    SELECT COALESCE(loyalty_balance, 0), loyalty_tier_id, company_id
      INTO member_balance, member_tier, member_company
      FROM res_partner WHERE id = NEW.member_id FOR NO KEY UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'loyalty entry for unknown partner %', NEW.member_id
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    IF NEW.company_id IS DISTINCT FROM member_company THEN
        RAISE EXCEPTION 'loyalty entry of company % for member % of company %',
            NEW.company_id, NEW.member_id, member_company
            USING ERRCODE = 'integrity_constraint_violation',
                  HINT = 'A member earns and spends points only in its own company.';
    END IF;
    IF NEW.program_id IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM customer_loyalty_program WHERE id = NEW.program_id AND company_id = NEW.company_id
    ) THEN
        RAISE EXCEPTION 'loyalty entry of company % under another company''s program %',
            NEW.company_id, NEW.program_id
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF NEW.kind = 'tier' THEN
        IF NEW.tier_id IS NOT NULL AND NOT EXISTS (
            SELECT 1 FROM customer_loyalty_tier WHERE id = NEW.tier_id AND company_id = NEW.company_id
        ) THEN
            RAISE EXCEPTION 'tier % is not a tier of company %', NEW.tier_id, NEW.company_id
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
    ELSE
        NEW.tier_id := member_tier;
    END IF;
    NEW.balance_after := member_balance + NEW.points;
    PERFORM set_config('{POSTING_SETTING}', 'on', true);
    UPDATE res_partner
       SET loyalty_balance = NEW.balance_after,
           loyalty_tier_id = NEW.tier_id,
           write_date = clock_timestamp() AT TIME ZONE 'UTC'
     WHERE id = NEW.member_id;
    PERFORM set_config('{POSTING_SETTING}', '', true);
    RETURN NEW;
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
DROP TRIGGER IF EXISTS customer_loyalty_entry_post ON customer_loyalty_entry;
CREATE TRIGGER customer_loyalty_entry_post
    BEFORE INSERT ON customer_loyalty_entry
    FOR EACH ROW EXECUTE FUNCTION customer_loyalty_entry_post();
"""

PARTNER_GUARD = f"""
CREATE OR REPLACE FUNCTION customer_loyalty_partner_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('{MAINTENANCE_SETTING}', true) = 'on' THEN
        RETURN NEW;
    END IF;
    IF TG_OP = 'INSERT' THEN
        IF COALESCE(NEW.loyalty_balance, 0) != 0 OR NEW.loyalty_tier_id IS NOT NULL THEN
            RAISE EXCEPTION 'a new partner starts with no loyalty points and no tier'
                USING ERRCODE = 'integrity_constraint_violation',
                      HINT = 'Points and tiers move only by loyalty ledger entries.';
        END IF;
        RETURN NEW;
    END IF;
    IF (COALESCE(NEW.loyalty_balance, 0) != COALESCE(OLD.loyalty_balance, 0)
        OR NEW.loyalty_tier_id IS DISTINCT FROM OLD.loyalty_tier_id)
       AND NOT (pg_trigger_depth() > 1 AND current_setting('{POSTING_SETTING}', true) = 'on') THEN
        RAISE EXCEPTION 'the loyalty balance and tier of partner % move only by ledger entries', OLD.id
            USING ERRCODE = 'integrity_constraint_violation',
                  HINT = 'Post a loyalty adjustment instead.';
    END IF;
    IF NEW.company_id IS DISTINCT FROM OLD.company_id
       AND EXISTS (SELECT 1 FROM customer_loyalty_entry WHERE member_id = OLD.id) THEN
        RAISE EXCEPTION 'member % has loyalty entries: it stays in its company', OLD.id
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END;
$$;

DROP TRIGGER IF EXISTS customer_loyalty_partner_guard ON res_partner;
CREATE TRIGGER customer_loyalty_partner_guard
    BEFORE INSERT OR UPDATE OF loyalty_balance, loyalty_tier_id, company_id ON res_partner
    FOR EACH ROW EXECUTE FUNCTION customer_loyalty_partner_guard();
"""


def ledger_maintenance(env):
    """Let this transaction rewrite ledger rows and stored balances: module install/upgrade only.

    The append-only trigger and the balance guard let UPDATEs through while the
    transaction-local setting `customer_registry.ledger_maintenance` is on.  This
    helper is the sanctioned way to turn it on: it refuses to run once the
    registry is ready (i.e. in any request, cron or shell working with a loaded
    registry), so only schema synchronisation (`_auto_init` of the ledger model)
    and migration scripts (`migrations/<version>/pre|post-*.py`, which Odoo runs
    while it loads the registry) can use it.  The setting ends with the
    transaction: Odoo commits after each module it installs or upgrades.
    """
    if env.registry.ready:
        raise UserError(env._("The loyalty ledger can only be rewritten while modules are installed or upgraded."))
    env.cr.execute(SQL("SELECT set_config(%s, 'on', true)", MAINTENANCE_SETTING))


class CustomerLoyaltyEntry(models.Model):
    """Append-only ledger: every point of a member's balance is explained by an entry.

    Entries are inserted by `_insert` only; a BEFORE INSERT trigger computes the
    entry's balance_after (and tier) from the member's row, which it locks and
    moves in the same statement.  The member's stored balance and tier cannot be
    moved any other way (a trigger on res_partner refuses it), so the balance is
    the sum of the entries and the tier is the tier of the last entry, as a
    database fact.  Nothing updates or deletes entries afterwards (the ORM
    refuses, and so does a trigger in PostgreSQL).  Corrections are new entries.
    """

    _name = "customer.loyalty.entry"
    _description = "Loyalty Ledger Entry"
    _order = "date desc, id desc"
    _rec_name = "pseudonym"

    member_id = fields.Many2one("res.partner", required=True, readonly=True, ondelete="restrict", index=True)
    pseudonym = fields.Char(string="Member Code", required=True, readonly=True, index=True)
    company_id = fields.Many2one(
        "res.company",
        required=True,
        readonly=True,
        ondelete="restrict",
        index=True,
        help="The member's company: balances, programs, tiers and expiry are per company.",
    )
    program_id = fields.Many2one("customer.loyalty.program", readonly=True, ondelete="restrict")
    currency_id = fields.Many2one(related="company_id.currency_id")
    date = fields.Datetime(required=True, readonly=True, index=True)
    kind = fields.Selection(
        [
            (EARN, "Earned"),
            (REDEEM, "Redeemed"),
            (REFUND, "Refund Reversal"),
            (RESTORE, "Redeemed Points Returned"),
            (EXPIRY, "Expired"),
            (ADJUSTMENT, "Adjustment"),
            (TIER, "Tier Change"),
        ],
        required=True,
        readonly=True,
        index=True,
    )
    points = fields.Integer(required=True, readonly=True, aggregator="sum")
    balance_after = fields.Integer(
        required=True, readonly=True, aggregator=False, help="Computed by the database when the entry is posted."
    )
    tier_id = fields.Many2one(
        "customer.loyalty.tier",
        string="Tier After",
        readonly=True,
        ondelete="restrict",
        help="The member's tier once this entry was posted; a tier change entry moves it.",
    )
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
        help="For a refund reversal or returned points: the order whose points are taken back or given back.",
    )
    expired_until = fields.Date(readonly=True, help="For an expiry: points earned before this day expired.")
    user_id = fields.Many2one("res.users", readonly=True, ondelete="restrict")
    note = fields.Text(readonly=True)

    # One earning, one redemption per order, one reversal per refund order: the
    # offline POS may send the same order twice, the database says no.
    _order_kind_unique = models.Constraint("UNIQUE(order_id, kind)", "This order already has this ledger entry.")
    _expiry_unique = models.UniqueIndex("(member_id, expired_until) WHERE kind = 'expiry'")
    _balance_not_negative = models.Constraint("CHECK(balance_after >= 0)", "A loyalty balance cannot go negative.")
    _tier_moves_no_points = models.Constraint("CHECK(kind != 'tier' OR points = 0)", "A tier change moves no points.")
    _company_member_date = models.Index("(company_id, member_id, date)")

    def _auto_init(self):
        # Schema synchronisation of an install/upgrade (also when another addon adds a
        # field with a default to this model): Odoo fills new columns with an UPDATE.
        if not self.pool.ready:
            ledger_maintenance(self.env)
        return super()._auto_init()

    def init(self):
        result = super().init()
        self.env.cr.execute(ENTRY_TRIGGERS)
        return result

    # The ledger posts entries with one SQL statement; a trigger moves the balance.
    # The ORM's create, write and unlink are refused outright, never delegated.
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
    def _spend_sql(self, spend_since, order=None):
        """SQL of a member's rolling spend (partner row aliased `partner`), `order` excluded.

        Paid orders of the member's company since `spend_since`: the member's own
        orders and the refunds of their order lines, rung up with the customer or not.
        """
        order_id = order.id if order else 0
        return SQL(
            """(SELECT COALESCE(SUM(spent.amount_total), 0) FROM pos_order spent
                 WHERE spent.company_id = partner.company_id AND spent.state IN ('paid', 'done')
                   AND spent.date_order >= %(since)s AND spent.id != %(order)s
                   AND spent.id IN (SELECT own.id FROM pos_order own WHERE own.partner_id = partner.id
                                    UNION
                                    SELECT refund.order_id FROM pos_order origin
                                      JOIN pos_order_line sold ON sold.order_id = origin.id
                                      JOIN pos_order_line refund ON refund.refunded_orderline_id = sold.id
                                     WHERE origin.partner_id = partner.id))""",
            since=spend_since,
            order=order_id,
        )

    @api.model
    def _lock_member(self, member, spend_since=None, order=None, order_counts=None):
        """Lock the member's balance row until the transaction ends; return (balance, rolling spend, tier id).

        The rolling spend counts the member's paid orders since `spend_since` (see
        `_spend_sql`); `order` is counted from memory without flushing its pending
        write when `order_counts` (default: the order is the member's).  Two tills
        redeeming for the same member queue on the lock; under Odoo's REPEATABLE
        READ the second gets a serialization failure and its request is retried
        against the new balance.
        """
        spend = SQL("NULL")
        if spend_since:
            spend = self._spend_sql(spend_since, order)
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
        if order_counts is None:
            order_counts = bool(order) and order.partner_id == member
        if (
            order
            and order_counts
            and spend_since
            and order.date_order >= spend_since
            and order.company_id == member.company_id
        ):
            spend_total += order.amount_total
        return balance, spend_total, tier_id

    @api.model
    def _row(self, member, kind, points, program=None, order=None, **values):
        """Values of one entry to `_insert` (balance_after and tier_id are the database's)."""
        now = fields.Datetime.now()
        return {
            "member_id": member.id,
            "pseudonym": member.pseudonym,
            "company_id": values.pop("company_id", None) or member.company_id.id,
            "program_id": program.id if program else None,
            "date": values.pop("date", now),
            "kind": kind,
            "points": points,
            "order_id": order.id if order else None,
            "user_id": self.env.uid,
            "create_uid": self.env.uid,
            "create_date": now,
            "write_uid": self.env.uid,
            "write_date": now,
            **values,
        }

    @api.model
    def _insert(self, member, balance, rows):
        """Post `rows` (from `_row`) of one member in one INSERT: all or none; return the new balance.

        `balance` is the member's balance read under `_lock_member` in this
        transaction: an overdraw is refused here with a readable message (the
        database refuses it too).  The trigger moves the member's balance and
        tier row by row, in order, and the partner's write_date with them.
        """
        if not rows:
            return balance
        self._check_rows(member, balance, rows)
        # The trigger reads the member's, program's and tier's companies from the database.
        member.flush_recordset(["company_id", "loyalty_balance", "loyalty_tier_id"])
        self.env["customer.loyalty.program"].flush_model(["company_id"])
        self.env["customer.loyalty.tier"].flush_model(["company_id", "program_id"])
        columns = list(dict.fromkeys(column for row in rows for column in row))
        self.env.cr.execute(
            SQL(
                "INSERT INTO customer_loyalty_entry (%s) VALUES %s RETURNING balance_after",
                SQL(", ").join(SQL.identifier(column) for column in columns),
                SQL(", ").join(SQL("%s", tuple(row.get(column) for column in columns)) for row in rows),
            )
        )
        balances = [row[0] for row in self.env.cr.fetchall()]
        member.invalidate_recordset(["loyalty_balance", "loyalty_tier_id", "loyalty_entry_ids", "write_date"])
        return balances[-1]

    @api.model
    def _check_rows(self, member, balance, rows):
        """Refuse `rows` that would overdraw the member, readably; return the balance after them."""
        running = balance
        for row in rows:
            running += row["points"]
            if running < 0:
                raise UserError(
                    self.env._(
                        "Member %(code)s has %(balance)s points: %(points)s cannot be taken.",
                        code=member.pseudonym,
                        balance=running - row["points"],
                        points=-row["points"],
                    )
                )
        return running

    @api.model
    def _post(self, member, kind, points, balance, program=None, order=None, **values):
        """Post one entry; return the member's new balance."""
        return self._insert(member, balance, [self._row(member, kind, points, program=program, order=order, **values)])

    @api.model
    def _tier_row(self, member, program, tier_id, note=None):
        return self._row(member, TIER, 0, program=program or None, tier_id=tier_id or None, note=note)

    @api.model
    def _set_tier(self, member, tier_id, program=None, note=None):
        """Move a member's tier: a tier change entry (the trigger moves the stored tier)."""
        program = program or self.env["customer.loyalty.program"]._for_company(member.company_id.id)
        balance, _spend, _tier = self._lock_member(member)
        return self._insert(member, balance, [self._tier_row(member, program, tier_id, note=note)])

    @api.model
    def _adjust(self, member, points, reason):
        """A manager's correction: a new entry, never an edit."""
        if not points:
            raise UserError(self.env._("An adjustment moves at least one point."))
        if not (reason or "").strip():
            raise UserError(self.env._("An adjustment needs a reason."))
        if not member.company_id:
            raise UserError(self.env._("Member %s belongs to no company: its points cannot move.", member.pseudonym))
        program = self.env["customer.loyalty.program"]._for_company(member.company_id.id)
        balance, _spend, _tier = self._lock_member(member)
        return self._post(
            member,
            ADJUSTMENT,
            points,
            balance,
            program=program or None,
            note=reason.strip(),
            company_id=member.company_id.id,
        )

    # Expiry

    @api.model
    def _expirable_points(self, member_ids, cutoff, company_id):
        """Points still unspent in lots earned before `cutoff`, per member.

        Only the entries of `company_id` count (a member's entries are all of its
        company: the database refuses others).  Every debit (redemption, reversal,
        expiry, negative adjustment) consumes
        the oldest lots first, so the expired lots are a prefix of the member's
        credits: what is left in them is their sum minus all debits.
        """
        self.env.cr.execute(
            SQL(
                """SELECT member_id,
                      COALESCE(SUM(points) FILTER (WHERE points > 0 AND date < %(cutoff)s), 0)
                      + COALESCE(SUM(points) FILTER (WHERE points < 0), 0)
                 FROM customer_loyalty_entry
                WHERE member_id = ANY(%(members)s) AND company_id = %(company)s
                GROUP BY member_id""",
                cutoff=cutoff,
                members=list(member_ids),
                company=company_id,
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
                        WHERE id > %s AND company_id = %s AND loyalty_balance > 0
                          AND NOT EXISTS (SELECT 1 FROM customer_loyalty_entry done
                                           WHERE done.member_id = res_partner.id AND done.kind = 'expiry'
                                             AND done.expired_until = %s)
                          AND id IN (
                              SELECT member_id FROM customer_loyalty_entry
                               WHERE company_id = %s AND points > 0 AND date < %s)
                        ORDER BY id LIMIT %s""",
                        last_member_id,
                        program.company_id.id,
                        cutoff,
                        program.company_id.id,
                        cutoff,
                        batch_size,
                    )
                )
                member_ids = [row[0] for row in self.env.cr.fetchall()]
                if not member_ids:
                    break
                last_member_id = member_ids[-1]
                expirable = self._expirable_points(member_ids, cutoff, program.company_id.id)
                batch_posted = 0
                for member in self.env["res.partner"].browse(member_ids):
                    if not expirable.get(member.id):
                        continue
                    balance, _spend, _tier = self._lock_member(member)
                    # Recounted under the lock: a redemption may have spent them meanwhile.
                    points = min(
                        self._expirable_points([member.id], cutoff, program.company_id.id).get(member.id, 0), balance
                    )
                    if points:
                        self._post(
                            member,
                            EXPIRY,
                            -points,
                            balance,
                            program=program,
                            expired_until=cutoff,
                            note=self.env._("Points earned before %s expired.", cutoff),
                        )
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
