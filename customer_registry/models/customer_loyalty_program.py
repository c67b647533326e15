from odoo import api, fields, models, tools
from odoo.tools import float_round

ROUNDING_METHODS = {"down": "DOWN", "half_up": "HALF-UP", "up": "UP"}


class CustomerLoyaltyProgram(models.Model):
    _name = "customer.loyalty.program"
    _description = "Loyalty Program"
    _inherit = ["pos.load.mixin", "customer.loyalty.config.mixin"]

    name = fields.Char(required=True, default=lambda self: self.env._("Loyalty Points"))
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company, ondelete="cascade"
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    points_per_amount = fields.Float(
        string="Points per Currency Unit",
        default=1.0,
        digits=(16, 4),
        required=True,
        help="Points earned for each unit of the company currency spent (before the tier multiplier).",
    )
    rounding = fields.Selection(
        [("down", "Round Down"), ("half_up", "Round Half Up"), ("up", "Round Up")],
        default="down",
        required=True,
        help="How fractional points of an order are rounded.",
    )
    excluded_categ_ids = fields.Many2many(
        "product.category",
        string="Categories Earning Nothing",
        help="Products of these categories (or their subcategories) earn no points.",
    )
    tier_ids = fields.One2many("customer.loyalty.tier", "program_id", string="Tiers")
    validity_months = fields.Integer(
        string="Validity (months)",
        default=12,
        help="Points expire this many months after they were earned, oldest first. 0: never.",
    )
    point_value = fields.Monetary(
        string="Value of a Point",
        default=0.01,
        required=True,
        help="Discount granted for each redeemed point, in the company currency.",
    )
    reward_product_id = fields.Many2one(
        "product.product",
        help="Product of the discount line added at the Point of Sale when points are redeemed.",
    )
    min_redeem_points = fields.Integer(
        string="Minimum Points per Redemption",
        default=1,
        required=True,
        help="The fewest points a cashier may redeem on one order.",
    )

    _company_unique = models.Constraint("UNIQUE(company_id)", "A company has one loyalty program.")
    _points_per_amount_positive = models.Constraint(
        "CHECK(points_per_amount >= 0)", "Points per currency unit cannot be negative."
    )
    _point_value_positive = models.Constraint("CHECK(point_value > 0)", "A point must be worth something.")
    _validity_positive = models.Constraint("CHECK(validity_months >= 0)", "Validity cannot be negative.")
    _min_redeem_positive = models.Constraint(
        "CHECK(min_redeem_points >= 1)", "At least one point is redeemed at a time."
    )

    @api.model
    def _for_company(self, company_id):
        """The active program of a company (a cached id: checked on every paid order)."""
        return self.browse(self._program_id_for_company(company_id))

    @tools.ormcache("company_id")
    def _program_id_for_company(self, company_id):
        return self.sudo().search([("company_id", "=", company_id)], limit=1).id or False

    @tools.ormcache("self.id")
    def _settings(self):
        """Everything earning needs, read once per program (cleared when a program or tier changes)."""
        program = self.sudo()
        return {
            "points_per_amount": program.points_per_amount,
            "rounding": ROUNDING_METHODS[program.rounding],
            "excluded_categ_ids": frozenset(
                self.env["product.category"].sudo().search([("id", "child_of", program.excluded_categ_ids.ids)]).ids
            )
            if program.excluded_categ_ids
            else frozenset(),
            "tiers": tuple(
                (tier.id, tier.min_spend, tier.multiplier)
                for tier in program.tier_ids.sorted("min_spend", reverse=True)
            ),
            "validity_months": program.validity_months,
            "point_value": program.point_value,
            "reward_product_id": program.reward_product_id.id,
        }

    def _points_for(self, amount, multiplier=1.0):
        settings = self._settings()
        return int(
            float_round(
                amount * settings["points_per_amount"] * multiplier,
                precision_rounding=1,
                rounding_method=settings["rounding"],
            )
        )

    def _tier_for_spend(self, spend):
        """(tier id, multiplier) for a rolling spend: the highest threshold reached."""
        for tier_id, min_spend, multiplier in self._settings()["tiers"]:
            if spend >= min_spend:
                return tier_id, multiplier
        return False, 1.0

    # Point of Sale

    @api.model
    def _load_pos_data_domain(self, data, config):
        return [("company_id", "=", config.company_id.id)]

    @api.model
    def _load_pos_data_fields(self, config):
        return ["id", "name", "points_per_amount", "point_value", "reward_product_id", "min_redeem_points"]
