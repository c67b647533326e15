from dateutil.relativedelta import relativedelta
from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import SQL

from .. import pseudonym as codes
from . import registry_sql
from .customer_consent import HEALTH, MARKETING
from .customer_identity import (
    MEMBER_REFUSED_FIELDS,
    PARTNER_TO_IDENTITY,
    PERSONAL_PARTNER_FIELDS,
    greeting_name_conflict,
    greeting_name_format_problem,
)
from .customer_loyalty_entry import PARTNER_GUARD

LOYALTY_COLUMNS = ("loyalty_balance", "loyalty_tier_id")

PII_GROUP = "customer_registry.group_registry_pii"


class ResPartner(models.Model):
    _inherit = "res.partner"
    _rec_names_search = ["complete_name", "email", "ref", "vat", "company_registry", "pseudonym"]

    is_registry_member = fields.Boolean(
        string="Registry Member",
        copy=False,
        index=True,
        help="Members are served by their card code; their personal data is kept apart.",
    )
    pseudonym = fields.Char(
        string="Member Code",
        copy=False,
        readonly=True,
        index=True,
        help="Random card code, printable and scannable; never derived from personal data.",
    )
    pseudonym_formatted = fields.Char(string="Card Code", compute="_compute_pseudonym_formatted")
    pseudonym_barcode_url = fields.Char(string="Card Barcode", compute="_compute_pseudonym_formatted")
    registry_greeting_name = fields.Char(
        string="Greeting Name", help="What the member asked to be called; shown instead of the name."
    )
    registry_enrolled_at = fields.Datetime(
        string="Enrolled On",
        readonly=True,
        copy=False,
        help="When the contact became a member (set by the database). A member who never bought is kept "
        "for the storage limit from this date.",
    )
    registry_postal_area = fields.Char(
        string="Postal Area",
        readonly=True,
        index=True,
        help="First two digits of the member's postal code: an area, not an address.",
    )
    registry_identity_ids = fields.One2many("customer.identity", "partner_id", string="Identity", groups=PII_GROUP)
    registry_preference_ids = fields.Many2many("customer.preference", string="Preferences")
    registry_allergen_ids = fields.Many2many(
        "customer.allergen",
        string="Allergies",
        help="Health data: can only be stored while the member's health consent is valid.",
        groups="customer_registry.group_registry_user",
    )
    registry_diet_ids = fields.Many2many(
        "customer.diet",
        string="Dietary Restrictions",
        help="Health or religious data: can only be stored while the member's health consent is valid.",
        groups="customer_registry.group_registry_user",
    )
    registry_service_notes = fields.Text(
        string="Service Notes", help="How to serve this member; no personal data here."
    )
    registry_consent_ids = fields.One2many("customer.consent", "partner_id", string="Consents")
    has_health_consent = fields.Boolean(compute="_compute_consents", store=True, compute_sudo=True)
    has_marketing_consent = fields.Boolean(compute="_compute_consents", store=True, compute_sudo=True)

    _pseudonym_unique = models.Constraint("UNIQUE(pseudonym)", "This member code is already in use.")

    def init(self):
        result = super().init()
        self.env.cr.execute(registry_sql.partner_guard_sql(self))
        # The loyalty balance and tier move only by ledger entries (see customer_loyalty_entry).
        self.env.cr.execute(PARTNER_GUARD)
        # Members enrolled before the date was kept: their identity was created at enrollment.
        self.env.cr.execute(
            """UPDATE res_partner partner
                  SET registry_enrolled_at = COALESCE(
                          (SELECT min(identity.create_date) FROM customer_identity identity
                            WHERE identity.partner_id = partner.id), partner.create_date)
                WHERE partner.is_registry_member AND partner.registry_enrolled_at IS NULL"""
        )
        return result

    @api.depends("pseudonym")
    def _compute_pseudonym_formatted(self):
        for partner in self:
            partner.pseudonym_formatted = partner.pseudonym and codes.format_code(partner.pseudonym)
            partner.pseudonym_barcode_url = (
                partner.pseudonym and f"/report/barcode/EAN13/{partner.pseudonym}?width=520&height=160&humanreadable=1"
            )

    @api.depends("registry_consent_ids.is_valid", "registry_consent_ids.purpose")
    def _compute_consents(self):
        for partner in self:
            valid = partner.registry_consent_ids.filtered("is_valid")
            partner.has_health_consent = HEALTH in valid.mapped("purpose")
            partner.has_marketing_consent = MARKETING in valid.mapped("purpose")

    @staticmethod
    def _adds_health_data(vals):
        """Whether these values link allergies or diets (the database then asks for a valid consent)."""
        for name in ("registry_allergen_ids", "registry_severe_allergen_ids", "registry_diet_ids"):
            for command in vals.get(name) or []:
                if isinstance(command, (list, tuple)) and (
                    command[0] in (fields.Command.CREATE, fields.Command.LINK)
                    or (command[0] == fields.Command.SET and command[2])
                ):
                    return True
                if isinstance(command, int):
                    return True
        return False

    def _check_health_data_consent_before(self, vals):
        """The readable refusal, before the database's."""
        consenting = (
            self.env["customer.consent"]
            .sudo()
            .search([("partner_id", "in", self.ids), ("purpose", "=", HEALTH), ("is_valid", "=", True)])
            .partner_id
        )
        for partner in self - consenting:
            raise ValidationError(
                self.env._(
                    "Allergies and dietary restrictions of %s can only be stored with the member's "
                    "valid explicit consent: record the consent first.",
                    partner.display_name,
                )
            )

    @api.constrains("registry_allergen_ids", "registry_diet_ids")
    def _check_health_data_consent(self):
        for partner in self:
            if (partner.registry_allergen_ids or partner.registry_diet_ids) and not partner.has_health_consent:
                raise ValidationError(
                    self.env._(
                        "Allergies and dietary restrictions of %s can only be stored with the member's "
                        "valid explicit consent: record the consent first.",
                        partner.display_name,
                    )
                )

    # Enrollment and routing of personal data

    @api.model
    def _new_pseudonyms(self, count):
        """`count` fresh codes, checked against the register in one query."""
        fresh = set()
        while len(fresh) < count:
            candidates = {codes.generate() for _index in range(count - len(fresh))} - fresh
            self.env.cr.execute("SELECT pseudonym FROM res_partner WHERE pseudonym = ANY(%s)", [list(candidates)])
            fresh |= candidates - {row[0] for row in self.env.cr.fetchall()}
        return list(fresh)

    @staticmethod
    def _split_personal_data(vals):
        """Pop the personal data out of partner values, keyed as on the identity."""
        return {PARTNER_TO_IDENTITY[key]: vals.pop(key) for key in list(vals) if key in PARTNER_TO_IDENTITY}

    def _check_loyalty_columns_untouched(self, vals):
        """The ORM's side of the database guard: a readable refusal instead of a database error."""
        touched = [column for column in LOYALTY_COLUMNS if column in vals]
        if not touched:
            return
        if self:
            current = self.sudo().read(touched)
            if all(
                (row[column][0] if isinstance(row[column], tuple) else row[column] or 0) == (vals[column] or 0)
                for row in current
                for column in touched
            ):
                return
        elif not any(vals[column] for column in touched):
            return
        raise UserError(
            self.env._(
                "Loyalty points and tiers only move by loyalty ledger entries: "
                "use the points adjustment of a member instead."
            )
        )

    def _check_enrollment_date_untouched(self, vals):
        # The storage limit erases a member who never bought from this date on: an earlier one,
        # imported or typed, would erase members before their time. The database sets it.
        if "registry_enrolled_at" in vals and not self.env.su:
            raise UserError(self.env._("A member's enrollment date is set when the contact becomes a member."))

    @api.model_create_multi
    def create(self, vals_list):
        vals_list = [dict(vals) for vals in vals_list]
        for vals in vals_list:
            self.browse()._check_loyalty_columns_untouched(vals)
            self.browse()._check_enrollment_date_untouched(vals)
            # Derived from the identity's postal code (written by the identity only): a value given
            # here would only wait on a contact for its enrollment, where the database refuses it.
            if not self.env.context.get("customer_registry_postal_area_sync"):
                vals.pop("registry_postal_area", None)
        self._check_parent_is_not_a_member([vals.get("parent_id") for vals in vals_list])
        # Membership, the company and personal values may come as context defaults
        # (the Members menu, the POS, an import): decide and route after them.
        refused_fields = self._registry_refused_fields()
        defaults = self.default_get(["is_registry_member", "company_id", *PERSONAL_PARTNER_FIELDS, *refused_fields])
        default_member = defaults.get("is_registry_member")
        members = [index for index, vals in enumerate(vals_list) if vals.get("is_registry_member", default_member)]
        personal = {}
        given = [self._given_pseudonym(vals_list[index]) for index in members]
        fresh = iter(self._new_pseudonyms(given.count(False)))
        for index, code in zip(members, given, strict=True):
            code = code or next(fresh)
            vals = vals_list[index]
            for field_name in (*PERSONAL_PARTNER_FIELDS, *refused_fields):
                if field_name not in vals and defaults.get(field_name):
                    vals[field_name] = defaults[field_name]
            self._check_member_values(vals)
            self._check_greeting_name(
                vals.get("registry_greeting_name"), vals.get("name"), vals.get("email"), vals.get("phone")
            )
            personal[index] = self._split_personal_data(vals)
            vals.update(dict.fromkeys(PERSONAL_PARTNER_FIELDS, False))
            vals["is_registry_member"] = True
            vals["pseudonym"] = code
            vals["name"] = vals.get("registry_greeting_name") or code
            vals["company_id"] = vals.get("company_id") or defaults.get("company_id") or self.env.company.id
        partners = super().create(vals_list)
        partners.invalidate_recordset(["registry_enrolled_at"])  # set by the database
        if personal:
            self.env["customer.identity"].sudo().create(
                [
                    {**data, "partner_id": partners[index].id, "company_id": partners[index].company_id.id}
                    for index, data in personal.items()
                ]
            )
        return partners

    def write(self, vals):
        self._check_loyalty_columns_untouched(vals)
        self._check_enrollment_date_untouched(vals)
        derived = {"has_health_consent", "has_marketing_consent"}.intersection(vals)
        if "registry_postal_area" in vals and not self.env.context.get("customer_registry_postal_area_sync"):
            derived.add("registry_postal_area")
        if derived:
            raise UserError(
                self.env._(
                    "%s follow from the member's consents and identity: record or withdraw a consent, or edit "
                    "the identity, instead.",
                    ", ".join(sorted(derived)),
                )
            )
        if vals.get("parent_id"):
            self._check_parent_is_not_a_member([vals["parent_id"]])
        profile = ("registry_greeting_name", "registry_service_notes", "registry_preference_ids", "active")
        if any(vals.get(name) for name in profile) and self.filtered("registry_erased_at"):
            raise UserError(self.env._("This member was erased: its card code points to nobody and stays so."))
        if self._adds_health_data(vals):
            self._check_health_data_consent_before(vals)
        if "pseudonym" in vals and any(p.pseudonym != vals["pseudonym"] for p in self):
            raise UserError(self.env._("A member code is given at enrollment and never changes."))
        if "is_registry_member" in vals and not vals["is_registry_member"] and any(self.mapped("is_registry_member")):
            raise UserError(
                self.env._("A member cannot be un-enrolled: archive the contact, or erase the member's personal data.")
            )
        if vals.get("is_registry_member"):
            self.filtered(lambda p: not p.is_registry_member)._enroll()
        members = self.filtered("is_registry_member")
        if not members:
            return super().write(vals)
        member_vals = dict(vals)
        member_vals.pop("is_registry_member", None)
        member_vals.pop("pseudonym", None)
        self._check_member_values(member_vals, members)
        self._check_may_change_personal_data(member_vals)
        if member_vals.get("registry_greeting_name"):
            for identity in members._registry_identity():
                self._check_greeting_name(
                    member_vals["registry_greeting_name"],
                    member_vals.get("name") or identity.legal_name,
                    member_vals.get("email") or identity.email,
                    member_vals.get("phone") or identity.phone,
                )
        personal = self._split_personal_data(member_vals)
        if personal:
            # The vault is written with sudo: check first that this user may write these members at all.
            members.check_access("write")
            members._registry_identity().write(personal)
        if "registry_greeting_name" in member_vals:
            for member in members:
                member_vals["name"] = member_vals["registry_greeting_name"] or member.pseudonym
                super(ResPartner, member).write(member_vals)
        elif member_vals:
            super(ResPartner, members).write(member_vals)
        others = self - members
        return super(ResPartner, others).write(vals) if others else True

    @api.model
    def _check_may_change_personal_data(self, member_vals):
        """The vault is written with sudo: a user who may not read a member's identity may not overwrite
        it either, nor change its greeting name (checked against the identity, a refusal would tell a
        cashier whether a guess is the member's legal name, email or phone)."""
        if member_vals.get("registry_greeting_name"):
            # Its form first (no identity value involved): the same message for every user.
            self._check_greeting_name(member_vals["registry_greeting_name"])
        if self.env.su or self.env.user.has_group(PII_GROUP):
            return
        if {"registry_greeting_name", *PARTNER_TO_IDENTITY} & set(member_vals):
            raise AccessError(
                self.env._("Only users with the right to personal data may change a member's personal data.")
            )

    @api.model
    def _given_pseudonym(self, vals):
        """The code of a pre-printed card handed over at enrollment, checked; False to draw one."""
        if not vals.get("pseudonym"):
            return False
        try:
            return codes.validate(vals["pseudonym"])
        except codes.InvalidPseudonym as error:
            raise ValidationError(str(error.args[0])) from error

    @api.model
    def _registry_refused_fields(self):
        """Fields a member leaves empty and the identity has no place for: any free text of res.partner
        (whatever module adds it), its photo, barcode, properties and coordinates."""
        names = {
            *MEMBER_REFUSED_FIELDS,
            *registry_sql.member_free_text_fields(self),
            *registry_sql.MEMBER_JSON_COLUMNS,
            *registry_sql.MEMBER_NUMBER_COLUMNS,
        }
        return [name for name in sorted(names) if name in self._fields and name not in PARTNER_TO_IDENTITY]

    @api.model
    def _check_member_values(self, vals, members=None):
        """Refuse, with a reason, what a member cannot have (before anything is written)."""
        refused = [name for name in self._registry_refused_fields() if vals.get(name)]
        if refused:
            labels = ", ".join(self._fields[name]._description_string(self.env) for name in refused)
            raise UserError(
                self.env._(
                    "A registry member keeps no %(fields)s: members are served by card code and their "
                    "personal data lives in the identity (its notes take anything else).",
                    fields=labels,
                )
            )
        if vals.get("is_company") or vals.get("parent_id"):
            raise UserError(
                self.env._(
                    "A registry member is a private person on its own: it cannot be a company or a contact "
                    "of another partner."
                )
            )
        if members and "company_id" in vals and any(m.company_id.id != vals["company_id"] for m in members):
            raise UserError(
                self.env._(
                    "A member stays in the company that enrolled it: its points, consents and identity are there."
                )
            )

    @api.model
    def _check_greeting_name(self, greeting_name, legal_name=None, email=None, phone=None):
        """The label every till loads: a name that shows, and nothing of the identity (the database checks
        the identity's values too)."""
        problem = greeting_name_format_problem(self.env, greeting_name) or greeting_name_conflict(
            self.env, greeting_name, legal_name, email, phone
        )
        if problem:
            raise ValidationError(problem)

    @api.ondelete(at_uninstall=False)
    def _unlink_members_by_personal_data_users_only(self):
        if self.filtered("is_registry_member") and not self.env.su and not self.env.user.has_group(PII_GROUP):
            raise UserError(
                self.env._(
                    "A registry member's record holds consent evidence and purchase history: only personal-data "
                    "users delete it (or erase the member's personal data)."
                )
            )

    @api.model
    def _check_parent_is_not_a_member(self, parent_ids):
        """Refused before anything is written (the database refuses it too)."""
        if self.sudo().browse([pid for pid in parent_ids if pid]).filtered("is_registry_member"):
            raise UserError(
                self.env._(
                    "Registry members have no child contacts (invoice, delivery or other addresses): their "
                    "addresses live in the identity, readable by personal-data users only."
                )
            )

    def _registry_identity(self):
        return self.env["customer.identity"].sudo().search([("partner_id", "in", self.ids)])

    def _check_can_enroll(self):
        """Contacts that cannot become pseudonymous members, with the reason."""
        for partner in self:
            reason = partner._registry_enroll_refusal()
            if reason:
                raise UserError(
                    self.env._("This contact cannot become a registry member. ") + reason % partner.sudo().name
                )

    def _registry_enroll_refusal(self):
        """Why this contact cannot become a pseudonymous member (a message with %s for its name), or None."""
        self.ensure_one()
        partner = self.sudo().with_context(active_test=False)
        reason = None
        if partner.user_ids:
            reason = self.env._("%s is the contact of a user: its name and email are the user's login data.")
        elif self.env["res.company"].sudo().search_count([("partner_id", "=", partner.id)], limit=1):
            reason = self.env._("%s is the contact of a company of this database.")
        elif partner.is_company:
            reason = self.env._("%s is a company: only private persons become members.")
        elif partner.parent_id:
            reason = self.env._("%s is a contact of another partner: only persons on their own become members.")
        elif partner.bank_ids:
            reason = self.env._("%s has bank accounts: remove them first, a member keeps no bank details.")
        elif (
            self.env["account.move"]
            .sudo()
            .search_count([("partner_id", "=", partner.id), ("move_type", "like", "out_%")], limit=1)
        ):
            reason = self.env._(
                "%s has customer invoices, which carry its name and address: keep it as an ordinary contact."
            )
        elif (
            self.env["pos.order"]
            .sudo()
            .search_count(
                [
                    ("partner_id", "=", partner.id),
                    ("company_id", "!=", (partner.company_id or self.env.company).id),
                ],
                limit=1,
            )
        ):
            reason = self.env._("%s has orders in another company: a member belongs to one company.")
        elif partner.image_1920:
            reason = self.env._("%s has a photo: remove it first, a member's record holds no picture of them.")
        elif partner.child_ids:
            reason = self.env._(
                "%s has child contacts (addresses or people): archive or detach them first, members "
                "keep their addresses in the identity."
            )
        return reason

    def _enroll(self):
        """Make existing contacts members: their personal data moves to an identity."""
        if not self:
            return
        self.check_access("write")
        self._check_can_enroll()
        identity_fields = list(PARTNER_TO_IDENTITY)
        identities = []
        for partner, code in zip(self.sudo(), self._new_pseudonyms(len(self)), strict=True):
            data = partner._convert_to_write(partner.read(identity_fields)[0])
            data.pop("id", None)
            company = partner.company_id or self.env.company
            identities.append(
                {
                    **{PARTNER_TO_IDENTITY[key]: value for key, value in data.items()},
                    "partner_id": partner.id,
                    "company_id": company.id,
                }
            )
            # What the identity has no field for is kept in its notes rather than lost.
            refused_fields = [name for name in self._registry_refused_fields() if name != "image_1920"]
            extra = [
                f"{partner._fields[name]._description_string(self.env)}: {partner[name]}"
                for name in refused_fields
                if partner[name]
            ]
            if extra:
                identities[-1]["notes"] = Markup("%s<p>%s</p>") % (
                    identities[-1].get("notes") or "",
                    Markup("<br/>").join(extra),
                )
            cleared = dict.fromkeys(PERSONAL_PARTNER_FIELDS, False)
            cleared.update(dict.fromkeys(refused_fields, False))
            # A greeting name typed before enrollment was never compared with the contact's name, email
            # and phone (now the identity's): one that holds them would show the legal name at every
            # till. It goes, and the label is the card code; the identity keeps the values.
            greeting_name = partner.registry_greeting_name
            if greeting_name and greeting_name_conflict(
                self.env,
                greeting_name,
                identities[-1].get("legal_name"),
                identities[-1].get("email"),
                identities[-1].get("phone"),
            ):
                greeting_name = cleared["registry_greeting_name"] = False
            cleared.update(
                # Derived from the identity's postal code, set again when the identity is created.
                registry_postal_area=False,
                name=greeting_name or code,
                pseudonym=code,
                is_registry_member=True,
                company_id=company.id,
            )
            # Plain write: this method does the routing of personal data that write() would redo.
            super(ResPartner, partner.with_context(tracking_disable=True)).write(cleared)  # pylint: disable=super-method-mismatch
        # The partner rows first: the database accepts an identity for a member only.
        self.flush_recordset()
        self.invalidate_recordset(["registry_enrolled_at"])  # set by the database
        self.env["customer.identity"].sudo().create(identities)
        self._forget_tracked_personal_data()
        # Orders rung up before enrollment kept the contact's email and phone.
        self.env["pos.order"].sudo().search([("partner_id", "in", self.ids)])._registry_forget_contact_details()

    def _forget_tracked_personal_data(self):
        """Chatter tracking kept the contact's old names, emails and addresses: drop them.

        Every value tracked on the contact before enrollment is personal data or
        derived from it (name, email, phone, VAT, inlined address...), and so is
        what this transaction would still track at commit.
        """
        self._track_discard()
        self.env.flush_all()
        # Values that name the contact elsewhere: many2one tracking of it on other documents, the
        # address of messages it wrote, the record name of activities on it.
        self.env.cr.execute(
            SQL(
                """-- The other document's history stays (and the other side of a change, another
                -- customer's): the contact's side shows its card code instead of its name.
                UPDATE mail_tracking_value value SET old_value_char = partner.pseudonym
                  FROM ir_model_fields field, res_partner partner
                 WHERE value.field_id = field.id AND field.relation = 'res.partner'
                   AND value.old_value_integer = partner.id AND partner.id = ANY(%(ids)s);
                UPDATE mail_tracking_value value SET new_value_char = partner.pseudonym
                  FROM ir_model_fields field, res_partner partner
                 WHERE value.field_id = field.id AND field.relation = 'res.partner'
                   AND value.new_value_integer = partner.id AND partner.id = ANY(%(ids)s);
                UPDATE mail_message SET email_from = NULL, reply_to = NULL
                 WHERE author_id = ANY(%(ids)s) AND (email_from IS NOT NULL OR reply_to IS NOT NULL);
                UPDATE mail_activity activity SET res_name = partner.name FROM res_partner partner
                 WHERE activity.res_model = 'res.partner' AND activity.res_id = partner.id
                   AND partner.id = ANY(%(ids)s);""",
                ids=self.ids,
            )
        )
        self.env["mail.message"].invalidate_model(["email_from", "reply_to"])
        self.env["mail.activity"].invalidate_model(["res_name"])
        self.env.cr.execute(
            SQL(
                """DELETE FROM mail_tracking_value value USING mail_message message
                 WHERE value.mail_message_id = message.id
                   AND message.model = 'res.partner' AND message.res_id = ANY(%s)""",
                self.ids,
            )
        )
        self.env["mail.tracking.value"].invalidate_model()

    @api.model
    def find_by_pseudonym(self, code):
        """The member with this card code; empty if unknown, ValidationError if malformed."""
        try:
            value = codes.validate(code)
        except codes.InvalidPseudonym as error:
            raise ValidationError(str(error.args[0])) from error
        return self.search([("pseudonym", "=", value)], limit=1)

    def action_open_identity(self):
        self.ensure_one()
        identity = self._registry_identity()
        identity.check_access("read")
        return {
            "type": "ir.actions.act_window",
            "res_model": "customer.identity",
            "res_id": identity.id,
            "view_mode": "form",
            "target": "current",
        }

    # Point of Sale

    @api.model
    def _load_pos_data_fields(self, config):
        return [
            *super()._load_pos_data_fields(config),
            "pseudonym",
            "is_registry_member",
            "loyalty_balance",
            "loyalty_tier_name",
        ]

    @api.model
    def get_registry_loyalty_status(self, partner_id):
        """The member's balance and tier as they stand now: the till asks when the member is selected."""
        member = self.browse(partner_id)
        member.check_access("read")
        if not member.is_registry_member:
            return {}
        # The ledger moves both columns by SQL: read what the database holds now.
        member.invalidate_recordset(["loyalty_balance", "loyalty_tier_id", "loyalty_tier_name"])
        return {"loyalty_balance": member.loyalty_balance, "loyalty_tier_name": member.loyalty_tier_name or False}

    @api.model
    def get_new_partner(self, config_id, domain, offset):
        code = self._typed_member_code(domain)
        if code:
            domain = [("pseudonym", "=", code)]
        return super().get_new_partner(config_id, domain, offset)

    @staticmethod
    def _typed_member_code(domain):
        """The member code a cashier typed in the POS customer search, if any."""
        for leaf in domain:
            if isinstance(leaf, (list, tuple)) and len(leaf) == 3 and leaf[0] == "name":
                term = str(leaf[2]).rstrip("%")
                if codes.is_valid(term):
                    return codes.compact(term)
        return False

    # Loyalty:
    # Loyalty balance and tier of a member, stored beside the member.
    # Both columns are only moved by the ledger: the trigger posting an entry moves them in the same statement,
    # and a trigger on res_partner refuses any other move (see customer_loyalty_entry). Reading a balance never
    # sums the history.

    loyalty_balance = fields.Integer(
        string="Loyalty Points",
        readonly=True,
        copy=False,
        groups="customer_registry.group_registry_user",
    )
    loyalty_tier_id = fields.Many2one(
        "customer.loyalty.tier",
        readonly=True,
        copy=False,
        ondelete="set null",
        groups="customer_registry.group_registry_user",
    )
    loyalty_tier_name = fields.Char(related="loyalty_tier_id.name", string="Tier Name")
    loyalty_entry_ids = fields.One2many(
        "customer.loyalty.entry",
        "member_id",
        string="Loyalty Entries",
        readonly=True,
        groups="customer_registry.group_registry_user",
    )
    loyalty_entry_count = fields.Integer(
        compute="_compute_loyalty_entry_count", groups="customer_registry.group_registry_user"
    )

    def _compute_loyalty_entry_count(self):
        counts = dict(
            self.env["customer.loyalty.entry"]._read_group([("member_id", "in", self.ids)], ["member_id"], ["__count"])
        )
        for partner in self:
            partner.loyalty_entry_count = counts.get(partner, 0)

    def action_open_loyalty_entries(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("customer_registry.action_customer_loyalty_entry")
        action["domain"] = [("member_id", "=", self.id)]
        action["context"] = {"default_member_id": self.id}
        return action

    def action_open_loyalty_adjustment(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Adjust Loyalty Points"),
            "res_model": "customer.loyalty.adjustment",
            "view_mode": "form",
            "target": "new",
            "context": {"default_member_id": self.id},
        }

    @api.model
    def _loyalty_spend_since(self):
        return fields.Datetime.now() - relativedelta(months=12)

    def _recompute_loyalty_tier(self):
        """Tier from each member's rolling spend in its company (one query for all): tier change entries."""
        members = self.filtered("is_registry_member")
        if not members:
            return
        self.env["pos.order"].flush_model(["partner_id", "state", "amount_total", "date_order", "company_id"])
        self.env["pos.order.line"].flush_model(["order_id", "refunded_orderline_id"])
        Entry = self.env["customer.loyalty.entry"].sudo()
        self.env.cr.execute(
            SQL(
                """SELECT partner.id, partner.company_id, partner.loyalty_tier_id, %s
                 FROM res_partner partner
                WHERE partner.id = ANY(%s) AND partner.company_id IS NOT NULL""",
                Entry._spend_sql(self._loyalty_spend_since()),
                members.ids,
            )
        )
        Program = self.env["customer.loyalty.program"]
        for member_id, company_id, current_tier, spend in self.env.cr.fetchall():
            program = Program._for_company(company_id)
            tier_id = program._tier_for_spend(float(spend))[0] if program else False
            if (tier_id or None) != current_tier:
                Entry._set_tier(
                    self.browse(member_id),
                    tier_id,
                    program=program or None,
                    note=self.env._("Rolling 12-month spend: %s", spend),
                )

    @api.model
    def _cron_recompute_loyalty_tiers(self, batch_size=1000):
        last_id = 0
        while True:
            members = self.search(
                [("is_registry_member", "=", True), ("id", ">", last_id)], order="id", limit=batch_size
            )
            if not members:
                break
            members._recompute_loyalty_tier()
            last_id = members[-1].id
            self.env["ir.cron"]._commit_progress(len(members))
