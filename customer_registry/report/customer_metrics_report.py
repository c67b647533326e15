from odoo import fields, models

from .retention_sql import COMPANY_SETTINGS, MEMBER_ORDERS_WHERE, RFM_SEGMENT_CASE, RFM_SEGMENTS, local, quintile


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
    order_count = fields.Integer(string="Orders", readonly=True)
    total_spend = fields.Monetary(readonly=True)
    average_order_value = fields.Monetary(readonly=True, aggregator="avg")
    days_since_last_purchase = fields.Integer(readonly=True, aggregator="avg")
    recency_score = fields.Integer(string="R", readonly=True, aggregator="avg")
    frequency_score = fields.Integer(string="F", readonly=True, aggregator="avg")
    monetary_score = fields.Integer(string="M", readonly=True, aggregator="avg")
    rfm_score = fields.Char(string="RFM", readonly=True)
    rfm_segment = fields.Selection(RFM_SEGMENTS, string="RFM Segment", readonly=True)
    is_churned = fields.Boolean(string="Churned", readonly=True)
    lifetime_value = fields.Monetary(readonly=True)

    @property
    def _table_query(self):
        segment = RFM_SEGMENT_CASE.format(r="recency_score", f="frequency_score", m="monetary_score")
        return f"""
            WITH settings AS ({COMPANY_SETTINGS}),
            per_member AS (
                SELECT o.company_id, o.partner_id,
                       MIN(o.date_order) FILTER (WHERE o.amount_total > 0) AS first_order_at,
                       MAX(o.date_order) FILTER (WHERE o.amount_total > 0) AS last_order_at,
                       COUNT(*) FILTER (WHERE o.amount_total > 0) AS order_count,
                       SUM(o.amount_total) AS total_spend
                  FROM pos_order o
                 WHERE {MEMBER_ORDERS_WHERE}
              GROUP BY o.company_id, o.partner_id
                HAVING COUNT(*) FILTER (WHERE o.amount_total > 0) > 0
            ),
            scored AS (
                SELECT per_member.*,
                       {quintile("last_order_at")} AS recency_score,
                       {quintile("order_count")} AS frequency_score,
                       {quintile("total_spend")} AS monetary_score
                  FROM per_member
            ),
            dated AS (
                SELECT scored.*, settings.currency_id, settings.churn_days, settings.lifespan_years,
                       {local("scored.first_order_at", "settings.tz")}::date AS first_purchase_date,
                       {local("scored.last_order_at", "settings.tz")}::date AS last_purchase_date,
                       (NOW() AT TIME ZONE settings.tz)::date AS today
                  FROM scored
                  JOIN settings ON settings.company_id = scored.company_id
            )
            SELECT dated.partner_id::bigint * 100000 + dated.company_id AS id,
                   dated.company_id, dated.currency_id, dated.partner_id,
                   member.pseudonym, member.registry_postal_area AS postal_area,
                   dated.first_purchase_date, dated.last_purchase_date,
                   dated.order_count, dated.total_spend,
                   dated.total_spend / dated.order_count AS average_order_value,
                   dated.today - dated.last_purchase_date AS days_since_last_purchase,
                   dated.recency_score, dated.frequency_score, dated.monetary_score,
                   CONCAT(dated.recency_score, dated.frequency_score, dated.monetary_score) AS rfm_score,
                   {segment} AS rfm_segment,
                   dated.today - dated.last_purchase_date > dated.churn_days AS is_churned,
                   -- average order value x orders per year (a year at least) x expected lifespan
                   dated.total_spend * 365.0 / GREATEST(dated.today - dated.first_purchase_date, 365)
                       * dated.lifespan_years AS lifetime_value
              FROM dated
              JOIN res_partner member ON member.id = dated.partner_id
        """
