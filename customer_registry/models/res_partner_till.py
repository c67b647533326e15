import re
import unicodedata

from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import SQL, email_normalize

from .customer_identity import INVISIBLE_CATEGORIES

# Orders that count as visits and purchases.
PAID_STATES = ("paid", "done", "invoiced")
# How far back the member's usual items look, and how many the till shows.
USUAL_ITEMS_MONTHS = 6
USUAL_ITEMS_COUNT = 5
NORWEGIAN_POSTAL_CODE = re.compile(r"^\d{4}$")
POSTAL_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 -]{1,9}$")
# A phone number as people write it: an optional +, an optional area code in brackets, digit groups
# separated by one space or dash ("+47 934 56 781", "(22) 12-34-56").
PHONE = re.compile(r"^\+?(?:[0-9]+[ -]?)?(?:\([0-9]{1,4}\)[ -]?)?[0-9]+(?:[ -][0-9]+)*$")
PHONE_MAX_LENGTH = 20  # after runs of spaces are made one
EMAIL_MAX_LENGTH = 254  # RFC 5321's limit for a path
GREETING_NAME_MAX_LENGTH = 40
# What the enrollment dialog sends; anything else is refused, never dropped.
ENROLLMENT_TEXT_KEYS = ("greeting_name", "zip", "email", "phone")
ENROLLMENT_KEYS = (*ENROLLMENT_TEXT_KEYS, "consent_text_ids")
# PostgreSQL's integer ids.
MAX_ID = 2**31 - 1


def _is_id(value):
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_ID


