from odoo import fields, models


class PosConfig(models.Model):
    _inherit = "pos.config"

    registry_enroll_new_customers = fields.Boolean(
        string="Enroll New Customers as Members",
        default=True,
        help="Customers created from this point of sale are registry members by default: they get a card "
        "code and their personal data is kept apart. The cashier can still untick it per customer.",
    )
