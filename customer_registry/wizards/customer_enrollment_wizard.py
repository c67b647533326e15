from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools.safe_eval import safe_eval

from ..models.customer_enrollment_job import BATCH_SIZE


class CustomerEnrollmentWizard(models.TransientModel):
    """Bring existing contacts into the register: the chosen ones, or all those a filter finds."""

    _name = "customer.enrollment.wizard"
    _description = "Enroll Existing Contacts"

    scope = fields.Selection(
        [("selection", "The selected contacts"), ("filter", "All contacts matching a filter")],
        required=True,
        default="selection",
    )
    partner_ids = fields.Many2many("res.partner", string="Contacts", domain=[("is_registry_member", "=", False)])
    filter_domain = fields.Char(string="Filter", default="[('is_registry_member', '=', False)]")
    candidate_count = fields.Integer(string="Contacts to Enroll", compute="_compute_candidate_count")

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        context = self.env.context
        if context.get("active_model") == "res.partner":
            if context.get("active_domain") is not None and "filter_domain" in fields_list:
                # "Select all" in the list: the records matching its filter, thousands perhaps.
                values["filter_domain"] = repr(context["active_domain"])
            if context.get("active_ids") and "partner_ids" in fields_list:
                values["partner_ids"] = [fields.Command.set(context["active_ids"])]
        return values

    def _candidate_ids(self):
        self.ensure_one()
        if self.scope == "selection":
            return self.partner_ids.ids
        try:
            domain = safe_eval(self.filter_domain or "[]")
        except Exception as error:  # any mistake in a typed filter gets the same answer
            raise UserError(self.env._("The filter is not a valid domain: %s", error)) from error
        return self.env["res.partner"].search(domain, order="id").ids

    @api.depends("scope", "partner_ids", "filter_domain")
    def _compute_candidate_count(self):
        for wizard in self:
            try:
                wizard.candidate_count = len(wizard._candidate_ids())
            except UserError:
                wizard.candidate_count = 0

    def action_enroll(self):
        """Start a run: small ones are done now, large ones by the scheduled action, batch by batch."""
        self.ensure_one()
        partner_ids = self._candidate_ids()
        if not partner_ids:
            raise UserError(self.env._("No contact to enroll: choose contacts or widen the filter."))
        self.env["res.partner"].check_access("write")
        job = self.env["customer.enrollment.job"].sudo()._start(partner_ids)
        if len(partner_ids) <= BATCH_SIZE:
            job._run()
        else:
            self.env.ref("customer_registry.ir_cron_registry_enrollment_jobs").sudo()._trigger()
        # The filter may name someone: the wizard is not kept until the transient vacuum.
        self.sudo().unlink()
        return {
            "type": "ir.actions.act_window",
            "res_model": "customer.enrollment.job",
            "res_id": job.id,
            "view_mode": "form",
            "target": "current",
        }
