from odoo import api, fields, models


class CustomerAllergen(models.Model):
    """One of the 14 allergens of Regulation (EU) 1169/2011, Annex II."""

    _name = "customer.allergen"
    _inherit = ["pos.load.mixin"]
    _description = "Allergen"
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    code = fields.Char(required=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)

    _code_unique = models.Constraint("UNIQUE(code)", "An allergen code must be unique.")

    @api.model
    def _load_pos_data_fields(self, config):
        # The till names the allergens of products and of members in its warning.
        return ["id", "name", "code", "sequence"]
