from odoo import fields, models


class PosConfig(models.Model):
    _inherit = "pos.config"

    registry_enroll_new_customers = fields.Boolean(
        string="Enroll New Customers as Members",
        default=True,
        help="Customers created from this point of sale are registry members by default: they get a card "
        "code and their personal data is kept apart. The cashier can still untick it per customer.",
    )

    # Loyalty

    def _get_special_products(self):
        # The reward line's product must reach the POS, like the tip product does.
        program = self.env["customer.loyalty.program"]._for_company(self.company_id[:1].id or self.env.company.id)
        return super()._get_special_products() | program.sudo().reward_product_id
