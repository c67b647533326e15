from odoo import api, fields, models
from odoo.exceptions import UserError

from ..models.customer_erasure_log import ERASURE_REASONS


class CustomerErasureWizard(models.TransientModel):
    _name = "customer.erasure.wizard"
    _description = "Erase Members"

    member_ids = fields.Many2many(
        "res.partner", string="Members", required=True, domain=[("is_registry_member", "=", True)]
    )
    reason = fields.Selection(ERASURE_REASONS, required=True, default="request")
    confirmed = fields.Boolean(
        string="I understand this cannot be undone",
        help="The identity, profile, health data, notes, chatter, attachments and mailing contacts are deleted. "
        "Orders and loyalty entries stay, under the card code only.",
    )

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        if self.env.context.get("active_model") == "res.partner" and "member_ids" in fields_list:
            values["member_ids"] = [fields.Command.set(self.env.context.get("active_ids", []))]
        return values

    def action_erase(self):
        self.ensure_one()
        if not self.confirmed:
            raise UserError(self.env._("Tick the confirmation: an erasure cannot be undone."))
        members = self.member_ids
        members._registry_erase(self.reason)
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": self.env._("Members erased"),
                "message": self.env._("Erased: %s", ", ".join(members.mapped("pseudonym"))),
                "sticky": True,
                "next": {"type": "ir.actions.act_window_close"},
            },
        }
