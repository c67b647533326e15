"""Retention reports on a synthetic history: the ORM reports (over the summaries) against
hand-written SQL over the raw orders.

benchmarks/run retention [--size small|full|xl]

Fills a database with members and POS orders in bulk SQL, in batches with progress (3 years,
seasonal, growing sign-ups, churn, skewed spend, some refunds, anonymous and cancelled orders),
rebuilds the summaries (`customer.retention.summary.rebuild`, the command an existing database
runs once), then times, interleaved (A,B then B,A) in one process, as a user with record rules:
- rfm: the customer metrics report grouped by RFM segment vs one hand-written query;
- cohort: the 36-month cohort pivot vs a hand-written query;
- kpi: the monthly KPIs by month vs the hand-written query the report ran before the summaries;
- segment: a segment's member count vs a hand-written count over the raw orders.
Prints the median of the pair ratios and checks that both sides agree.

Pairs: 7 per comparison; when the warm-up run of the hand-written query takes more than
SLOW_SQL_S seconds (the KPI anchor over 10 million orders takes minutes), that comparison
runs MIN_PAIRS pairs instead, still interleaved. Both sides are the same queries whatever the
count; the hand-written side's rows are those of its last timed run.

Keeping the history: with CR_BENCH_KEEP=1 (and PGHOST pointing at a server that outlives the
run, e.g. tools/dev-postgres) the generated database `bench_retention_SIZE` is kept at the
end, and a later run with CR_BENCH_KEEP=1 reuses it if its generation had finished: the addon
is updated (`-u`, so changed report code applies) and the summaries are kept as they are, so
a change to the summary tables or triggers needs a fresh history (run without the variable,
or drop the database). Without the variable the database is generated anew and dropped.
"""

import os
import statistics
import subprocess
import time

import harness
from common import interleaved, timed

SIZES = {"small": (10_000, 100_000), "full": (100_000, 1_000_000), "xl": (1_000_000, 10_000_000)}
BATCHES = {"small": 2, "full": 10, "xl": 50}
PAIRS = 7
MIN_PAIRS = 3
SLOW_SQL_S = 30
KEEP = os.environ.get("CR_BENCH_KEEP") == "1"
GENERATED_MARK = "customer_registry.bench_retention_generated"
MARK_SQL = f"SELECT value FROM ir_config_parameter WHERE key = '{GENERATED_MARK}'"
TIMEZONE = "Europe/Oslo"
# Sales by month, January first: a summer dip, a December peak.
SEASON = [0.8, 0.75, 0.9, 0.95, 1.0, 1.0, 0.9, 0.85, 1.0, 1.05, 1.15, 1.4]
ANONYMOUS_SHARE = 0.05

MEMBERS_SQL = """
INSERT INTO res_partner (name, complete_name, active, type, autopost_bills, is_registry_member, pseudonym,
                         registry_postal_area, company_id, create_date, write_date)
SELECT code, code, TRUE, 'contact', 'ask', TRUE, code,
       -- a few postal areas bring most members
       LPAD((FLOOR(100 * POWER(RANDOM(), 2)))::int::text, 2, '0'),
       %(company)s, NOW(), NOW()
  FROM UNNEST(%(codes)s::text[]) AS codes(code)
"""

# Normal deviates by Box-Muller: PostgreSQL 15 has no random_normal().
NORMAL = "SQRT(-2 * LN(1 - RANDOM())) * COS(2 * PI() * RANDOM())"

PROFILES_SQL = f"""
CREATE TEMP TABLE bench_member AS
SELECT id, pseudonym, signup, active_for, rate, basket, 1 + MOD(id, 2) AS shop
  FROM (
    SELECT id, pseudonym,
           -- more sign-ups lately: the register grows
           NOW() - INTERVAL '3 years' + INTERVAL '3 years' * SQRT(RANDOM()) AS signup,
           -- members stop buying after an exponential lifetime, 500 days on average
           -LN(1 - RANDOM()) * 500 AS lifetime_days,
           EXP(0.9 * {NORMAL}) AS rate,
           EXP(0.5 * {NORMAL}) AS basket
      FROM res_partner WHERE is_registry_member
  ) AS drawn,
  LATERAL (SELECT LEAST(lifetime_days * INTERVAL '1 day', NOW() - signup) AS active_for) AS span
"""

