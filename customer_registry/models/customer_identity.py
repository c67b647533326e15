import unicodedata

from odoo import api, fields, models
from odoo.exceptions import ValidationError

from .. import pseudonym as codes
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


# A greeting name with this many digits reads as a phone or card number, not a name.
GREETING_NAME_MAX_DIGITS = 4
# Unicode categories a greeting name never holds: control, format (zero-width, direction marks),
# surrogate and private-use characters. Letters, marks, numbers, punctuation and symbols show.
INVISIBLE_CATEGORIES = ("Cc", "Cf", "Cs", "Co")


def _digits(text):
    return "".join(ch for ch in text or "" if ch in "0123456789")


def greeting_name_format_problem(env, greeting_name):
    """Why a greeting name cannot be shown to every cashier, whoever the member is, or ""."""
    if not greeting_name:
        return ""
    if not isinstance(greeting_name, str):
        return env._("What the customer wants to be called is written as text.")
    if any(unicodedata.category(ch) in INVISIBLE_CATEGORIES for ch in greeting_name) or not any(
        unicodedata.category(ch)[0] not in "ZC" for ch in greeting_name
    ):
        return env._(
            "What the customer wants to be called needs letters that show, and no line breaks, "
            "control or invisible characters."
        )
    if "@" in greeting_name or len(_digits(greeting_name)) > GREETING_NAME_MAX_DIGITS or codes.is_valid(greeting_name):
        return env._(
            "The name a member is greeted by is shown to every cashier: it cannot hold an email address, "
            "a phone number or a card code. Use a first name or a nickname."
        )
    return ""


def greeting_name_conflict(env, greeting_name, legal_name=None, email=None, phone=None):
    """Why a greeting name gives away the member's identity (legal name, email or phone), or ""."""
    if not greeting_name or not isinstance(greeting_name, str):
        return ""
    folded = greeting_name.casefold()
    if legal_name and legal_name.strip() and legal_name.strip().casefold() in folded:
        return env._(
            "The name a member is greeted by is shown to every cashier: it cannot hold the legal name. "
            "Use a first name or a nickname."
        )
    greeting_digits, phone_digits = _digits(greeting_name), _digits(phone)
    if (email and email.strip() and email.strip().casefold() in folded) or (
        len(greeting_digits) > GREETING_NAME_MAX_DIGITS
        and len(phone_digits) > GREETING_NAME_MAX_DIGITS
        and (phone_digits in greeting_digits or greeting_digits in phone_digits)
    ):
        return env._(
            "The name a member is greeted by is shown to every cashier: it cannot hold the member's "
            "email or phone. Use a first name or a nickname."
        )
    return ""


# The identity's values the member's label is compared with.
IDENTITY_KEYS = ("legal_name", "email", "phone")


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
        for vals in vals_list:
            member = self.env["res.partner"].sudo().browse(vals.get("partner_id"))
            self._check_greeting_name_keeps_identity(member[:1], vals)
        identities = super().create(vals_list)
        identities._sync_postal_area()
        return identities

    def write(self, vals):
        if {"legal_name", "email", "phone", "partner_id"}.intersection(vals):
            for identity in self.sudo():
                member = self.env["res.partner"].sudo().browse(vals.get("partner_id") or identity.partner_id.id)
                self._check_greeting_name_keeps_identity(member, {**identity.read(IDENTITY_KEYS)[0], **vals})
        result = super().write(vals)
        if "zip" in vals:
            self._sync_postal_area()
        return result

    @api.model
    def _check_greeting_name_keeps_identity(self, member, vals):
        """The ORM's side of the database guard, before anything is written: the label every till shows
        holds none of the identity's legal name, email or phone."""
        problem = greeting_name_conflict(
            self.env, member.registry_greeting_name, vals.get("legal_name"), vals.get("email"), vals.get("phone")
        )
        if problem:
            raise ValidationError(problem)

    def _sync_postal_area(self):
        for identity in self:
            identity.partner_id.sudo().with_context(
                customer_registry_postal_area_sync=True
            ).registry_postal_area = postal_area(identity.zip)
