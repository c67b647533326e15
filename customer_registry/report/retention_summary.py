"""Summaries the retention reports read, kept up to date by the database as orders are settled.

A report that scans every order per request takes seconds at a million orders.
The reports read four summary tables instead:

- ``customer_registry_member_month``: per member, company, local month and point
  of sale: purchases, purchased amount, refunded amount, first and last purchase day;
- ``customer_registry_member_total``: per member and company: first and last
  purchase day, purchases, spend (refunds deducted);
- ``customer_registry_kpi_delta`` and ``customer_registry_cohort_delta``: what each
  member adds to the monthly KPIs (per company, point of sale and day) and to the
  cohort triangle (per company, cohort and month).  They are *deltas*: a refresh
  inserts the difference between a member's new and old contribution, so two
  tills never update the same counter row (no lock waits between tills); the
  reports sum them, and a scheduled compaction folds them into one row per key.

Whatever changes an order (the POS sync, a refund rung up without the member,
a state change, a late enrollment coding past orders, an erasure, SQL by the
application), row triggers on ``pos_order`` and on refund lines of
``pos_order_line`` refresh the members concerned: the member's summaries are
recomputed from their orders (idempotent), under a per-member advisory lock so
concurrent refreshes of one member serialise.  The triggers run inside the
ORM's statements (no extra query from Odoo); a walk-in order, a draft and a
sale line fire nothing.  `rebuild()` recomputes everything from the orders in
bulk; a change of a company's churn window or timezone rebuilds it too.

The statements are plain strings run without parameters (no `%` escaping).
"""

import logging
import time

from odoo import api, models

from .retention_sql import COMPANY_SETTINGS, COUNTED_STATES

_logger = logging.getLogger(__name__)

SUMMARY_TABLES = (
    "customer_registry_member_month",
    "customer_registry_member_total",
    "customer_registry_kpi_delta",
    "customer_registry_cohort_delta",
)
KPI_COLUMNS = ("active", "new", "returning", "repeat", "start_change", "lost", "purchases", "amount")
KPI_COLUMNS = tuple(f"kpi_{column}" for column in KPI_COLUMNS)  # `returning` is a keyword
REFRESH_LOCK = 48151  # first key of the per-member advisory lock

TABLES_SQL = """
CREATE TABLE IF NOT EXISTS customer_registry_member_month (
    company_id integer NOT NULL,
    partner_id integer NOT NULL,
    month date NOT NULL,
    config_id integer,
    purchases integer NOT NULL,
    purchase_amount numeric NOT NULL,
    refund_amount numeric NOT NULL,
    first_date date,
    last_date date
);
CREATE INDEX IF NOT EXISTS customer_registry_member_month_member
    ON customer_registry_member_month (partner_id, company_id);
CREATE TABLE IF NOT EXISTS customer_registry_member_total (
    company_id integer NOT NULL,
    partner_id integer NOT NULL,
    first_date date NOT NULL,
    last_date date NOT NULL,
    purchases integer NOT NULL,
    spend numeric NOT NULL
);
CREATE INDEX IF NOT EXISTS customer_registry_member_total_member
    ON customer_registry_member_total (partner_id, company_id);
CREATE INDEX IF NOT EXISTS customer_registry_member_total_company
    ON customer_registry_member_total (company_id);
CREATE TABLE IF NOT EXISTS customer_registry_kpi_delta (
    company_id integer NOT NULL,
    config_id integer,
    day date NOT NULL,
    kpi_active integer NOT NULL,
    kpi_new integer NOT NULL,
    kpi_returning integer NOT NULL,
    kpi_repeat integer NOT NULL,
    kpi_start_change integer NOT NULL,
    kpi_lost integer NOT NULL,
    kpi_purchases integer NOT NULL,
    kpi_amount numeric NOT NULL
);
CREATE TABLE IF NOT EXISTS customer_registry_cohort_delta (
    company_id integer NOT NULL,
    cohort_month date NOT NULL,
    month date NOT NULL,
    members integer NOT NULL
);
"""

