from odoo import fields, models

from .retention_sql import COMPANY_SETTINGS, ratio_select


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
        "pos.order.line": ["refunded_orderline_id"],
        "res.company": ["currency_id", "partner_id", "registry_churn_days", "registry_lifespan_years"],
        "res.partner": ["tz"],
    }
    _order = "cohort_month, months_since_first"

    company_id = fields.Many2one("res.company", readonly=True)
    cohort_month = fields.Date(string="Cohort (first purchase)", readonly=True)
    month = fields.Date(readonly=True)
    months_since_first = fields.Integer(string="Months after First Purchase", readonly=True, aggregator=None)
    cohort_members = fields.Integer(
        string="Cohort Size",
        readonly=True,
        help="Size of the cohort; grouped, the sum over the cohorts (and months) in the group: the pooled size.",
    )
    returning_members = fields.Integer(string="Members Buying", readonly=True)
    retention_rate = fields.Float(
        string="Retention (%)",
        readonly=True,
        aggregator="avg",
        digits=(16, 1),
        help="Share of the cohort that bought in that month; grouped, members buying / cohort members (pooled).",
    )

    # rate: (numerator, denominator, scale); grouped, a rate is the ratio of the group's sums.
    _ratios = {"retention_rate": ("returning_members", "cohort_members", 100)}

    def _read_group_select(self, aggregate_spec, query):
        return ratio_select(self, self._ratios, aggregate_spec, query) or super()._read_group_select(
            aggregate_spec, query
        )

    @property
    def _table_query(self):
        # Read from the cohort summary (see retention_summary): members per cohort and month.
        return f"""
            WITH settings AS ({COMPANY_SETTINGS}),
            buying AS (
                SELECT company_id, cohort_month, month, SUM(members) AS members
                  FROM customer_registry_cohort_delta
              GROUP BY company_id, cohort_month, month
                HAVING SUM(members) <> 0
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
                   -- integers: Odoo reads a sum of numeric as a float (4.0 members)
                   cohorts.cohort_members::integer AS cohort_members,
                   COALESCE(buying.members, 0)::integer AS returning_members,
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