ORDERS_SQL = f"""
INSERT INTO pos_order (name, company_id, session_id, config_id, partner_id, pseudonym, date_order,
                       amount_total, amount_tax, amount_paid, amount_return, state, create_date, write_date)
SELECT 'Bench ' || %(batch)s || '-' || ROW_NUMBER() OVER (), %(company)s,
       (%(sessions)s)[shop], (%(configs)s)[shop], partner_id, pseudonym, at,
       amount, 0, amount, 0,
       CASE WHEN draw < 0.01 THEN 'cancel' WHEN draw < 0.10 THEN 'paid' ELSE 'done' END,
       at, at
  FROM (
    SELECT m.id AS partner_id, m.pseudonym, m.shop, c.at, RANDOM() AS draw,
           ROUND((EXP(3 + 0.6 * {NORMAL}) * m.basket
                  * CASE WHEN RANDOM() < 0.03 THEN -0.5 ELSE 1 END)::numeric, 2) AS amount
      FROM bench_member m
     CROSS JOIN LATERAL (
           SELECT m.signup + RANDOM() * m.active_for AS at
             FROM GENERATE_SERIES(1, GREATEST(1, ROUND(m.rate * EXTRACT(EPOCH FROM m.active_for) * %(scale)s)::int))
     ) AS c
     WHERE m.id BETWEEN %(first)s AND %(last)s
       AND RANDOM() < (%(season)s)[EXTRACT(MONTH FROM c.at)] / 1.4
  ) AS orders
"""

ANONYMOUS_SQL = """
INSERT INTO pos_order (name, company_id, session_id, config_id, date_order,
                       amount_total, amount_tax, amount_paid, amount_return, state, create_date, write_date)
SELECT 'Anonymous ' || n, %(company)s, (%(sessions)s)[1 + MOD(n, 2)], (%(configs)s)[1 + MOD(n, 2)], at,
       amount, 0, amount, 0, 'done', at, at
  FROM (SELECT n, NOW() - INTERVAL '3 years' * RANDOM() AS at, ROUND((5 + 40 * RANDOM())::numeric, 2) AS amount
          FROM GENERATE_SERIES(1, %(orders)s) AS n) AS drawn
"""

COUNTED = "state IN ('paid', 'done') AND partner_id IS NOT NULL AND pseudonym IS NOT NULL"

# The report's yardsticks (README): R by days against the churn window, F by purchase rungs,
# M by spend in the company's average purchases on F's rungs.
RFM_SQL = f"""
SELECT segment, COUNT(*), SUM(spend)
  FROM (
    SELECT spend,
           CASE WHEN r >= 4 AND f >= 4 THEN 'champions' WHEN r >= 4 AND f = 1 THEN 'new'
                WHEN r >= 3 AND f >= 3 THEN 'loyal' WHEN r >= 3 THEN 'potential'
                WHEN f >= 4 AND m >= 4 THEN 'cant_lose' WHEN f >= 3 THEN 'at_risk'
                WHEN r = 2 THEN 'hibernating' ELSE 'lost' END AS segment
      FROM (
        SELECT spend,
               CASE WHEN days <= 7 OR 4 * days <= %(churn)s THEN 5 WHEN 2 * days <= %(churn)s THEN 4
                    WHEN days <= %(churn)s THEN 3 WHEN days <= 2 * %(churn)s THEN 2 ELSE 1 END AS r,
               CASE WHEN purchases < 1.5 THEN 1 WHEN purchases < 2.5 THEN 2 WHEN purchases < 4.5 THEN 3
                    WHEN purchases < 9.5 THEN 4 ELSE 5 END AS f,
               CASE WHEN COALESCE(basket, 0) <= 0 THEN 1 WHEN spend / basket < 1.5 THEN 1
                    WHEN spend / basket < 2.5 THEN 2 WHEN spend / basket < 4.5 THEN 3
                    WHEN spend / basket < 9.5 THEN 4 ELSE 5 END AS m
          FROM (
            SELECT (NOW() AT TIME ZONE %(tz)s)::date
                       - MAX((date_order AT TIME ZONE 'UTC' AT TIME ZONE %(tz)s)::date)
                           FILTER (WHERE amount_total > 0) AS days,
                   COUNT(*) FILTER (WHERE amount_total > 0) AS purchases,
                   SUM(amount_total) AS spend
              FROM pos_order
             WHERE company_id = %(company)s AND {COUNTED}
          GROUP BY partner_id
            HAVING COUNT(*) FILTER (WHERE amount_total > 0) > 0
          ) AS per_member,
          (SELECT SUM(amount_total) / NULLIF(COUNT(*) FILTER (WHERE amount_total > 0), 0) AS basket
             FROM pos_order WHERE company_id = %(company)s AND {COUNTED}) AS company_basket
      ) AS scored
  ) AS segmented
GROUP BY segment
"""

