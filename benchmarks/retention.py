"""Retention reports on a synthetic history: ORM read_group against hand-written SQL.

benchmarks/run retention [--size small|full]

Fills a database with members and POS orders in bulk SQL (3 years, seasonal,
growing sign-ups, churn, skewed spend, some refunds, anonymous and
cancelled orders), then times, interleaved (A,B then B,A) in one process:
- rfm: the customer metrics report grouped by RFM segment through the ORM
  (`_read_group`, as a user with record rules) vs one hand-written SQL query;
- cohort: the 36-month cohort pivot through the ORM vs a hand-written query;
and times the monthly KPIs once, for information.
The reports are plain queries over pos_order (no stored summary), so there
is nothing to refresh.  Prints the median of the pair ratios.
"""

import statistics
import time

import harness

SIZES = {"small": (10_000, 100_000), "full": (100_000, 1_000_000)}
PAIRS = 7
TIMEZONE = "Europe/Oslo"
# Sales by month, January first: a summer dip, a December peak.
SEASON = [0.8, 0.75, 0.9, 0.95, 1.0, 1.0, 0.9, 0.85, 1.0, 1.05, 1.15, 1.4]
ANONYMOUS_SHARE = 0.05

MEMBERS_SQL = """
INSERT INTO res_partner (name, complete_name, active, type, autopost_bills, is_registry_member, pseudonym,
                         registry_postal_area, create_date, write_date)
SELECT code, code, TRUE, 'contact', 'ask', TRUE, code,
       -- a few postal areas bring most members
       LPAD((FLOOR(100 * POWER(RANDOM(), 2)))::int::text, 2, '0'),
       NOW(), NOW()
  FROM (SELECT '042' || LPAD(n::text, 10, '0') AS code FROM GENERATE_SERIES(1, %(members)s) AS n) AS codes
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
SELECT 'Bench ' || ROW_NUMBER() OVER (), %(company)s,
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
     WHERE RANDOM() < (%(season)s)[EXTRACT(MONTH FROM c.at)] / 1.4
     ORDER BY RANDOM()
     LIMIT %(member_orders)s
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
               LEAST(5, 1 + FLOOR(5 * PERCENT_RANK() OVER (ORDER BY last_at))) AS r,
               LEAST(5, 1 + FLOOR(5 * PERCENT_RANK() OVER (ORDER BY purchases))) AS f,
               LEAST(5, 1 + FLOOR(5 * PERCENT_RANK() OVER (ORDER BY spend))) AS m
          FROM (
            SELECT MAX(date_order) FILTER (WHERE amount_total > 0) AS last_at,
                   COUNT(*) FILTER (WHERE amount_total > 0) AS purchases,
                   SUM(amount_total) AS spend
              FROM pos_order
             WHERE company_id = %(company)s AND {COUNTED}
          GROUP BY partner_id
            HAVING COUNT(*) FILTER (WHERE amount_total > 0) > 0
          ) AS per_member
      ) AS scored
  ) AS segmented
GROUP BY segment
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
        # Seeded draws in one process; dates stay relative to now.
        cr.execute("SET LOCAL max_parallel_workers_per_gather = 0")
        cr.execute("SELECT SETSEED(0.42)")
        cr.execute(MEMBERS_SQL, {"members": members})
        cr.execute(PROFILES_SQL)
        member_orders = round(orders * (1 - ANONYMOUS_SHARE))
        # Enough candidate orders that the seasonal thinning still leaves member_orders.
        cr.execute("SELECT SUM(rate * EXTRACT(EPOCH FROM active_for)) FROM bench_member")
        candidates = member_orders * 1.4 / (sum(SEASON) / len(SEASON)) * 1.05
        params = {
            "company": company.id,
            "sessions": sessions.ids,
            "configs": sessions.config_id.ids,
            "season": SEASON,
            "scale": candidates / cr.fetchone()[0],
            "member_orders": member_orders,
        }
        cr.execute(ORDERS_SQL, params)
        cr.execute(ANONYMOUS_SQL, {**params, "orders": orders - member_orders})
        cr.execute("SELECT SETVAL('pos_order_id_seq', (SELECT MAX(id) FROM pos_order))")
        cr.commit()
        cr.execute("ANALYZE pos_order; ANALYZE res_partner")
        cr.execute("SELECT COUNT(*), COUNT(*) FILTER (WHERE amount_total < 0) FROM pos_order")
        total, refunds = cr.fetchone()
        harness.log(
            f"generated {members} members, {total} orders ({refunds} refunds) in {time.monotonic() - started:.1f} s"
        )
        return company.id


def timed(operation):
    started = time.perf_counter()
    result = operation()
    return time.perf_counter() - started, result


def compare(name, orm_operation, sql_operation, cr):
    """Median of the ORM/SQL time ratios over interleaved pairs."""
    orm_operation(), sql_operation()  # warm caches: rules, plans, pages
    ratios, orm_times, sql_times = [], [], []
    for pair in range(PAIRS):
        if pair % 2:
            sql_time, _rows = timed(sql_operation)
            orm_time, _groups = timed(orm_operation)
        else:
            orm_time, _groups = timed(orm_operation)
            sql_time, _rows = timed(sql_operation)
        ratios.append(orm_time / sql_time)
        orm_times.append(orm_time)
        sql_times.append(sql_time)
    queries_before = cr.sql_log_count
    groups = orm_operation()
    queries = cr.sql_log_count - queries_before
    rows = sql_operation()
    print(
        f"{name}: orm median {statistics.median(orm_times):.3f} s ({queries} queries, {len(groups)} groups), "
        f"sql median {statistics.median(sql_times):.3f} s (1 query, {len(rows)} rows), "
        f"ratios {', '.join(f'{ratio:.2f}' for ratio in ratios)}",
        flush=True,
    )
    return statistics.median(ratios), statistics.median(orm_times), groups, rows


def main(pg, addons, size):
    import odoo  # late: the harness configures Odoo first

    dbname = f"bench_retention_{size}"
    harness.install(pg, addons, dbname)
    company_id = generate(pg, addons, dbname, size)
    with harness.odoo_registry(pg, addons, dbname) as registry, registry.cursor() as cr:
        admin = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {}).ref("base.user_admin")
        env = odoo.api.Environment(cr, admin.id, {"allowed_company_ids": [company_id]})
        cr.execute(f"SELECT COUNT(*) FROM pos_order WHERE company_id = %s AND {COUNTED}", [company_id])
        print(
            f"orders counted by the reports (rows scanned per query: all orders of the company): {cr.fetchone()[0]}",
            flush=True,
        )
        metrics = env["customer.metrics.report"]
        cohorts = env["customer.cohort.report"]

        def rfm_orm():
            return metrics._read_group([], ["rfm_segment"], ["__count", "total_spend:sum"])

        def rfm_sql():
            cr.execute(RFM_SQL, {"company": company_id})
            return cr.fetchall()

        def cohort_orm():
            return cohorts._read_group([], ["cohort_month:month", "months_since_first"], ["retention_rate:avg"])

        def cohort_sql():
            cr.execute(COHORT_SQL, {"company": company_id, "tz": TIMEZONE})
            return cr.fetchall()

        rfm_ratio, rfm_s, segments, hand_segments = compare("rfm", rfm_orm, rfm_sql, cr)
        orm_counts = {segment: count for segment, count, _spend in segments}
        if orm_counts != {segment: count for segment, count, _spend in hand_segments}:
            harness.die(f"the report and the hand-written SQL disagree: {orm_counts} vs {hand_segments}")
        print("members per segment: " + ", ".join(f"{k}={v}" for k, v in sorted(orm_counts.items())))
        cohort_ratio, cohort_s, cells, hand_cells = compare("cohort", cohort_orm, cohort_sql, cr)
        cohort_months = len({cohort for cohort, _months, _rate in cells})
        kpi_seconds, kpi_months = timed(
            lambda: env["customer.kpi.report"]._read_group(
                [], ["month:month"], ["active_members:sum", "churn_rate:avg", "average_order_value:avg"]
            )
        )
        print(f"monthly KPIs (not compared): {kpi_seconds:.3f} s for {len(kpi_months)} months")
        print(
            f"cohort pivot: {cohort_months} cohorts, {len(cells)} cells "
            f"({len(hand_cells)} non-empty in the hand-written query)"
        )
    pg.drop(dbname)
    print(
        f"rfm_ratio_vs_sql={rfm_ratio:.2f} cohort_ratio_vs_sql={cohort_ratio:.2f} "
        f"rfm_s={rfm_s:.3f} cohort_s={cohort_s:.3f}",
        flush=True,
    )
    return 0
