from odoo import fields, models

from .retention_sql import (
    COMPANY_SETTINGS,
    RFM_SEGMENT_CASE,
    RFM_SEGMENTS,
    monetary_score,
    monetary_yardsticks,
    ratio_select,
    recency_score,
    recency_yardsticks,
    rung_score,
)


class CustomerMetricsReport(models.Model):
    """One row per member and company: purchase history, RFM scores, churn, lifetime value.

    A purchase is a counted order with a positive total; an order with a
    negative total is a refund: it lowers the spend but is no purchase.
    """

    _name = "customer.metrics.report"
    _description = "Customer Metrics"
    _auto = False
    _depends = {
        "pos.order": ["state", "partner_id", "pseudonym", "company_id", "config_id", "date_order", "amount_total"],
        "pos.order.line": ["refunded_orderline_id"],
        "res.company": ["currency_id", "partner_id", "registry_churn_days", "registry_lifespan_years"],
        "res.partner": ["tz", "pseudonym", "registry_postal_area"],
    }
    _rec_name = "pseudonym"
    _order = "total_spend desc, id"

    company_id = fields.Many2one("res.company", readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    partner_id = fields.Many2one("res.partner", string="Member", readonly=True)
    pseudonym = fields.Char(string="Member Code", readonly=True)
    postal_area = fields.Char(readonly=True)
    first_purchase_date = fields.Date(readonly=True)
    last_purchase_date = fields.Date(readonly=True)
    # One per member: the graph and pivot count members with it (a real field takes a display widget).
    member_count = fields.Integer(string="Members", readonly=True)
    order_count = fields.Integer(string="Orders", readonly=True)
    total_spend = fields.Monetary(readonly=True)
    average_order_value = fields.Monetary(readonly=True, aggregator="avg", help="Spend / purchases.")
    days_since_last_purchase = fields.Integer(readonly=True, aggregator="avg")
    recency_score = fields.Integer(string="R", readonly=True, aggregator="avg")
    frequency_score = fields.Integer(string="F", readonly=True, aggregator="avg")
    monetary_score = fields.Integer(string="M", readonly=True, aggregator="avg")
    rfm_score = fields.Char(string="RFM", readonly=True)
    rfm_segment = fields.Selection(RFM_SEGMENTS, string="RFM Segment", readonly=True)
    is_churned = fields.Boolean(string="Churned", readonly=True)
    lifetime_value = fields.Monetary(readonly=True)

    # rate: (numerator, denominator, scale); grouped, a rate is the ratio of the group's sums.
    _ratios = {"average_order_value": ("total_spend", "order_count", 1)}

    def _read_group_select(self, aggregate_spec, query):
        return ratio_select(self, self._ratios, aggregate_spec, query) or super()._read_group_select(
            aggregate_spec, query
        )

    @property
    def _table_query(self):
        # Read from the per-member summary (see retention_summary); scores need no ranking.
        segment = RFM_SEGMENT_CASE.format(r="recency_score", f="frequency_score", m="monetary_score")
        return f"""
            -- MATERIALIZED: one row per company with its yardsticks (today, the churn window and the
            -- average purchase turned into days and amounts), constants for every member's scores;
            -- inlined, PostgreSQL would convert NOW() to the company's timezone again per member.
            WITH settings AS ({COMPANY_SETTINGS}),
            baskets AS (
                -- the company's average purchase (spend / purchases), M's yardstick
                SELECT company_id, SUM(kpi_amount) / NULLIF(SUM(kpi_purchases), 0) AS average_purchase
                  FROM customer_registry_kpi_delta
              GROUP BY company_id
            ),
            yardsticks AS MATERIALIZED (
                SELECT settings.*,
                       {recency_yardsticks("settings.today", "settings.churn_days")},
                       {monetary_yardsticks("baskets.average_purchase")}
                  FROM settings
             LEFT JOIN baskets ON baskets.company_id = settings.company_id
            ),
            scored AS (
                -- plain comparisons per member (no division, no per-member subquery); the company
                -- filter of the record rules still reaches the summary's scan
                SELECT totals.company_id, totals.partner_id, totals.purchases, totals.spend,
                       totals.first_date, totals.last_date,
                       yardsticks.currency_id, yardsticks.churn_days, yardsticks.lifespan_years,
                       yardsticks.today, yardsticks.today - totals.last_date AS days,
                       {recency_score("totals.last_date", "yardsticks")} AS recency_score,
                       {rung_score("totals.purchases")} AS frequency_score,
                       {monetary_score("totals.spend", "yardsticks")} AS monetary_score
                  FROM customer_registry_member_total totals
                  JOIN yardsticks ON yardsticks.company_id = totals.company_id
            )
            SELECT scored.partner_id::bigint * 100000 + scored.company_id AS id,
                   scored.company_id, scored.currency_id, scored.partner_id,
                   member.pseudonym, member.registry_postal_area AS postal_area,
                   scored.first_date AS first_purchase_date, scored.last_date AS last_purchase_date,
                   1 AS member_count, scored.purchases AS order_count, scored.spend AS total_spend,
                   scored.spend / scored.purchases AS average_order_value,
                   scored.days AS days_since_last_purchase,
                   scored.recency_score, scored.frequency_score, scored.monetary_score,
                   CONCAT(scored.recency_score, scored.frequency_score, scored.monetary_score) AS rfm_score,
                   {segment} AS rfm_segment,
                   scored.days > scored.churn_days AS is_churned,
                   -- average order value x orders per year (a year at least) x expected lifespan
                   scored.spend * 365.0 / GREATEST(scored.today - scored.first_date, 365)
                       * scored.lifespan_years AS lifetime_value
              FROM scored
              -- a left join on the key: PostgreSQL skips it when no member column is read
         LEFT JOIN res_partner member ON member.id = scored.partner_id
        """