# Members of area 00-09 with 3 purchases or more, not churned.
SEGMENT_AREAS = [f"{area:02d}" for area in range(10)]
SEGMENT_SQL = f"""
SELECT COUNT(*)
  FROM res_partner member
  JOIN (SELECT partner_id
          FROM pos_order
         WHERE company_id = %(company)s AND {COUNTED}
      GROUP BY partner_id
        HAVING COUNT(*) FILTER (WHERE amount_total > 0) >= 3
           AND (NOW() AT TIME ZONE %(tz)s)::date
               - MAX((date_order AT TIME ZONE 'UTC' AT TIME ZONE %(tz)s)::date) FILTER (WHERE amount_total > 0)
               <= %(churn)s
       ) AS buyers ON buyers.partner_id = member.id
 WHERE member.is_registry_member AND member.company_id = %(company)s AND member.registry_postal_area = ANY(%(areas)s)
"""

# The monthly KPIs as the report computed them from the raw orders before the summaries (churn
# by day, as now): the hand-written anchor.
KPI_SQL = f"""
WITH purchases AS (
    SELECT config_id, partner_id, date_order, amount_total,
           (date_order AT TIME ZONE 'UTC' AT TIME ZONE %(tz)s)::date AS day,
           DATE_TRUNC('month', date_order AT TIME ZONE 'UTC' AT TIME ZONE %(tz)s)::date AS month
      FROM pos_order
     WHERE company_id = %(company)s AND {COUNTED} AND amount_total > 0
),
member_months AS (
    SELECT partner_id, month, MIN(config_id) AS config_id, COUNT(*) AS order_count,
           MIN(day) AS first_day, MAX(day) AS last_day
      FROM purchases GROUP BY partner_id, month
),
spells AS (
    SELECT config_id, month, MIN(month) OVER member AS cohort_month,
           SUM(order_count) OVER (member ORDER BY month) AS orders_to_date,
           LEAD(first_day) OVER (member ORDER BY month) AS next_day,
           last_day + %(churn)s + 1 AS lost_day
      FROM member_months
    WINDOW member AS (PARTITION BY partner_id)
),
watched AS (
    SELECT config_id, (month + INTERVAL '1 month')::date AS watched_from,
           DATE_TRUNC('month', LEAST(next_day, lost_day))::date AS watched_until, lost_day,
           (next_day IS NULL OR next_day >= lost_day) AND lost_day <= (NOW() AT TIME ZONE %(tz)s)::date AS is_lost
      FROM spells
),
changes AS (
    SELECT config_id, month, SUM(change) AS change
      FROM (SELECT config_id, watched_from AS month, 1 AS change FROM watched WHERE watched_from <= watched_until
             UNION ALL
            SELECT config_id, (watched_until + INTERVAL '1 month')::date, -1
              FROM watched WHERE watched_from <= watched_until) AS moves
  GROUP BY config_id, month
),
losses AS (
    SELECT config_id, DATE_TRUNC('month', lost_day)::date AS month, COUNT(*) AS lost
      FROM watched WHERE is_lost AND lost_day >= watched_from GROUP BY 1, 2
),
counts AS (
    SELECT config_id, month, COUNT(*) AS active, COUNT(*) FILTER (WHERE month = cohort_month) AS new,
           COUNT(*) FILTER (WHERE orders_to_date > 1) AS repeat
      FROM spells GROUP BY config_id, month
),
orders AS (
    SELECT config_id, DATE_TRUNC('month', date_order AT TIME ZONE 'UTC' AT TIME ZONE %(tz)s)::date AS month,
           COUNT(*) FILTER (WHERE amount_total > 0) AS purchases, SUM(amount_total) AS amount
      FROM pos_order WHERE company_id = %(company)s AND {COUNTED} GROUP BY 1, 2
),
grid AS (
    SELECT config_id, later.month::date AS month
      FROM (SELECT config_id, MIN(month) AS first_month FROM orders GROUP BY config_id) AS shops
     CROSS JOIN LATERAL GENERATE_SERIES(first_month, DATE_TRUNC('month', NOW() AT TIME ZONE %(tz)s),
                                         INTERVAL '1 month') AS later(month)
),
monthly AS (
    SELECT grid.month, counts.active, counts.new, counts.repeat, losses.lost, orders.purchases, orders.amount,
           SUM(COALESCE(changes.change, 0)) OVER (PARTITION BY grid.config_id ORDER BY grid.month) AS at_start
      FROM grid
 LEFT JOIN counts ON counts.config_id = grid.config_id AND counts.month = grid.month
 LEFT JOIN changes ON changes.config_id = grid.config_id AND changes.month = grid.month
 LEFT JOIN losses ON losses.config_id = grid.config_id AND losses.month = grid.month
 LEFT JOIN orders ON orders.config_id = grid.config_id AND orders.month = grid.month
)
SELECT month, SUM(active), 100.0 * SUM(lost) / NULLIF(SUM(at_start), 0), SUM(amount) / NULLIF(SUM(purchases), 0)
  FROM monthly GROUP BY month
"""

