from odoo import models
from odoo.exceptions import UserError


class BasePartnerMergeAutomaticWizard(models.TransientModel):
    _inherit = "base.partner.merge.automatic.wizard"

    def _merge(self, partner_ids, dst_partner=None, extra_checks=True):
        members = self.env["res.partner"].browse(partner_ids).sudo().filtered("is_registry_member")
        if members:
            # Merging rewrites names and foreign keys: the append-only ledger, the identities
            # and the orders coded with each card must stay as they are.
            raise UserError(
                self.env._(
                    "Registry members cannot be merged (%s): each card code keeps its own purchases, points "
                    "and identity. Archive the duplicate member instead.",
                    ", ".join(members.mapped("pseudonym")),
                )
            )
        return super()._merge(partner_ids, dst_partner=dst_partner, extra_checks=extra_checks)
