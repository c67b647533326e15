from odoo import api, fields, models

from ..models.customer_segment import NO_CONSENT, NO_EMAIL


class CustomerSegmentMailingWizard(models.TransientModel):
    _name = "customer.segment.mailing.wizard"
    _description = "Export a Member Segment to a Mailing List"

    segment_id = fields.Many2one("customer.segment", required=True, ondelete="cascade")
    list_name = fields.Char(string="New Mailing List", required=True)
    member_count = fields.Integer(compute="_compute_counts", string="Members in the segment")
    exported_count = fields.Integer(compute="_compute_counts", string="Will be exported")
    without_consent_count = fields.Integer(compute="_compute_counts", string="Left out: no marketing consent")
    without_email_count = fields.Integer(compute="_compute_counts", string="Left out: no email address")
    can_export = fields.Boolean(compute="_compute_counts")

    @api.depends("segment_id")
    def _compute_counts(self):
        for wizard in self:
            emails, left_out = wizard.segment_id._mailing_recipients()
            wizard.exported_count = len(emails)
            wizard.without_consent_count = left_out[NO_CONSENT]
            wizard.without_email_count = left_out[NO_EMAIL]
            wizard.member_count = len(emails) + sum(left_out.values())
            wizard.can_export = "mailing.list" in self.env

    def action_export(self):
        self.ensure_one()
        mailing_list, left_out = self.segment_id._export_to_mailing_list(self.list_name)
        message = self.env._(
            "%(exported)s members exported to %(list)s; left out: %(no_consent)s without a valid marketing "
            "consent, %(no_email)s without an email address.",
            exported=len(mailing_list.sudo().contact_ids),
            list=mailing_list.name,
            no_consent=left_out[NO_CONSENT],
            no_email=left_out[NO_EMAIL],
        )
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": self.env._("Mailing list created"),
                "message": message,
                "sticky": True,
                "next": {"type": "ir.actions.act_window_close"},
            },
        }
