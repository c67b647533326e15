from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    pos_registry_enroll_new_customers = fields.Boolean(
        related="pos_config_id.registry_enroll_new_customers", readonly=False
    )
