from odoo import fields, models


class CustomerLoyaltyAdjustment(models.TransientModel):
    _name = "customer.loyalty.adjustment"
    _description = "Loyalty Points Adjustment"

    member_id = fields.Many2one("res.partner", required=True, domain=[("is_registry_member", "=", True)])
    pseudonym = fields.Char(related="member_id.pseudonym")
    balance = fields.Integer(related="member_id.loyalty_balance", string="Current Balance")
    points = fields.Integer(required=True, help="Points to add (positive) or take away (negative).")
    reason = fields.Text(required=True, help="Why the balance is corrected: kept on the ledger entry.")

    def action_post(self):
        self.ensure_one()
        self.env["customer.loyalty.entry"].sudo()._adjust(self.member_id, self.points, self.reason)
        return {"type": "ir.actions.act_window_close"}
