from odoo import api, fields, models


class PosOrder(models.Model):
    _inherit = "pos.order"

    pseudonym = fields.Char(
        string="Member Code",
        compute="_compute_pseudonym",
        store=True,
        index=True,
        readonly=True,
        help="The member's card code at order time: history and analytics need no personal data.",
    )

    @api.depends("partner_id.pseudonym")
    def _compute_pseudonym(self):
        for order in self:
            order.pseudonym = order.partner_id.pseudonym or False