COHORT_SQL = f"""
SELECT cohort, month, COUNT(*) * 100.0 / SUM(COUNT(*)) FILTER (WHERE month = cohort) OVER (PARTITION BY cohort)
  FROM (
    SELECT month, MIN(month) OVER (PARTITION BY partner_id) AS cohort
      FROM (
        SELECT partner_id, DATE_TRUNC('month', date_order AT TIME ZONE 'UTC' AT TIME ZONE %(tz)s) AS month
          FROM pos_order
         WHERE company_id = %(company)s AND {COUNTED} AND amount_total > 0
      GROUP BY 1, 2
      ) AS member_months
  ) AS dated
GROUP BY cohort, month
"""


def member_codes(count):
    """Valid member codes (the database refuses any other): numbered, with both check digits."""
    from stdnum import damm, ean

    from odoo.addons.customer_registry import pseudonym

    codes = []
    for number in range(1, count + 1):
        body = f"{pseudonym.PREFIX}{number:0{pseudonym.RANDOM_DIGITS}d}"
        body += damm.calc_check_digit(body)
        codes.append(body + ean.calc_check_digit(body))
    return codes


def generate(pg, addons, dbname, size):
    import odoo  # late: the harness configures Odoo first

    members, orders = SIZES[size]
    with harness.odoo_registry(pg, addons, dbname) as registry, registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        company = env.company
        company.partner_id.tz = TIMEZONE
        sessions = env["pos.session"]
        for name in ("Bench Shop 1", "Bench Shop 2"):
            sessions |= sessions.create({"config_id": env["pos.config"].create({"name": name}).id})
        env.flush_all()
        started = time.monotonic()
        # Bulk history: the summaries are rebuilt once at the end, as an existing database would be.
        cr.execute("ALTER TABLE pos_order DISABLE TRIGGER customer_registry_retention_order_insert")
        # Seeded draws in one process; dates stay relative to now.
        cr.execute("SET LOCAL max_parallel_workers_per_gather = 0")
        cr.execute("SELECT SETSEED(0.42)")
        # The member guards check each row (valid code, identity, empty personal columns): the synthetic
        # members satisfy them by construction, and checking a million rows one by one takes an hour.
        cr.execute("SET LOCAL session_replication_role = replica")
        cr.execute(MEMBERS_SQL, {"codes": member_codes(members), "company": company.id})
        # Every member has an identity (the database checks it at commit); empty here.
        cr.execute(
            "INSERT INTO customer_identity (partner_id, company_id, create_date, write_date) "
            "SELECT id, company_id, NOW(), NOW() FROM res_partner WHERE is_registry_member AND company_id = %s",
            [company.id],
        )
        cr.execute("SET LOCAL session_replication_role = origin")
        harness.log(f"generated {members} members in {time.monotonic() - started:.1f} s")
        cr.execute(PROFILES_SQL)
        member_orders = round(orders * (1 - ANONYMOUS_SHARE))
        # Candidate orders such that the seasonal thinning leaves about member_orders.
        cr.execute("SELECT SUM(rate * EXTRACT(EPOCH FROM active_for)), MIN(id), MAX(id) FROM bench_member")
        weight, first_id, last_id = cr.fetchone()
        candidates = member_orders * 1.4 / (sum(SEASON) / len(SEASON))
        params = {
            "company": company.id,
            "sessions": sessions.ids,
            "configs": sessions.config_id.ids,
            "season": SEASON,
            "scale": candidates / weight,
        }
        batches = BATCHES[size]
        step = (last_id - first_id) // batches + 1
        generated = 0
        for batch in range(batches):
            first = first_id + batch * step
            cr.execute(ORDERS_SQL, {**params, "batch": batch, "first": first, "last": first + step - 1})
            generated += cr.rowcount
            harness.log(
                f"orders: batch {batch + 1}/{batches}, {generated} member orders, {time.monotonic() - started:.1f} s"
            )
        cr.execute(ANONYMOUS_SQL, {**params, "orders": orders - member_orders})
        cr.execute("SELECT SETVAL('pos_order_id_seq', (SELECT MAX(id) FROM pos_order))")
        cr.execute("ALTER TABLE pos_order ENABLE TRIGGER customer_registry_retention_order_insert")
        cr.commit()
        cr.execute("ANALYZE pos_order; ANALYZE res_partner")
        cr.execute("SELECT COUNT(*), COUNT(*) FILTER (WHERE amount_total < 0) FROM pos_order")
        total, refunds = cr.fetchone()
        harness.log(
            f"generated {members} members, {total} orders ({refunds} refunds) in {time.monotonic() - started:.1f} s"
        )
        rebuilt_at = time.monotonic()
        counts = env["customer.retention.summary"].rebuild(
            progress=lambda label, rows: harness.log(
                f"summaries: {label}, {rows} rows, {time.monotonic() - rebuilt_at:.1f} s"
            )
        )
        env["ir.config_parameter"].set_param(GENERATED_MARK, f"{size}: {members} members, {total} orders")
        cr.commit()
        harness.log(f"summaries rebuilt in {time.monotonic() - rebuilt_at:.1f} s: {counts}")
        return company.id


