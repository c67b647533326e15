from odoo import api, models
from odoo.exceptions import UserError


class ResPartnerBank(models.Model):
    _inherit = "res.partner.bank"

    @api.model_create_multi
    def create(self, vals_list):
        self._check_not_a_member([vals.get("partner_id") for vals in vals_list])
        return super().create(vals_list)

    def write(self, vals):
        if vals.get("partner_id"):
            self._check_not_a_member([vals["partner_id"]])
        return super().write(vals)

    @api.model
    def _check_not_a_member(self, partner_ids):
        """Every internal user reads bank accounts: a member has none (the database refuses it too)."""
        if self.env["res.partner"].sudo().browse([pid for pid in partner_ids if pid]).filtered("is_registry_member"):
            raise UserError(
                self.env._("A registry member keeps no bank account: its owner's name and number are personal data.")
            )
