from odoo import fields, models


class ResCompany(models.Model):
    _inherit = "res.company"

    registry_churn_days = fields.Integer(
        string="Churn Window (days)",
        default=180,
        required=True,
        help="A member who has not bought for this many days counts as churned in the retention reports.",
    )
    registry_lifespan_years = fields.Float(
        string="Expected Member Lifespan (years)",
        default=3.0,
        required=True,
        help="How long a member is expected to keep buying; used for the lifetime value.",
    )

    _registry_churn_days_positive = models.Constraint(
        "CHECK(registry_churn_days > 0)", "The churn window must be at least one day."
    )
    _registry_lifespan_positive = models.Constraint(
        "CHECK(registry_lifespan_years > 0)", "The expected member lifespan must be positive."
    )
