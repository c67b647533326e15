from odoo import fields, models

from .retention_sql import COMPANY_SETTINGS, MEMBER_ORDERS_WHERE, local


class CustomerCohortReport(models.Model):
    """Monthly cohorts: members by month of first purchase, and who bought again each later month.

    One row per company, cohort month and later month up to the current one,
    months without any returning member included (0 %), so the pivot reads
    as a full triangle.
    """

    _name = "customer.cohort.report"
    _description = "Member Cohort Retention"
    _auto = False
    _depends = {
        "pos.order": ["state", "partner_id", "pseudonym", "company_id", "config_id", "date_order", "amount_total"],
        "res.company": ["currency_id", "partner_id", "registry_churn_days", "registry_lifespan_years"],
        "res.partner": ["tz"],
    }
    _order = "cohort_month, months_since_first"

    company_id = fields.Many2one("res.company", readonly=True)
    cohort_month = fields.Date(string="Cohort (first purchase)", readonly=True)
    month = fields.Date(readonly=True)
    months_since_first = fields.Integer(string="Months after First Purchase", readonly=True, aggregator=None)
    cohort_members = fields.Integer(string="Cohort Size", readonly=True, aggregator="max")
    returning_members = fields.Integer(string="Members Buying", readonly=True)
    retention_rate = fields.Float(
        string="Retention (%)",
        readonly=True,
        aggregator="avg",
        digits=(16, 1),
        help="Share of the cohort that bought in that month.",
    )

    @property
    def _table_query(self):
        return f"""
            WITH settings AS ({COMPANY_SETTINGS}),
            member_months AS (
                SELECT o.company_id, o.partner_id,
                       DATE_TRUNC('month', {local("o.date_order", "settings.tz")})::date AS month
                  FROM pos_order o
                  JOIN settings ON settings.company_id = o.company_id
                 WHERE {MEMBER_ORDERS_WHERE} AND o.amount_total > 0
              GROUP BY 1, 2, 3
            ),
            buying AS (
                -- The window reuses the order of the grouping above: no join back to the first months.
                SELECT company_id, cohort_month, month, COUNT(*) AS members
                  FROM (
                    SELECT company_id, month, MIN(month) OVER (PARTITION BY company_id, partner_id) AS cohort_month
                      FROM member_months
                  ) AS dated
              GROUP BY company_id, cohort_month, month
            ),
            cohorts AS (
                SELECT company_id, cohort_month, members AS cohort_members
                  FROM buying
                 WHERE month = cohort_month
            )
            SELECT ROW_NUMBER() OVER (ORDER BY cohorts.company_id, cohorts.cohort_month, later.month) AS id,
                   cohorts.company_id, cohorts.cohort_month, later.month::date AS month,
                   ((EXTRACT(YEAR FROM later.month) - EXTRACT(YEAR FROM cohorts.cohort_month)) * 12
                    + EXTRACT(MONTH FROM later.month) - EXTRACT(MONTH FROM cohorts.cohort_month))::int
                       AS months_since_first,
                   cohorts.cohort_members,
                   COALESCE(buying.members, 0) AS returning_members,
                   100.0 * COALESCE(buying.members, 0) / cohorts.cohort_members AS retention_rate
              FROM cohorts
              JOIN settings ON settings.company_id = cohorts.company_id
             CROSS JOIN LATERAL GENERATE_SERIES(
                   cohorts.cohort_month, DATE_TRUNC('month', NOW() AT TIME ZONE settings.tz), INTERVAL '1 month'
             ) AS later(month)
              LEFT JOIN buying ON buying.company_id = cohorts.company_id
                              AND buying.cohort_month = cohorts.cohort_month
                              AND buying.month = later.month::date
        """