class ResPartner(models.Model):
    """The member at the till: the panel the cashier serves from, and enrollment in one short dialog."""

    _inherit = "res.partner"  # pylint: disable=consider-merging-classes-inherited

    # The member panel

    @api.model
    def get_registry_loyalty_status(self, partner_id):
        """One call when the till selects a member: balance and tier as they stand now, and the panel."""
        if not self.env.su and not self.env.user.has_group("customer_registry.group_registry_user"):
            raise AccessError(self.env._("Only registry users and cashiers see a member's profile."))
        if not _is_id(partner_id):
            raise ValidationError(self.env._("A member is asked for by its id."))
        status = super().get_registry_loyalty_status(partner_id)
        if status is not None and self.browse(partner_id).is_registry_member:
            status = {**status, "panel": self.browse(partner_id)._registry_till_panel()}
        return status

    def _registry_till_panel(self):
        """What the cashier sees of a member: no contact data, health data only under a valid consent."""
        self.ensure_one()
        self.check_access("read")
        if self.company_id not in self.env.companies:
            raise AccessError(self.env._("This member belongs to another company."))
        member = self.sudo()
        panel = {
            "label": member.name,
            "code": member.pseudonym,
            "tier": member.loyalty_tier_id.name or False,
            "balance": member.loyalty_balance,
            "preferences": member.registry_preference_ids.mapped("name"),
            "service_notes": member.registry_service_notes or False,
            "allergens": [],
            "diets": [],
            "health_consent": member.has_health_consent,
            "last_visit": False,
            "usual_items": [],
        }
        if member.has_health_consent:
            panel["allergens"] = member.registry_allergen_ids.mapped("name")
            panel["diets"] = member.registry_diet_ids.mapped("name")
        if member.pseudonym:
            panel.update(self._registry_purchase_summary(member))
        return panel

    @api.model
    def _registry_purchase_summary(self, member):
        """Last visit and most bought products, from the orders by the member's code in its company."""
        self.env["pos.order"].flush_model(["pseudonym", "company_id", "state", "date_order"])
        self.env["pos.order.line"].flush_model(["order_id", "product_id", "qty"])
        order_filter = SQL(
            "o.pseudonym = %s AND o.company_id = %s AND o.state IN %s",
            member.pseudonym,
            member.company_id.id,
            PAID_STATES,
        )
        self.env.cr.execute(SQL("SELECT max(o.date_order) FROM pos_order o WHERE %s", order_filter))
        last_visit = self.env.cr.fetchone()[0]
        since = fields.Datetime.now() - relativedelta(months=USUAL_ITEMS_MONTHS)
        reward_products = (
            self.env["customer.loyalty.program"].sudo().search([("company_id", "=", member.company_id.id)])
        ).reward_product_id
        self.env.cr.execute(
            SQL(
                """SELECT l.product_id, sum(l.qty) AS qty FROM pos_order_line l JOIN pos_order o ON o.id = l.order_id
                    WHERE %s AND o.date_order >= %s AND NOT (l.product_id = ANY(%s))
                    GROUP BY l.product_id HAVING sum(l.qty) > 0
                    ORDER BY sum(l.qty) DESC, l.product_id LIMIT %s""",
                order_filter,
                since,
                reward_products.ids,
                USUAL_ITEMS_COUNT,
            )
        )
        rows = self.env.cr.fetchall()
        products = {product.id: product for product in self.env["product.product"].sudo().browse([r[0] for r in rows])}
        return {
            "last_visit": fields.Date.to_string(fields.Datetime.context_timestamp(self, last_visit).date())
            if last_visit
            else False,
            "usual_items": [
                {"product_id": product_id, "name": products[product_id].display_name, "qty": qty}
                for product_id, qty in rows
            ],
        }

    # Enrollment at the till

    @api.model
    def registry_enroll_at_till(self, config_id, values):
        """Enroll a customer from the till in one step: the member, its identity and its consents.

        `values`: greeting_name, zip, email, phone (all text, zip required) and consent_text_ids, the
        wording versions the customer agreed to. Returns the new member's id. Bad input is refused
        before anything is written; a failure later rolls the whole call back.
        """
        if not self.env.user.has_group("point_of_sale.group_pos_user"):
            raise AccessError(self.env._("Only a Point of Sale user enrolls members at a till."))
        if not _is_id(config_id):
            raise ValidationError(self.env._("The till is given by its id."))
        config = self.env["pos.config"].browse(config_id).exists()
        if not config:
            raise AccessError(self.env._("Only a Point of Sale user enrolls members at a till."))
        config.check_access("read")
        if not config.registry_enroll_new_customers:
            raise UserError(self.env._("This till does not enroll new customers as members (see its settings)."))
        if (
            not self.env["pos.session"]
            .sudo()
            .search_count([("config_id", "=", config.id), ("state", "=", "opened")], limit=1)
        ):
            raise UserError(self.env._("Members are enrolled at a till with an open session: open the register first."))
        company = config.company_id
        if not isinstance(values, dict):
            raise ValidationError(self.env._("The enrollment is given as named values."))
        unknown = sorted(str(key) for key in values if key not in ENROLLMENT_KEYS)
        if unknown:
            raise ValidationError(
                self.env._(
                    "The till enrolls with a greeting name, postal code, email, phone and consents only; "
                    "not kept: %s. Enter the rest in the member's identity in the backend.",
                    ", ".join(unknown),
                )
            )
        cleaned = self._registry_clean_enrollment_values(company, values)
        texts = self._registry_agreed_texts(company, values.get("consent_text_ids") or [])
        # The cashier may not write contacts: the member is created as the register does, and the
        # vault is filled by the routing of create(); the consents are recorded by this user.
        member = (
            self.sudo()
            .with_company(company)
            .create(
                {
                    "is_registry_member": True,
                    "company_id": company.id,
                    "registry_greeting_name": cleaned["greeting_name"],
                    "zip": cleaned["zip"],
                    "email": cleaned["email"],
                    "phone": cleaned["phone"],
                }
            )
        )
        if texts:
            self.env["customer.consent"].with_company(company).create(
                [{"partner_id": member.id, "purpose": text.purpose, "text_id": text.id} for text in texts]
            )
        return member.id

    @api.model
    def _registry_clean_enrollment_values(self, company, values):
        for key in ENROLLMENT_TEXT_KEYS:
            if values.get(key) and not isinstance(values[key], str):
                raise ValidationError(self.env._("The enrollment's %s is written as text.", key))
        greeting_name = (values.get("greeting_name") or "").strip()
        if len(greeting_name) > GREETING_NAME_MAX_LENGTH:
            raise ValidationError(self.env._("What the customer wants to be called fits in 40 characters."))
        zip_code = (values.get("zip") or "").strip()
        norwegian = (company.country_id.code or "NO") == "NO"
        if not zip_code:
            raise ValidationError(self.env._("Enter the customer's postal code."))
        if not (NORWEGIAN_POSTAL_CODE if norwegian else POSTAL_CODE).match(zip_code):
            raise ValidationError(
                self.env._("A postal code has four digits, e.g. 5003.")
                if norwegian
                else self.env._("This is not a postal code: use letters, digits, spaces or dashes.")
            )
        email = (values.get("email") or "").strip()
        if email:
            if len(email) > EMAIL_MAX_LENGTH:
                raise ValidationError(self.env._("An email address has at most 254 characters."))
            # An address shows what it is: no control, invisible or space characters (PostgreSQL refuses NUL).
            visible = not any(ch.isspace() or unicodedata.category(ch) in INVISIBLE_CATEGORIES for ch in email)
            email = visible and email_normalize(email, strict=True)
            if not email:
                raise ValidationError(self.env._("This is not an email address: write it as name@example.com."))
        phone = values.get("phone") or ""
        # Checked for length before it is cleaned: a megabyte of spaces is refused, not scanned.
        phone = " ".join(phone.split()) if len(phone) <= 4 * PHONE_MAX_LENGTH else phone
        if phone and (
            len(phone) > PHONE_MAX_LENGTH or not PHONE.match(phone) or not 5 <= sum(ch.isdigit() for ch in phone) <= 15
        ):
            raise ValidationError(
                self.env._(
                    "This is not a phone number: 5 to 15 digits in at most 20 characters, optionally with +, "
                    "an area code in brackets and single spaces or dashes between groups."
                )
            )
        self._check_greeting_name(greeting_name, email=email, phone=phone)
        return {
            "greeting_name": greeting_name or False,
            "zip": zip_code,
            "email": email or False,
            "phone": phone or False,
        }

    @api.model
    def _registry_agreed_texts(self, company, text_ids):
        """The wording versions agreed to: current ones of this company, one per purpose."""
        if not isinstance(text_ids, list) or not all(_is_id(i) for i in text_ids):
            raise ValidationError(self.env._("The consents agreed to are given as wording ids."))
        Text = self.env["customer.consent.text"].sudo()
        texts = Text.browse(text_ids).exists()
        current = set(Text._current_ids(company.ids))
        if len(texts) != len(set(text_ids)) or any(text.id not in current for text in texts):
            raise UserError(
                self.env._("The consent wording shown is no longer the current one: close the dialog and enroll again.")
            )
        if len(set(texts.mapped("purpose"))) != len(texts):
            raise ValidationError(self.env._("A customer agrees to each consent once."))
        return texts
