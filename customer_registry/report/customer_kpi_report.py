from odoo import fields, models
from odoo.tools import SQL

from .retention_sql import COMPANY_SETTINGS, MEMBER_ORDERS_WHERE, local


class CustomerKpiReport(models.Model):
    """Monthly member KPIs per company and point of sale, every month up to the current one.

    Counts add up across points of sale: a member counts at the point of sale
    of the month's purchases (the lowest id if several), and for the months
    after a purchase at the point of sale of that purchase.  Rates are ratios
    of those sums in any grouping, not averages of monthly rates.
    """

    _name = "customer.kpi.report"
    _description = "Member KPIs per Month"
    _auto = False
    _order = "month desc, config_id"
    _depends = {
        "pos.order": ["state", "partner_id", "pseudonym", "company_id", "config_id", "date_order", "amount_total"],
        "res.company": ["currency_id", "partner_id", "registry_churn_days", "registry_lifespan_years"],
        "res.partner": ["tz"],
    }

    company_id = fields.Many2one("res.company", readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    config_id = fields.Many2one("pos.config", string="Point of Sale", readonly=True)
    month = fields.Date(readonly=True)
    active_members = fields.Integer(
        readonly=True,
        aggregator="avg",
        help="Members who bought in the month; over several months, the average per month.",
    )
    new_members = fields.Integer(readonly=True, help="Members whose first purchase was in the month.")
    returning_members = fields.Integer(
        readonly=True,
        aggregator="avg",
        help="Members who bought in the month and before; over several months, the average per month.",
    )
    repeat_members = fields.Integer(
        string="Repeat Buyers",
        readonly=True,
        aggregator="avg",
        help="Active members who had bought more than once by the end of the month; "
        "over several months, the average per month.",
    )
    repeat_purchase_rate = fields.Float(
        string="Repeat Purchase (%)",
        readonly=True,
        aggregator="avg",
        digits=(16, 1),
        help="Repeat buyers / active members.",
    )
    members_at_start = fields.Integer(
        readonly=True,
        aggregator="avg",
        help="Members who had bought within the churn window before the month began; "
        "over several months, the average per month.",
    )
    members_lost = fields.Integer(readonly=True, help="Members at the start whose churn window ran out in the month.")
    churn_rate = fields.Float(
        string="Churn (%)",
        readonly=True,
        aggregator="avg",
        digits=(16, 1),
        help="Members lost in the month / members at its start; new members are not counted.",
    )
    order_count = fields.Integer(string="Purchases", readonly=True)
    amount_total = fields.Monetary(string="Purchased", readonly=True)
    average_order_value = fields.Monetary(readonly=True, aggregator="avg", help="Purchased / purchases.")

    # rate: (numerator, denominator, scale); grouped, a rate is the ratio of the group's sums.
    _ratios = {
        "repeat_purchase_rate": ("repeat_members", "active_members", 100),
        "churn_rate": ("members_lost", "members_at_start", 100),
        "average_order_value": ("amount_total", "order_count", 1),
    }

    def _read_group_select(self, aggregate_spec, query):
        ratio = self._ratios.get(aggregate_spec.split(":")[0])
        if ratio:
            numerator, denominator, scale = ratio
            return SQL(
                "%s * %s::numeric / NULLIF(%s, 0)",
                scale,
                self._read_group_select(f"{numerator}:sum", query),
                self._read_group_select(f"{denominator}:sum", query),
            )
        return super()._read_group_select(aggregate_spec, query)

    @property
    def _table_query(self):
        now_local = "NOW() AT TIME ZONE spells.tz"
        return f"""
            WITH settings AS ({COMPANY_SETTINGS}),
            purchases AS (
                SELECT o.company_id, o.config_id, o.partner_id, o.date_order, o.amount_total,
                       DATE_TRUNC('month', {local("o.date_order", "settings.tz")})::date AS month
                  FROM pos_order o
                  JOIN settings ON settings.company_id = o.company_id
                 WHERE {MEMBER_ORDERS_WHERE} AND o.amount_total > 0
            ),
            member_months AS (
                SELECT company_id, partner_id, month, MIN(config_id) AS config_id, COUNT(*) AS order_count,
                       MIN(date_order) AS first_order_at, MAX(date_order) AS last_order_at
                  FROM purchases
              GROUP BY company_id, partner_id, month
            ),
            spells AS (
                -- From a month's last purchase to the next purchase or the end of the churn window.
                SELECT member_months.company_id, member_months.config_id, member_months.month, settings.tz,
                       MIN(month) OVER member AS cohort_month,
                       SUM(order_count) OVER (member ORDER BY month) AS orders_to_date,
                       LEAD(first_order_at) OVER (member ORDER BY month) AS next_order_at,
                       last_order_at + settings.churn_days * INTERVAL '1 day' AS churn_at
                  FROM member_months
                  JOIN settings ON settings.company_id = member_months.company_id
                WINDOW member AS (PARTITION BY member_months.company_id, partner_id)
            ),
            watched AS (
                -- The months a member starts as a member to keep, and whether they are lost.
                SELECT company_id, config_id,
                       (month + INTERVAL '1 month')::date AS watched_from,
                       DATE_TRUNC('month', LEAST(
                           {local("next_order_at", "spells.tz")}, {local("churn_at", "spells.tz")}, {now_local}
                       ))::date AS watched_until,
                       DATE_TRUNC('month', {local("churn_at", "spells.tz")})::date AS churn_month,
                       (next_order_at IS NULL OR next_order_at > churn_at)
                           AND churn_at <= NOW() AT TIME ZONE 'UTC' AS is_lost
                  FROM spells
            ),
            watch_changes AS (
                SELECT company_id, config_id, month, SUM(change) AS change
                  FROM (
                    SELECT company_id, config_id, watched_from AS month, 1 AS change
                      FROM watched WHERE watched_from <= watched_until
                     UNION ALL
                    SELECT company_id, config_id, (watched_until + INTERVAL '1 month')::date, -1
                      FROM watched WHERE watched_from <= watched_until
                  ) AS changes
              GROUP BY company_id, config_id, month
            ),
            losses AS (
                SELECT company_id, config_id, churn_month AS month, COUNT(*) AS members_lost
                  FROM watched
                 WHERE is_lost AND churn_month >= watched_from
              GROUP BY company_id, config_id, churn_month
            ),
            member_counts AS (
                SELECT company_id, config_id, month,
                       COUNT(*) AS active_members,
                       COUNT(*) FILTER (WHERE month = cohort_month) AS new_members,
                       COUNT(*) FILTER (WHERE month > cohort_month) AS returning_members,
                       COUNT(*) FILTER (WHERE orders_to_date > 1) AS repeat_members
                  FROM spells
              GROUP BY company_id, config_id, month
            ),
            order_counts AS (
                SELECT company_id, config_id, month, COUNT(*) AS order_count, SUM(amount_total) AS amount_total
                  FROM purchases
              GROUP BY company_id, config_id, month
            ),
            grid AS (
                -- Every month of every point of sale, from its first member purchase to the current month.
                SELECT shops.company_id, shops.config_id, later.month::date AS month, settings.currency_id
                  FROM (SELECT company_id, config_id, MIN(month) AS first_month
                          FROM order_counts GROUP BY company_id, config_id) AS shops
                  JOIN settings ON settings.company_id = shops.company_id
                 CROSS JOIN LATERAL GENERATE_SERIES(
                       shops.first_month, DATE_TRUNC('month', NOW() AT TIME ZONE settings.tz), INTERVAL '1 month'
                 ) AS later(month)
            ),
            kpis AS (
                SELECT grid.company_id, grid.currency_id, grid.config_id, grid.month,
                       COALESCE(member_counts.active_members, 0) AS active_members,
                       COALESCE(member_counts.new_members, 0) AS new_members,
                       COALESCE(member_counts.returning_members, 0) AS returning_members,
                       COALESCE(member_counts.repeat_members, 0) AS repeat_members,
                       SUM(COALESCE(watch_changes.change, 0)) OVER (
                           PARTITION BY grid.company_id, grid.config_id ORDER BY grid.month
                       ) AS members_at_start,
                       COALESCE(losses.members_lost, 0) AS members_lost,
                       COALESCE(order_counts.order_count, 0) AS order_count,
                       COALESCE(order_counts.amount_total, 0) AS amount_total
                  FROM grid
             LEFT JOIN member_counts ON member_counts.company_id = grid.company_id
                                    AND member_counts.config_id IS NOT DISTINCT FROM grid.config_id
                                    AND member_counts.month = grid.month
             LEFT JOIN watch_changes ON watch_changes.company_id = grid.company_id
                                    AND watch_changes.config_id IS NOT DISTINCT FROM grid.config_id
                                    AND watch_changes.month = grid.month
             LEFT JOIN losses ON losses.company_id = grid.company_id
                             AND losses.config_id IS NOT DISTINCT FROM grid.config_id
                             AND losses.month = grid.month
             LEFT JOIN order_counts ON order_counts.company_id = grid.company_id
                                   AND order_counts.config_id IS NOT DISTINCT FROM grid.config_id
                                   AND order_counts.month = grid.month
            )
            SELECT ROW_NUMBER() OVER (ORDER BY company_id, config_id, month) AS id, kpis.*,
                   100.0 * repeat_members / NULLIF(active_members, 0) AS repeat_purchase_rate,
                   100.0 * members_lost / NULLIF(members_at_start, 0) AS churn_rate,
                   amount_total / NULLIF(order_count, 0) AS average_order_value
              FROM kpis
        """
