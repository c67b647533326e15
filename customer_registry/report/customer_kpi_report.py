from odoo import fields, models

from .retention_sql import COMPANY_SETTINGS, ratio_select


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
        "pos.order.line": ["refunded_orderline_id"],
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
    amount_total = fields.Monetary(
        string="Purchased", readonly=True, help="Member purchases less the refunds charged to members in the month."
    )
    average_order_value = fields.Monetary(readonly=True, aggregator="avg", help="Purchased / purchases.")

    # rate: (numerator, denominator, scale); grouped, a rate is the ratio of the group's sums.
    _ratios = {
        "repeat_purchase_rate": ("repeat_members", "active_members", 100),
        "churn_rate": ("members_lost", "members_at_start", 100),
        "average_order_value": ("amount_total", "order_count", 1),
    }

    def _read_group_select(self, aggregate_spec, query):
        return ratio_select(self, self._ratios, aggregate_spec, query) or super()._read_group_select(
            aggregate_spec, query
        )

    @property
    def _table_query(self):
        # Read from the KPI summary (see retention_summary): what members add per point of sale and day.
        return f"""
            WITH settings AS ({COMPANY_SETTINGS}),
            sums AS (
                SELECT deltas.company_id, deltas.config_id, DATE_TRUNC('month', deltas.day)::date AS month,
                       SUM(deltas.kpi_active) AS active_members, SUM(deltas.kpi_new) AS new_members,
                       SUM(deltas.kpi_returning) AS returning_members, SUM(deltas.kpi_repeat) AS repeat_members,
                       SUM(deltas.kpi_start_change) AS start_change,
                       -- a member is lost on the first day past the window: not before that day comes
                       COALESCE(SUM(deltas.kpi_lost) FILTER (
                           WHERE deltas.day <= (NOW() AT TIME ZONE settings.tz)::date
                       ), 0) AS members_lost,
                       SUM(deltas.kpi_purchases) AS order_count, SUM(deltas.kpi_amount) AS amount_total
                  FROM customer_registry_kpi_delta deltas
                  JOIN settings ON settings.company_id = deltas.company_id
              GROUP BY deltas.company_id, deltas.config_id, DATE_TRUNC('month', deltas.day)
            ),
            grid AS (
                -- Every month of every point of sale, from its first member purchase to the current month.
                SELECT shops.company_id, shops.config_id, later.month::date AS month, settings.currency_id
                  FROM (SELECT company_id, config_id, MIN(month) AS first_month
                          FROM sums WHERE order_count <> 0 OR amount_total <> 0
                      GROUP BY company_id, config_id) AS shops
                  JOIN settings ON settings.company_id = shops.company_id
                 CROSS JOIN LATERAL GENERATE_SERIES(
                       shops.first_month, DATE_TRUNC('month', NOW() AT TIME ZONE settings.tz), INTERVAL '1 month'
                 ) AS later(month)
            ),
            kpis AS (
                -- Counts as integers: a sum of PostgreSQL's bigint or numeric is numeric, which Odoo
                -- reads as a float, and a grouped count would read 4.0 members instead of 4.
                SELECT grid.company_id, grid.currency_id, grid.config_id, grid.month,
                       COALESCE(sums.active_members, 0)::integer AS active_members,
                       COALESCE(sums.new_members, 0)::integer AS new_members,
                       COALESCE(sums.returning_members, 0)::integer AS returning_members,
                       COALESCE(sums.repeat_members, 0)::integer AS repeat_members,
                       (SUM(COALESCE(sums.start_change, 0)) OVER (
                           PARTITION BY grid.company_id, grid.config_id ORDER BY grid.month
                       ))::integer AS members_at_start,
                       COALESCE(sums.members_lost, 0)::integer AS members_lost,
                       COALESCE(sums.order_count, 0)::integer AS order_count,
                       COALESCE(sums.amount_total, 0) AS amount_total
                  FROM grid
             LEFT JOIN sums ON sums.company_id = grid.company_id
                           AND sums.config_id IS NOT DISTINCT FROM grid.config_id
                           AND sums.month = grid.month
            )
            SELECT ROW_NUMBER() OVER (ORDER BY company_id, config_id, month) AS id, kpis.*,
                   100.0 * repeat_members / NULLIF(active_members, 0) AS repeat_purchase_rate,
                   100.0 * members_lost / NULLIF(members_at_start, 0) AS churn_rate,
                   amount_total / NULLIF(order_count, 0) AS average_order_value
              FROM kpis
        """