# Counted orders and the member they are charged to, as the loyalty ledger does: the order's own
# member, or, for an order rung up without a member, the member whose order lines it refunds.
ATTRIBUTED_ORDERS = f"""
    SELECT o.company_id, o.partner_id, o.config_id, o.date_order, o.amount_total
      FROM pos_order o
     WHERE o.state IN {COUNTED_STATES} AND o.partner_id IS NOT NULL AND o.pseudonym IS NOT NULL {{own}}
     UNION ALL
    SELECT o.company_id, refunded.partner_id, o.config_id, o.date_order, o.amount_total
      FROM (SELECT DISTINCT refund.order_id, origin.partner_id, origin.company_id
              FROM pos_order origin
              JOIN pos_order_line sold ON sold.order_id = origin.id
              JOIN pos_order_line refund ON refund.refunded_orderline_id = sold.id
             WHERE origin.partner_id IS NOT NULL AND origin.pseudonym IS NOT NULL {{origin}}) AS refunded
      JOIN pos_order o ON o.id = refunded.order_id AND o.company_id = refunded.company_id
     WHERE o.state IN {COUNTED_STATES} AND (o.partner_id IS NULL OR o.pseudonym IS NULL)
"""

# Member months from attributed orders ({orders}); `settings` must be in scope.
MEMBER_MONTHS = """
    SELECT dated.company_id, dated.partner_id, DATE_TRUNC('month', dated.local_at)::date AS month, dated.config_id,
           (COUNT(*) FILTER (WHERE dated.amount_total > 0))::int AS purchases,
           COALESCE(SUM(dated.amount_total) FILTER (WHERE dated.amount_total > 0), 0) AS purchase_amount,
           COALESCE(SUM(dated.amount_total) FILTER (WHERE dated.amount_total < 0), 0) AS refund_amount,
           MIN(dated.local_at::date) FILTER (WHERE dated.amount_total > 0) AS first_date,
           MAX(dated.local_at::date) FILTER (WHERE dated.amount_total > 0) AS last_date
      FROM (SELECT attributed.*, attributed.date_order AT TIME ZONE 'UTC' AT TIME ZONE settings.tz AS local_at
              FROM ({orders}) AS attributed
              JOIN settings ON settings.company_id = attributed.company_id) AS dated
  GROUP BY 1, 2, 3, 4
    HAVING COUNT(*) FILTER (WHERE dated.amount_total <> 0) > 0
"""

# A member's purchase months as spells: from the month's last purchase day to the next purchase,
# or to the first day past the churn window (`lost_day`).  {months}: member month rows.
SPELLS = """
    SELECT purchase_months.*,
           MIN(month) OVER member AS cohort_month,
           SUM(purchases) OVER (member ORDER BY month) AS purchases_to_date,
           LEAD(first_date) OVER (member ORDER BY month) AS next_date,
           (month + INTERVAL '1 month')::date AS watched_from,
           last_date + churn_days + 1 AS lost_day,
           DATE_TRUNC('month', LEAST(LEAD(first_date) OVER (member ORDER BY month), last_date + churn_days + 1))::date
               AS watched_until
      FROM (SELECT months.company_id, months.partner_id, months.month, MIN(months.config_id) AS config_id,
                   SUM(months.purchases) AS purchases, MIN(months.first_date) AS first_date,
                   MAX(months.last_date) AS last_date, MIN(settings.churn_days) AS churn_days
              FROM ({months}) AS months
              JOIN settings ON settings.company_id = months.company_id
             WHERE months.purchases > 0
          GROUP BY months.company_id, months.partner_id, months.month) AS purchase_months
    WINDOW member AS (PARTITION BY company_id, partner_id)
"""

