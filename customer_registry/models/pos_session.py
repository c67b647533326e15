from odoo import api, models

from .pos_order_line import ALLERGEN_SENT_FIELDS


class PosSession(models.Model):
    _inherit = "pos.session"

    @api.model
    def _load_pos_data_models(self, config):
        return [
            *super()._load_pos_data_models(config),
            "customer.loyalty.program",
            "customer.consent.text",
            "customer.allergen",
        ]

    def load_data_params(self):
        params = super().load_data_params()
        lines = params.get("pos.order.line")
        if lines is not None:
            # The till sends a line's allergen confirmation with the order, so its model declares the two
            # fields; they are not among the fields it reads (`fields`, _load_pos_data_fields): no till
            # loads the allergen warnings of past orders back (health data, for registry administrators).
            lines["relations"].update(self._load_pos_data_relations("pos.order.line", list(ALLERGEN_SENT_FIELDS)))
        return params
