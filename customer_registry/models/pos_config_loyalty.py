from odoo import models


class PosConfig(models.Model):
    _inherit = "pos.config"

    def _get_special_products(self):
        # The reward line's product must reach the POS, like the tip product does.
        program = self.env["customer.loyalty.program"]._for_company(self.company_id[:1].id or self.env.company.id)
        return super()._get_special_products() | program.sudo().reward_product_id