# What members add to the KPIs, per company, point of sale and day (month start for monthly counts,
# the day the member is lost for losses).  {spells}, {months}: relations as above.
KPI_CONTRIBUTION = """
    SELECT company_id, config_id, day,
           SUM(kpi_active)::int AS kpi_active, SUM(kpi_new)::int AS kpi_new,
           SUM(kpi_returning)::int AS kpi_returning, SUM(kpi_repeat)::int AS kpi_repeat,
           SUM(kpi_start_change)::int AS kpi_start_change, SUM(kpi_lost)::int AS kpi_lost,
           SUM(kpi_purchases)::int AS kpi_purchases, SUM(kpi_amount) AS kpi_amount
      FROM (
        SELECT company_id, config_id, month AS day, 1 AS kpi_active, (month = cohort_month)::int AS kpi_new,
               (month > cohort_month)::int AS kpi_returning, (purchases_to_date > 1)::int AS kpi_repeat,
               0 AS kpi_start_change, 0 AS kpi_lost, 0 AS kpi_purchases, 0::numeric AS kpi_amount
          FROM {spells} AS spells
         UNION ALL
        SELECT company_id, config_id, watched_from, 0, 0, 0, 0, 1, 0, 0, 0
          FROM {spells} AS spells WHERE watched_from <= watched_until
         UNION ALL
        SELECT company_id, config_id, (watched_until + INTERVAL '1 month')::date, 0, 0, 0, 0, -1, 0, 0, 0
          FROM {spells} AS spells WHERE watched_from <= watched_until
         UNION ALL
        SELECT company_id, config_id, lost_day, 0, 0, 0, 0, 0, 1, 0, 0
          FROM {spells} AS spells WHERE (next_date IS NULL OR next_date >= lost_day) AND lost_day >= watched_from
         UNION ALL
        SELECT company_id, config_id, month, 0, 0, 0, 0, 0, 0, purchases, purchase_amount + refund_amount
          FROM {months} AS months
      ) AS contributions
  GROUP BY company_id, config_id, day
"""

COHORT_CONTRIBUTION = """
    SELECT company_id, cohort_month, month, COUNT(*)::int AS members
      FROM {spells} AS spells
  GROUP BY company_id, cohort_month, month
"""

MEMBER_TOTALS = """
    SELECT company_id, partner_id, MIN(first_date) AS first_date, MAX(last_date) AS last_date,
           SUM(purchases)::int AS purchases, SUM(purchase_amount + refund_amount) AS spend
      FROM {months} AS months
  GROUP BY company_id, partner_id
    HAVING SUM(purchases) > 0
"""

_KPI_SUMS = ", ".join(f"SUM({column})" for column in KPI_COLUMNS)
_KPI_NONZERO = " OR ".join(f"SUM({column}) <> 0" for column in KPI_COLUMNS)
_KPI_NEGATED = ", ".join(f"-{column}" for column in KPI_COLUMNS)
_KPI_LIST = ", ".join(KPI_COLUMNS)

# One statement: the member's new summaries replace the old ones, the KPI and cohort deltas get the
# difference.  Data-modifying CTEs all see the rows as they were before the statement.
REFRESH_FUNCTION = f"""
CREATE OR REPLACE FUNCTION customer_registry_retention_refresh(p_company integer, p_partner integer)
RETURNS void LANGUAGE plpgsql
-- Planned for each member: after five calls on one connection PostgreSQL may switch to a generic
-- plan, blind to the member, which scanned every order at each refresh (seconds per order in a long
-- test transaction). Odoo's requests re-plan anyway: the pool resets connections (DISCARD ALL).
SET plan_cache_mode = force_custom_plan
AS $$
BEGIN
    IF p_partner IS NULL OR p_company IS NULL THEN
        RETURN;
    END IF;
    PERFORM pg_advisory_xact_lock({REFRESH_LOCK}, p_partner);
    WITH settings AS ({COMPANY_SETTINGS} WHERE company.id = p_company),
    stored AS (
        SELECT * FROM customer_registry_member_month WHERE company_id = p_company AND partner_id = p_partner
    ),
    fresh AS ({
    MEMBER_MONTHS.format(
        orders=ATTRIBUTED_ORDERS.format(
            own="AND o.partner_id = p_partner AND o.company_id = p_company",
            origin="AND origin.partner_id = p_partner AND origin.company_id = p_company",
        )
    )
}),
    old_spells AS ({SPELLS.format(months="SELECT * FROM stored")}),
    new_spells AS ({SPELLS.format(months="SELECT * FROM fresh")}),
    old_kpi AS ({KPI_CONTRIBUTION.format(spells="old_spells", months="stored")}),
    new_kpi AS ({KPI_CONTRIBUTION.format(spells="new_spells", months="fresh")}),
    kpi_delta AS (
        INSERT INTO customer_registry_kpi_delta (company_id, config_id, day, {_KPI_LIST})
        SELECT company_id, config_id, day, {_KPI_SUMS}
          FROM (SELECT * FROM new_kpi
                 UNION ALL
                SELECT company_id, config_id, day, {_KPI_NEGATED} FROM old_kpi) AS changes
      GROUP BY company_id, config_id, day
        HAVING {_KPI_NONZERO}
    ),
    old_cohort AS ({COHORT_CONTRIBUTION.format(spells="old_spells")}),
    new_cohort AS ({COHORT_CONTRIBUTION.format(spells="new_spells")}),
    cohort_delta AS (
        INSERT INTO customer_registry_cohort_delta (company_id, cohort_month, month, members)
        SELECT company_id, cohort_month, month, SUM(members)
          FROM (SELECT * FROM new_cohort
                 UNION ALL
                SELECT company_id, cohort_month, month, -members FROM old_cohort) AS changes
      GROUP BY company_id, cohort_month, month
        HAVING SUM(members) <> 0
    ),
    old_months AS (
        DELETE FROM customer_registry_member_month WHERE company_id = p_company AND partner_id = p_partner
    ),
    new_months AS (
        INSERT INTO customer_registry_member_month SELECT * FROM fresh
    ),
    old_total AS (
        DELETE FROM customer_registry_member_total WHERE company_id = p_company AND partner_id = p_partner
    )
    INSERT INTO customer_registry_member_total {MEMBER_TOTALS.format(months="fresh")};
END;
$$;
"""

