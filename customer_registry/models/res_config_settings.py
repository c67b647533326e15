from odoo import api, fields, models

from .. import sealing


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    pos_registry_enroll_new_customers = fields.Boolean(
        related="pos_config_id.registry_enroll_new_customers", readonly=False
    )
    registry_churn_days = fields.Integer(related="company_id.registry_churn_days", readonly=False)
    registry_lifespan_years = fields.Float(related="company_id.registry_lifespan_years", readonly=False)
    registry_erase_inactive_months = fields.Integer(related="company_id.registry_erase_inactive_months", readonly=False)
    registry_health_data_months = fields.Integer(related="company_id.registry_health_data_months", readonly=False)

    registry_audit_retention_months = fields.Integer(
        related="company_id.registry_audit_retention_months", readonly=False
    )
    registry_encryption_state = fields.Selection(
        [("off", "Off"), ("no_index", "No index key"), ("on", "On"), ("error", "Key error")],
        compute="_compute_registry_encryption_state",
    )
    registry_encryption_message = fields.Char(compute="_compute_registry_encryption_state")

    @api.depends("company_id")
    def _compute_registry_encryption_state(self):
        try:
            version, index_version = sealing.current_version(), sealing.current_index_version()
        except sealing.SealingError as error:
            state, message = "error", self.env._("The encryption keys are misconfigured: %s.", error)
        else:
            if not version:
                state, message = (
                    "off",
                    self.env._(
                        "Identity values are stored in plain text: no encryption key is configured "
                        "(customer_registry_keys in the Odoo configuration file, or CUSTOMER_REGISTRY_KEYS)."
                    ),
                )
            elif not index_version:
                state, message = (
                    "no_index",
                    self.env._(
                        "Identity values are encrypted (key version %s), but no blind-index key is configured "
                        "(customer_registry_index_keys): the lookup by email or phone is not available.",
                        version,
                    ),
                )
            else:
                state, message = (
                    "on",
                    self.env._(
                        "Identity values are encrypted (key version %(key)s, blind-index key version %(index)s).",
                        key=version,
                        index=index_version,
                    ),
                )
            if version and sealing.slow_cryptography():
                message += " " + self.env._(
                    "The cryptography package installed (%(version)s) opens each identity about 20 times slower "
                    "than version %(minimum)s or newer: install the project's requirements.txt.",
                    version=sealing.slow_cryptography(),
                    minimum=sealing.FAST_CRYPTOGRAPHY,
                )
        for settings in self:
            settings.registry_encryption_state = state
            settings.registry_encryption_message = message

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
