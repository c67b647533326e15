from odoo import api, fields, models

from . import registry_sql

# res.partner fields holding a member's personal data, and where each lives here.
PARTNER_TO_IDENTITY = {
    "name": "legal_name",
    "email": "email",
    "phone": "phone",
    "street": "street",
    "street2": "street2",
    "zip": "zip",
    "city": "city",
    "state_id": "state_id",
    "country_id": "country_id",
    "comment": "notes",
    "vat": "vat",
}
# Everything a member's partner row must leave empty: the routed fields and what is derived from them.
PERSONAL_PARTNER_FIELDS = (*PARTNER_TO_IDENTITY.keys() - {"name"}, "function", "website", "company_name")
# Values a member cannot have at all (the identity has no place for them): refused, never dropped.
MEMBER_REFUSED_FIELDS = ("function", "website", "company_name", "company_registry", "ref", "barcode", "image_1920")


def postal_area(zip_code):
    """The coarse, non-identifying area kept on the member: two leading digits."""
    digits = "".join(ch for ch in zip_code or "" if ch.isdigit())
    return digits[:2] if len(digits) >= 2 else False


class CustomerIdentity(models.Model):
    """A member's personal data, readable only by the personal-data group."""

    _name = "customer.identity"
    _description = "Member Identity"
    _rec_name = "legal_name"
    _rec_names_search = ["legal_name", "email", "phone"]
    _order = "id desc"
    _check_company_auto = True

    partner_id = fields.Many2one(
        "res.partner",
        string="Member",
        required=True,
        index=True,
        ondelete="cascade",
        readonly=True,
        check_company=True,
        domain=[("is_registry_member", "=", True)],
    )
    pseudonym = fields.Char(related="partner_id.pseudonym")
    company_id = fields.Many2one("res.company", required=True, index=True, default=lambda self: self.env.company)
    legal_name = fields.Char()
    email = fields.Char()
    phone = fields.Char()
    street = fields.Char()
    street2 = fields.Char()
    zip = fields.Char()
    city = fields.Char()
    state_id = fields.Many2one("res.country.state", ondelete="restrict", domain="[('country_id', '=?', country_id)]")
    country_id = fields.Many2one("res.country", ondelete="restrict")
    birthdate = fields.Date()
    vat = fields.Char(string="Tax ID", help="A private person's tax or national identity number.")
    notes = fields.Html()

    _partner_unique = models.Constraint("UNIQUE(partner_id)", "A member has exactly one identity.")

    @api.depends("pseudonym")
    def _compute_display_name(self):
        # Shown in places that do not check the right to read the identity (access-error
        # messages list the records refused): the card code only, never the legal name.
        for identity in self:
            identity.display_name = self.env._("Identity of %s", identity.pseudonym or identity.id)

    def init(self):
        result = super().init()
        self.env.cr.execute(registry_sql.identity_guard_sql())
        return result

    @api.model_create_multi
    def create(self, vals_list):
        identities = super().create(vals_list)
        identities._sync_postal_area()
        return identities

    def write(self, vals):
        result = super().write(vals)
        if "zip" in vals:
            self._sync_postal_area()
        return result

    def _sync_postal_area(self):
        for identity in self:
            identity.partner_id.sudo().with_context(
                customer_registry_postal_area_sync=True
            ).registry_postal_area = postal_area(identity.zip)