# Only what can change a member's figures fires: a counted order (or one that was counted) of a
# member, or a refund; walk-in sales, drafts and other columns fire nothing.
TRIGGERS_SQL = f"""
CREATE OR REPLACE FUNCTION customer_registry_retention_order_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    affected record;
BEGIN
    FOR affected IN
        SELECT DISTINCT changed.company_id, changed.partner_id
          FROM (
            SELECT OLD.company_id, OLD.partner_id, OLD.id AS order_id WHERE TG_OP <> 'INSERT'
             UNION ALL
            SELECT NEW.company_id, NEW.partner_id, NEW.id WHERE TG_OP <> 'DELETE'
          ) AS touched,
          -- the refunds of the order's lines follow the order's old and new member (enrollment, erasure)
          LATERAL (
            SELECT touched.company_id, touched.partner_id
             UNION ALL
            -- the members whose lines this order refunds
            SELECT origin.company_id, origin.partner_id
              FROM pos_order_line refund
              JOIN pos_order_line sold ON sold.id = refund.refunded_orderline_id
              JOIN pos_order origin ON origin.id = sold.order_id
             WHERE refund.order_id = touched.order_id AND refund.refunded_orderline_id IS NOT NULL
          ) AS changed
         WHERE changed.partner_id IS NOT NULL
    LOOP
        PERFORM customer_registry_retention_refresh(affected.company_id, affected.partner_id);
    END LOOP;
    RETURN NULL;
END;
$$;

CREATE OR REPLACE FUNCTION customer_registry_retention_line_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    affected record;
BEGIN
    FOR affected IN
        SELECT DISTINCT origin.company_id, origin.partner_id
          FROM pos_order_line sold
          JOIN pos_order origin ON origin.id = sold.order_id
         WHERE sold.id IN (
                SELECT OLD.refunded_orderline_id WHERE TG_OP <> 'INSERT'
                 UNION ALL
                SELECT NEW.refunded_orderline_id WHERE TG_OP <> 'DELETE')
           AND origin.partner_id IS NOT NULL
    LOOP
        PERFORM customer_registry_retention_refresh(affected.company_id, affected.partner_id);
    END LOOP;
    RETURN NULL;
END;
$$;

DROP TRIGGER IF EXISTS customer_registry_retention_order_insert ON pos_order;
CREATE TRIGGER customer_registry_retention_order_insert
    AFTER INSERT ON pos_order FOR EACH ROW
    WHEN (NEW.state IN {COUNTED_STATES} AND (NEW.pseudonym IS NOT NULL OR NEW.amount_total < 0))
    EXECUTE FUNCTION customer_registry_retention_order_changed();
DROP TRIGGER IF EXISTS customer_registry_retention_order_update ON pos_order;
CREATE TRIGGER customer_registry_retention_order_update
    AFTER UPDATE OF state, partner_id, pseudonym, company_id, config_id, date_order, amount_total ON pos_order
    FOR EACH ROW
    WHEN ((OLD.state IN {COUNTED_STATES} OR NEW.state IN {COUNTED_STATES})
          AND (OLD.pseudonym IS NOT NULL OR NEW.pseudonym IS NOT NULL
               OR OLD.amount_total < 0 OR NEW.amount_total < 0)
          AND (OLD.state, OLD.partner_id, OLD.pseudonym, OLD.company_id, OLD.config_id, OLD.date_order,
               OLD.amount_total)
              IS DISTINCT FROM (NEW.state, NEW.partner_id, NEW.pseudonym, NEW.company_id, NEW.config_id,
                                NEW.date_order, NEW.amount_total))
    EXECUTE FUNCTION customer_registry_retention_order_changed();
DROP TRIGGER IF EXISTS customer_registry_retention_order_delete ON pos_order;
CREATE TRIGGER customer_registry_retention_order_delete
    AFTER DELETE ON pos_order FOR EACH ROW
    WHEN (OLD.state IN {COUNTED_STATES} AND (OLD.pseudonym IS NOT NULL OR OLD.amount_total < 0))
    EXECUTE FUNCTION customer_registry_retention_order_changed();
DROP TRIGGER IF EXISTS customer_registry_retention_line_insert ON pos_order_line;
CREATE TRIGGER customer_registry_retention_line_insert
    AFTER INSERT ON pos_order_line FOR EACH ROW WHEN (NEW.refunded_orderline_id IS NOT NULL)
    EXECUTE FUNCTION customer_registry_retention_line_changed();
DROP TRIGGER IF EXISTS customer_registry_retention_line_update ON pos_order_line;
CREATE TRIGGER customer_registry_retention_line_update
    AFTER UPDATE OF refunded_orderline_id, order_id ON pos_order_line FOR EACH ROW
    WHEN (OLD.refunded_orderline_id IS NOT NULL OR NEW.refunded_orderline_id IS NOT NULL)
    EXECUTE FUNCTION customer_registry_retention_line_changed();
DROP TRIGGER IF EXISTS customer_registry_retention_line_delete ON pos_order_line;
CREATE TRIGGER customer_registry_retention_line_delete
    AFTER DELETE ON pos_order_line FOR EACH ROW WHEN (OLD.refunded_orderline_id IS NOT NULL)
    EXECUTE FUNCTION customer_registry_retention_line_changed();
"""

