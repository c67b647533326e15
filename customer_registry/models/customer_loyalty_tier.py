from odoo import fields, models


class CustomerLoyaltyTier(models.Model):
    _name = "customer.loyalty.tier"
    _description = "Loyalty Tier"
    _inherit = ["customer.loyalty.config.mixin"]
    _order = "program_id, min_spend"

    name = fields.Char(required=True, translate=True)
    program_id = fields.Many2one("customer.loyalty.program", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="program_id.company_id", store=True, index=True)
    currency_id = fields.Many2one(related="program_id.currency_id")
    min_spend = fields.Monetary(
        string="Rolling 12-Month Spend",
        required=True,
        help="Members whose paid orders of the last 12 months add up to this amount reach the tier.",
    )
    multiplier = fields.Float(default=1.0, digits=(16, 2), required=True, help="Earned points are multiplied by this.")

    _spend_unique = models.Constraint("UNIQUE(program_id, min_spend)", "Two tiers cannot share a threshold.")
    _multiplier_positive = models.Constraint("CHECK(multiplier >= 0)", "A multiplier cannot be negative.")
