from odoo import fields, models

from .retention_sql import COMPANY_SETTINGS, MEMBER_ORDERS_WHERE, local


class CustomerKpiReport(models.Model):
    """Monthly member KPIs, exact at any grouping of month, company and point of sale.

    Rows are of three kinds, each measure living on one kind only (NULL
    elsewhere, which sums and averages ignore):
    - a member active in a month: active/new/returning flags, repeat-purchase flag;
    - a member counted at the start of a month (bought within the churn
      window before it): churn flag, 100 if the member was lost in that month;
    - a purchase: its value, for the average order value.
    A member is attributed to the point of sale of the month's purchases (the
    one of the last purchase for months without any).
    """

    _name = "customer.kpi.report"
    _description = "Member KPIs per Month"
    _auto = False
    _depends = {
        "pos.order": ["state", "partner_id", "pseudonym", "company_id", "config_id", "date_order", "amount_total"],
        "res.company": ["currency_id", "partner_id", "registry_churn_days", "registry_lifespan_years"],
        "res.partner": ["tz"],
    }
    _order = "month desc"

    company_id = fields.Many2one("res.company", readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    config_id = fields.Many2one("pos.config", string="Point of Sale", readonly=True)
    month = fields.Date(readonly=True)
    active_members = fields.Integer(readonly=True)
    new_members = fields.Integer(readonly=True)
    returning_members = fields.Integer(readonly=True)
    repeat_purchase_rate = fields.Float(
        string="Repeat Purchase (%)", readonly=True, aggregator="avg", digits=(16, 1),
        help="Share of the active members who had bought more than once by the end of the month.",
    )
    members_at_start = fields.Integer(
        readonly=True, help="Members who had bought within the churn window before the month began."
    )
    members_lost = fields.Integer(readonly=True, help="Members at the start whose churn window ran out in the month.")
    churn_rate = fields.Float(
        string="Churn (%)", readonly=True, aggregator="avg", digits=(16, 1),
        help="Members lost in the month / members at its start; new members are not counted.",
    )
    order_count = fields.Integer(string="Purchases", readonly=True)
    average_order_value = fields.Monetary(readonly=True, aggregator="avg")

    @property
    def _table_query(self):
        local_order = local("o.date_order", "settings.tz")
        return f"""
            WITH settings AS ({COMPANY_SETTINGS}),
            purchases AS (
                SELECT o.company_id, o.config_id, o.partner_id, o.date_order, o.amount_total, settings.currency_id,
                       DATE_TRUNC('month', {local_order})::date AS month
                  FROM pos_order o
                  JOIN settings ON settings.company_id = o.company_id
                 WHERE {MEMBER_ORDERS_WHERE} AND o.amount_total > 0
            ),
            member_months AS (
                SELECT company_id, partner_id, month, currency_id,
                       MIN(config_id) AS config_id, COUNT(*) AS order_count,
                       MIN(date_order) AS first_order_at, MAX(date_order) AS last_order_at
                  FROM purchases
              GROUP BY company_id, partner_id, month, currency_id
            ),
            spells AS (
                SELECT member_months.*, settings.tz,
                       MIN(month) OVER member AS cohort_month,
                       SUM(order_count) OVER (member ORDER BY month) AS orders_to_date,
                       LEAD(first_order_at) OVER (member ORDER BY month) AS next_order_at,
                       last_order_at + settings.churn_days * INTERVAL '1 day' AS churn_at
                  FROM member_months
                  JOIN settings ON settings.company_id = member_months.company_id
                WINDOW member AS (PARTITION BY member_months.company_id, partner_id)
            ),
            kpi_rows AS (
                SELECT company_id, currency_id, config_id, month,
                       1 AS active_members,
                       (month = cohort_month)::int AS new_members,
                       (month > cohort_month)::int AS returning_members,
                       CASE WHEN orders_to_date > 1 THEN 100.0 ELSE 0.0 END AS repeat_purchase_rate,
                       NULL::int AS members_at_start, NULL::int AS members_lost, NULL::float AS churn_rate,
                       NULL::int AS order_count, NULL::numeric AS average_order_value
                  FROM spells
             UNION ALL
                SELECT spells.company_id, spells.currency_id, spells.config_id, later.month::date,
                       NULL, NULL, NULL, NULL,
                       1,
                       lost.is_lost::int,
                       CASE WHEN lost.is_lost THEN 100.0 ELSE 0.0 END,
                       NULL, NULL
                  FROM spells
                 CROSS JOIN LATERAL GENERATE_SERIES(
                       spells.month + INTERVAL '1 month',
                       DATE_TRUNC('month', LEAST(
                           {local("spells.next_order_at", "spells.tz")},
                           {local("spells.churn_at", "spells.tz")},
                           NOW() AT TIME ZONE spells.tz)),
                       INTERVAL '1 month'
                 ) AS later(month)
                 CROSS JOIN LATERAL (
                     SELECT DATE_TRUNC('month', {local("spells.churn_at", "spells.tz")}) = later.month
                            AND (spells.next_order_at IS NULL OR spells.next_order_at > spells.churn_at)
                            AND spells.churn_at <= NOW() AT TIME ZONE 'UTC' AS is_lost
                 ) AS lost
             UNION ALL
                SELECT company_id, currency_id, config_id, month,
                       NULL, NULL, NULL, NULL, NULL, NULL, NULL,
                       1, amount_total
                  FROM purchases
            )
            SELECT ROW_NUMBER() OVER () AS id, kpi_rows.* FROM kpi_rows
        """