REBUILD_STEPS = (
    (
        "member months",
        f"""INSERT INTO customer_registry_member_month
            WITH settings AS ({COMPANY_SETTINGS})
            {MEMBER_MONTHS.format(orders=ATTRIBUTED_ORDERS.format(own="", origin=""))}""",
    ),
    (
        "member totals",
        "INSERT INTO customer_registry_member_total " + MEMBER_TOTALS.format(months="customer_registry_member_month"),
    ),
    (
        "monthly KPIs",
        f"""INSERT INTO customer_registry_kpi_delta (company_id, config_id, day, {_KPI_LIST})
            WITH settings AS ({COMPANY_SETTINGS}),
            spells AS ({SPELLS.format(months="SELECT * FROM customer_registry_member_month")})
            {KPI_CONTRIBUTION.format(spells="spells", months="customer_registry_member_month")}""",
    ),
    (
        "cohorts",
        f"""INSERT INTO customer_registry_cohort_delta (company_id, cohort_month, month, members)
            WITH settings AS ({COMPANY_SETTINGS}),
            spells AS ({SPELLS.format(months="SELECT * FROM customer_registry_member_month")})
            {COHORT_CONTRIBUTION.format(spells="spells")}""",
    ),
)

ANY_COUNTED_ORDER_SQL = f"SELECT EXISTS (SELECT 1 FROM pos_order WHERE state IN {COUNTED_STATES})"
TRUNCATE_SQL = f"TRUNCATE {', '.join(SUMMARY_TABLES)}"
ANALYZE_SQL = f"ANALYZE {', '.join(SUMMARY_TABLES)}"

COMPACT_SQL = f"""
WITH folded AS (DELETE FROM customer_registry_kpi_delta RETURNING *)
INSERT INTO customer_registry_kpi_delta (company_id, config_id, day, {_KPI_LIST})
SELECT company_id, config_id, day, {_KPI_SUMS} FROM folded GROUP BY company_id, config_id, day HAVING {_KPI_NONZERO};
WITH folded AS (DELETE FROM customer_registry_cohort_delta RETURNING *)
INSERT INTO customer_registry_cohort_delta (company_id, cohort_month, month, members)
SELECT company_id, cohort_month, month, SUM(members) FROM folded
 GROUP BY company_id, cohort_month, month HAVING SUM(members) <> 0;
"""


