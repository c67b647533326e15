from odoo import fields, models


class ResCompany(models.Model):
    _inherit = "res.company"

    registry_churn_days = fields.Integer(
        string="Churn Window (days)",
        default=180,
        required=True,
        help="A member who has not bought for more than this many days counts as churned in the retention reports.",
    )
    registry_lifespan_years = fields.Float(
        string="Expected Member Lifespan (years)",
        default=3.0,
        required=True,
        help="How long a member is expected to keep buying; used for the lifetime value.",
    )

    registry_erase_inactive_months = fields.Integer(
        string="Erase Members Inactive For (months)",
        default=0,
        help="Members with no purchase (and, if they never bought, no enrollment) for this many months are "
        "erased by a daily scheduled action. 0: never.",
    )
    registry_health_data_months = fields.Integer(
        string="Erase Health Data After (months)",
        default=0,
        help="Allergies and dietary restrictions of members with no purchase for this many months are erased. "
        "0: never.",
    )

    registry_audit_retention_months = fields.Integer(
        string="Keep the Identity Read Audit For (months)",
        default=24,
        help="Entries of the audit of identity reads older than this are purged by a daily scheduled action. "
        "At least 6 months; 0: kept for ever.",
    )

    # A floor the database keeps: lowering the retention to a month and purging would erase the
    # trace of who read what almost at once.
    _registry_audit_retention_positive = models.Constraint(
        "CHECK(registry_audit_retention_months = 0 OR registry_audit_retention_months >= 6)",
        "The identity read audit is kept at least 6 months, or 0 to keep it for ever.",
    )
    _registry_storage_limits_positive = models.Constraint(
        "CHECK(registry_erase_inactive_months >= 0 AND registry_health_data_months >= 0)",
        "Storage limits are a number of months, or 0 for none.",
    )
    _registry_churn_days_positive = models.Constraint(
        "CHECK(registry_churn_days > 0)", "The churn window must be at least one day."
    )
    _registry_lifespan_positive = models.Constraint(
        "CHECK(registry_lifespan_years > 0)", "The expected member lifespan must be positive."
    )
