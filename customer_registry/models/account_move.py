from odoo import api, models
from odoo.exceptions import ValidationError


class AccountMove(models.Model):
    _inherit = "account.move"

    @api.constrains("partner_id", "move_type")
    def _check_registry_member_not_invoiced(self):
        """A member is a card code without name or address: not someone an invoice can be made out to."""
        invoiced = self.filtered(lambda move: move.is_sale_document(include_receipts=False))
        members = invoiced.partner_id.sudo().filtered("is_registry_member")
        if members:
            raise ValidationError(
                self.env._(
                    "Member %s is pseudonymous: an invoice needs a name and an address. Invoice an ordinary "
                    "(non-member) contact for the customer instead; the member's purchases stay on the card code.",
                    members[0].pseudonym,
                )
            )
