from odoo import api, models


class CustomerLoyaltyConfigMixin(models.AbstractModel):
    """Loyalty configuration whose settings earning reads from a cache: any change clears it."""

    _name = "customer.loyalty.config.mixin"
    _description = "Loyalty Configuration (cached)"

    @api.model_create_multi
    def create(self, vals_list):
        self.env.registry.clear_cache()
        return super().create(vals_list)

    def write(self, vals):
        self.env.registry.clear_cache()
        return super().write(vals)

    def unlink(self):
        self.env.registry.clear_cache()
        return super().unlink()
