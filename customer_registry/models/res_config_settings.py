from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    registry_churn_days = fields.Integer(related="company_id.registry_churn_days", readonly=False)
    registry_lifespan_years = fields.Float(related="company_id.registry_lifespan_years", readonly=False)