def kept_history(pg, addons, dbname):
    """The company of a kept, fully generated history in `dbname`, else None."""
    import odoo

    if not harness.database_exists(pg, dbname):
        return None
    mark = subprocess.run(
        [
            "psql",
            "-X",
            "-At",
            "-d",
            dbname,
            "-c",
            MARK_SQL,
        ],
        env=pg.env(),
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    if not mark:
        harness.log(f"{dbname} exists but its generation did not finish: generating anew")
        return None
    harness.log(f"reusing the kept history in {dbname} ({mark})")
    harness.update(pg, addons, dbname)
    with harness.odoo_registry(pg, addons, dbname) as registry, registry.cursor() as cr:
        return odoo.api.Environment(cr, odoo.SUPERUSER_ID, {}).company.id


def compare(name, orm_operation, sql_operation, cr):
    """Median of the ORM/SQL time ratios over interleaved pairs."""
    orm_operation()  # warm caches: rules, plans, pages
    warm_sql_time, rows = timed(sql_operation)
    pairs = PAIRS if warm_sql_time <= SLOW_SQL_S else MIN_PAIRS
    if pairs != PAIRS:
        print(f"{name}: the hand-written query took {warm_sql_time:.1f} s to warm up: {pairs} pairs", flush=True)
    ratios, orm_times, sql_times, _groups, rows = interleaved(orm_operation, sql_operation, pairs)
    queries_before = cr.sql_log_count
    groups = orm_operation()
    queries = cr.sql_log_count - queries_before
    print(
        f"{name}: orm median {statistics.median(orm_times):.3f} s ({queries} queries, {len(groups)} groups), "
        f"sql median {statistics.median(sql_times):.3f} s (1 query, {len(rows)} rows), "
        f"ratios {', '.join(f'{ratio:.4f}' for ratio in ratios)}",
        flush=True,
    )
    return statistics.median(ratios), statistics.median(orm_times), groups, rows


def main(pg, addons, size):
    import odoo  # late: the harness configures Odoo first

    dbname = f"bench_retention_{size}"
    company_id = kept_history(pg, addons, dbname) if KEEP else None
    if company_id is None:
        harness.install(pg, addons, dbname)
        company_id = generate(pg, addons, dbname, size)
    with harness.odoo_registry(pg, addons, dbname) as registry, registry.cursor() as cr:
        admin = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {}).ref("base.user_admin")
        env = odoo.api.Environment(cr, admin.id, {"allowed_company_ids": [company_id]})
        company = env["res.company"].browse(company_id)
        cr.execute(f"SELECT COUNT(*) FROM pos_order WHERE company_id = %s AND {COUNTED}", [company_id])
        print(f"orders counted (rows the hand-written queries scan): {cr.fetchone()[0]}", flush=True)
        for table in (
            "customer_registry_member_total",
            "customer_registry_kpi_delta",
            "customer_registry_cohort_delta",
        ):
            cr.execute(f"SELECT COUNT(*) FROM {table}")  # pylint: disable=sql-injection
            print(f"{table}: {cr.fetchone()[0]} rows", flush=True)
        hand = {"company": company_id, "tz": TIMEZONE, "churn": company.registry_churn_days, "areas": SEGMENT_AREAS}
        metrics = env["customer.metrics.report"]
        cohorts = env["customer.cohort.report"]
        kpis = env["customer.kpi.report"]
        segment = env["customer.segment"].create(
            {
                "name": "Bench segment",
                "company_id": company_id,
                "postal_areas": ", ".join(SEGMENT_AREAS),
                "min_orders": 3,
                "churn_state": "active",
            }
        )

        def hand_sql(query):
            def run():
                cr.execute(query, hand)
                return cr.fetchall()

            return run

        def rfm_orm():
            return metrics._read_group([], ["rfm_segment"], ["__count", "total_spend:sum"])

        def cohort_orm():
            return cohorts._read_group([], ["cohort_month:month", "months_since_first"], ["retention_rate:avg"])

        def kpi_orm():
            return kpis._read_group(
                [], ["month:month"], ["active_members:sum", "churn_rate:avg", "average_order_value:avg"]
            )

        def segment_orm():
            return [(env["res.partner"].search_count(segment._members_domain()),)]

        rfm_ratio, rfm_s, segments, hand_segments = compare("rfm", rfm_orm, hand_sql(RFM_SQL), cr)
        orm_counts = {name: count for name, count, _spend in segments}
        if orm_counts != {name: count for name, count, _spend in hand_segments}:
            harness.die(f"the report and the hand-written SQL disagree: {orm_counts} vs {hand_segments}")
        print("members per segment: " + ", ".join(f"{k}={v}" for k, v in sorted(orm_counts.items())))
        cohort_ratio, cohort_s, cells, hand_cells = compare("cohort", cohort_orm, hand_sql(COHORT_SQL), cr)
        cohort_months = len({cohort for cohort, _months, _rate in cells})
        print(f"cohort pivot: {cohort_months} cohorts, {len(cells)} cells ({len(hand_cells)} non-empty by hand)")
        kpi_ratio, kpi_s, months, hand_months = compare("kpi", kpi_orm, hand_sql(KPI_SQL), cr)
        orm_active = {month: active for month, active, _churn, _aov in months}
        hand_active = {month: active for month, active, _churn, _aov in hand_months}
        if orm_active != hand_active:
            harness.die(f"monthly active members disagree: {orm_active} vs {hand_active}")
        segment_ratio, segment_s, count, hand_count = compare("segment", segment_orm, hand_sql(SEGMENT_SQL), cr)
        if count != hand_count:
            harness.die(f"the segment count and the hand-written count disagree: {count} vs {hand_count}")
        print(f"segment members: {count[0][0]}")
        cr.rollback()  # the bench segment: a kept history stays as generated
    if KEEP:
        harness.log(f"kept {dbname} (CR_BENCH_KEEP=1)")
    else:
        pg.drop(dbname)
    print(
        # Four decimals: at xl the cohort and KPI ratios are below 0.001.
        f"rfm_ratio_vs_sql={rfm_ratio:.4f} cohort_ratio_vs_sql={cohort_ratio:.4f} "
        f"kpi_ratio_vs_sql={kpi_ratio:.4f} segment_ratio_vs_sql={segment_ratio:.4f} "
        f"rfm_s={rfm_s:.3f} cohort_s={cohort_s:.3f} kpi_s={kpi_s:.3f} segment_s={segment_s:.3f}",
        flush=True,
    )
    return 0
