from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    pos_registry_enroll_new_customers = fields.Boolean(
        related="pos_config_id.registry_enroll_new_customers", readonly=False
    )
    registry_churn_days = fields.Integer(related="company_id.registry_churn_days", readonly=False)
    registry_lifespan_years = fields.Float(related="company_id.registry_lifespan_years", readonly=False)
