from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    pos_registry_enroll_new_customers = fields.Boolean(
        related="pos_config_id.registry_enroll_new_customers", readonly=False
    )
    registry_churn_days = fields.Integer(related="company_id.registry_churn_days", readonly=False)
    registry_lifespan_years = fields.Float(related="company_id.registry_lifespan_years", readonly=False)
    registry_erase_inactive_months = fields.Integer(related="company_id.registry_erase_inactive_months", readonly=False)
    registry_health_data_months = fields.Integer(related="company_id.registry_health_data_months", readonly=False)

    def action_registry_storage_limit_preview(self):
        """What the storage-limit job would erase today, by card code (a dry run)."""
        self.ensure_one()
        codes, health_codes = self.env["res.partner"]._registry_storage_limit_due(self.company_id)
        message = self.env._(
            "%(count)s members would be erased: %(codes)s. Health data of %(health)s members would be erased.",
            count=len(codes),
            codes=", ".join(codes[:50]) + (" ..." if len(codes) > 50 else "") if codes else "-",
            health=len(health_codes),
        )
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {"title": self.env._("Storage limits: dry run"), "message": message, "sticky": True},
        }
