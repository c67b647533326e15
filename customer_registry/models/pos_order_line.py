from odoo import api, fields, models


class PosOrderLine(models.Model):
    """The till's allergen warning of a line: what the cashier confirmed, and what the server found unconfirmed.

    No free text: the product is the line's, the allergens are records, the user and time are the
    cashier's confirmation.
    """

    _inherit = "pos.order.line"

    registry_allergen_confirmed_ids = fields.Many2many(
        "customer.allergen",
        "pos_order_line_allergen_confirmed_rel",
        "pos_order_line_id",
        "customer_allergen_id",
        string="Allergens Confirmed",
        readonly=True,
        help="Allergens of the customer this product contains (or may contain, for a severe allergy) that the "
        "cashier confirmed the customer was told of. Kept only where the server found the same conflict.",
    )
    registry_allergen_unconfirmed_ids = fields.Many2many(
        "customer.allergen",
        "pos_order_line_allergen_unconfirmed_rel",
        "pos_order_line_id",
        "customer_allergen_id",
        string="Allergens Not Confirmed",
        readonly=True,
        help="Allergen conflicts the server found when the order was synced that the till did not confirm "
        "(e.g. a till with outdated data): the order is kept, the conflict shown here.",
    )
    registry_allergen_confirmed_by_id = fields.Many2one(
        "res.users", string="Allergens Confirmed By", readonly=True, ondelete="set null"
    )
    registry_allergen_confirmed_at = fields.Datetime(string="Allergens Confirmed On", readonly=True)

    @api.model
    def _load_pos_data_fields(self, config):
        fields_list = super()._load_pos_data_fields(config)
        if not fields_list:
            return fields_list
        # What the till sends; who confirmed and what was not confirmed are the server's.
        return [*fields_list, "registry_allergen_confirmed_ids", "registry_allergen_confirmed_at"]
