from odoo import api, fields, models
from odoo.exceptions import UserError

from . import registry_sql

HEALTH = "health"
MARKETING = "marketing"


class CustomerConsent(models.Model):
    """Evidence of an explicit consent: who recorded it and when, never edited.

    Withdrawing stamps the consent instead of deleting it, so the register
    keeps proof of what was allowed at any time.
    """

    _name = "customer.consent"
    _description = "Customer Consent"
    _order = "given_at desc, id desc"
    _check_company_auto = True
    _rec_names_search = ["pseudonym"]

    partner_id = fields.Many2one(
        "res.partner",
        string="Member",
        required=True,
        index=True,
        ondelete="cascade",
        check_company=True,
        domain=[("is_registry_member", "=", True)],
    )
    pseudonym = fields.Char(related="partner_id.pseudonym")
    company_id = fields.Many2one("res.company", required=True, index=True, default=lambda self: self.env.company)
    purpose = fields.Selection(
        [
            (HEALTH, "Allergies and dietary restrictions"),
            (MARKETING, "Marketing"),
        ],
        required=True,
    )
    given_at = fields.Datetime(required=True, readonly=True, default=fields.Datetime.now)
    recorded_by_id = fields.Many2one("res.users", required=True, readonly=True, default=lambda self: self.env.user)
    text_id = fields.Many2one(
        "customer.consent.text",
        string="Wording Agreed To",
        readonly=True,
        index="btree_not_null",
        ondelete="restrict",
        help="The version of the wording the customer was shown and agreed to.",
        # The database keeps it a version of the consent's own company and purpose (customer.consent.text).
    )
    withdrawn_at = fields.Datetime(readonly=True)
    withdrawn_by_id = fields.Many2one("res.users", readonly=True)
    is_valid = fields.Boolean(compute="_compute_is_valid", store=True, string="Valid")

    @api.depends("withdrawn_at")
    def _compute_is_valid(self):
        for consent in self:
            consent.is_valid = not consent.withdrawn_at

    @api.depends("purpose", "pseudonym", "given_at")
    def _compute_display_name(self):
        purposes = dict(self._fields["purpose"]._description_selection(self.env))
        for consent in self:
            consent.display_name = f"{consent.pseudonym or ''} {purposes.get(consent.purpose, '')}".strip()

    _evidence_fields = frozenset(("partner_id", "company_id", "purpose", "given_at", "recorded_by_id", "text_id"))
    _withdrawal_fields = frozenset(("withdrawn_at", "withdrawn_by_id", "is_valid"))

    def init(self):
        result = super().init()
        self.env.cr.execute(registry_sql.consent_guard_sql())
        return result

    @api.model_create_multi
    def create(self, vals_list):
        vals_list = [dict(vals) for vals in vals_list]
        for vals in vals_list:
            if self._withdrawal_fields.intersection(k for k, v in vals.items() if v and k != "is_valid"):
                raise UserError(self.env._("A consent is recorded as given; withdraw it afterwards."))
            # A consent is given to the company the member belongs to, now, before this user
            # (the database sets the time too).
            member = self.env["res.partner"].browse(vals.get("partner_id")).sudo()
            if member.company_id:
                vals["company_id"] = member.company_id.id
            vals["recorded_by_id"] = self.env.uid
            vals["given_at"] = fields.Datetime.now()
        self._check_wording_is_current([vals.get("text_id") for vals in vals_list])
        return super().create(vals_list)

    @api.model
    def _check_wording_is_current(self, text_ids):
        """The ORM's side of the database guard: a consent given today is to today's wording."""
        Text = self.env["customer.consent.text"].sudo()
        texts = Text.browse(sorted({tid for tid in text_ids if tid})).exists()
        if set(texts.ids) - set(Text._current_ids(texts.company_id.ids)):
            raise UserError(
                self.env._("The consent wording shown is no longer the current one: close the dialog and enroll again.")
            )

    def write(self, vals):
        if self._evidence_fields.intersection(vals):
            raise UserError(self.env._("A consent is evidence: record a new one instead of editing it."))
        if self._withdrawal_fields.intersection(vals):
            if not self.env.context.get("customer_registry_withdrawing") or not vals.get("withdrawn_at"):
                raise UserError(
                    self.env._("A consent is withdrawn with its Withdraw button, once, and stays withdrawn.")
                )
            # Whoever calls it, a withdrawal is now and by this user (the database sets the time too).
            vals = {**vals, "withdrawn_at": fields.Datetime.now(), "withdrawn_by_id": self.env.uid}
        return super().write(vals)

    def unlink(self):  # pylint: disable=method-required-super
        # Deleted only with the member itself (the database's cascade, which bypasses this).
        self.check_access("unlink")
        raise UserError(  # pylint: disable=no-raise-unlink
            self.env._("A consent is evidence and is never deleted: withdraw it instead.")
        )

    def _erase_uncovered_health_data(self):
        members = self.filtered(lambda c: c.purpose == HEALTH).partner_id
        members.filtered(lambda p: not p.has_health_consent).sudo().write(
            {
                "registry_allergen_ids": [fields.Command.clear()],
                "registry_severe_allergen_ids": [fields.Command.clear()],
                "registry_diet_ids": [fields.Command.clear()],
            }
        )
        # The database deleted the unconfirmed allergen warnings of their orders (customer_registry_consent_flags).
        self.flush_model(["withdrawn_at"])
        self.env["pos.order.line"].invalidate_model(["registry_allergen_unconfirmed_ids"])

    def action_withdraw(self):
        """Withdraw; health data the consent covered is erased at once.

        The only way to set the withdrawal: write() refuses it, and the database
        refuses to change or clear it once set.
        """
        self.check_access("write")
        consents = self.filtered("is_valid")
        if consents:
            consents.with_context(customer_registry_withdrawing=True).write({"withdrawn_at": fields.Datetime.now()})
            consents._erase_uncovered_health_data()
        return True