def _rebuild_function():
    """customer_registry_retention_rebuild(): the rebuild in one database function, for the triggers below."""
    statements = "\n".join(f"    {statement};" for _label, statement in REBUILD_STEPS)
    return f"""
CREATE OR REPLACE FUNCTION customer_registry_retention_rebuild() RETURNS void LANGUAGE plpgsql AS $body$
BEGIN
    TRUNCATE {", ".join(SUMMARY_TABLES)};
{statements}
END;
$body$;

-- Months and churn days depend on the company's timezone and churn window: a change rebuilds.
CREATE OR REPLACE FUNCTION customer_registry_retention_settings_changed() RETURNS trigger
LANGUAGE plpgsql AS $body$
BEGIN
    IF TG_TABLE_NAME = 'res_company' OR EXISTS (SELECT 1 FROM res_company WHERE partner_id = NEW.id) THEN
        PERFORM customer_registry_retention_rebuild();
    END IF;
    RETURN NULL;
END;
$body$;
DROP TRIGGER IF EXISTS customer_registry_retention_churn_days ON res_company;
CREATE TRIGGER customer_registry_retention_churn_days
    AFTER UPDATE OF registry_churn_days, partner_id ON res_company FOR EACH ROW
    WHEN (OLD.registry_churn_days IS DISTINCT FROM NEW.registry_churn_days OR OLD.partner_id <> NEW.partner_id)
    EXECUTE FUNCTION customer_registry_retention_settings_changed();
DROP TRIGGER IF EXISTS customer_registry_retention_timezone ON res_partner;
CREATE TRIGGER customer_registry_retention_timezone
    AFTER UPDATE OF tz ON res_partner FOR EACH ROW
    WHEN (OLD.tz IS DISTINCT FROM NEW.tz)
    EXECUTE FUNCTION customer_registry_retention_settings_changed();
"""


class CustomerRetentionSummary(models.AbstractModel):
    """The summary tables of the retention reports: creation, triggers, rebuild, compaction."""

    _name = "customer.retention.summary"
    _description = "Retention Report Summaries"

    def init(self):
        self.env.cr.execute(TABLES_SQL)
        self.env.cr.execute(REFRESH_FUNCTION)
        self.env.cr.execute(TRIGGERS_SQL)
        self.env.cr.execute(_rebuild_function())
        self.env.cr.execute("SELECT EXISTS (SELECT 1 FROM customer_registry_member_month)")
        has_summaries = self.env.cr.fetchone()[0]
        self.env.cr.execute(ANY_COUNTED_ORDER_SQL)
        if self.env.cr.fetchone()[0] and not has_summaries:
            self.rebuild()

    @api.model
    def rebuild(self, progress=None):
        """Recompute every summary from the orders, in bulk; idempotent.  Returns the row counts.

        Locks the summaries (the tills' triggers wait) until the transaction ends.
        From a shell: ``env["customer.retention.summary"].rebuild(); env.cr.commit()``.
        """
        cr = self.env.cr
        self.env.flush_all()
        started = time.monotonic()
        cr.execute(TRUNCATE_SQL)
        counts = {}
        for step, (label, statement) in enumerate(REBUILD_STEPS, 1):
            cr.execute(statement)
            counts[label] = cr.rowcount
            if progress:
                progress(label, cr.rowcount)
            _logger.info(
                "Retention summaries: step %d/%d, %s: %d rows (%.1f s)",
                step,
                len(REBUILD_STEPS),
                label,
                cr.rowcount,
                time.monotonic() - started,
            )
        cr.execute(ANALYZE_SQL)
        return counts

    @api.model
    def compact(self):
        """Fold the KPI and cohort deltas into one row per key (the reports' sums do not change)."""
        self.env.cr.execute("SELECT pg_advisory_xact_lock(%s, 0)", [REFRESH_LOCK])
        self.env.cr.execute(COMPACT_SQL)

    @api.model
    def _cron_compact(self):
        self.compact()
