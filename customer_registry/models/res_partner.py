from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import SQL

from .. import pseudonym as codes
from .customer_consent import HEALTH, MARKETING
from .customer_identity import PARTNER_TO_IDENTITY
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
    )
    registry_diet_ids = fields.Many2many(
        "customer.diet",
        string="Dietary Restrictions",
        help="Health or religious data: can only be stored while the member's health consent is valid.",
    )
    registry_service_notes = fields.Text(
        string="Service Notes", help="How to serve this member; no personal data here."
    )
    registry_consent_ids = fields.One2many("customer.consent", "partner_id", string="Consents")
    has_health_consent = fields.Boolean(compute="_compute_consents", store=True, compute_sudo=True)
    has_marketing_consent = fields.Boolean(compute="_compute_consents", store=True, compute_sudo=True)

    _pseudonym_unique = models.Constraint("UNIQUE(pseudonym)", "This member code is already in use.")

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

    def init(self):
        result = super().init()
        # The loyalty balance and tier move only by ledger entries (see customer_loyalty_entry).
        self.env.cr.execute(PARTNER_GUARD)
        return result

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

    def _loyalty_members_with_entries(self, company_id):
        """Members of `self` moving to another company although they have ledger entries."""
        moving = self.filtered(lambda partner: partner.is_registry_member and partner.company_id.id != company_id)
        if not moving:
            return moving
        return self.env["customer.loyalty.entry"].sudo().search([("member_id", "in", moving.ids)]).member_id

    @api.model_create_multi
    def create(self, vals_list):
        vals_list = [dict(vals) for vals in vals_list]
        for vals in vals_list:
            self.browse()._check_loyalty_columns_untouched(vals)
        personal = {}
        members = [index for index, vals in enumerate(vals_list) if vals.get("is_registry_member")]
        for index, code in zip(members, self._new_pseudonyms(len(members)), strict=True):
            vals = vals_list[index]
            # A member belongs to the company that enrolled it: its points and tier are that company's.
            vals.setdefault("company_id", self.env.company.id)
            vals["company_id"] = vals["company_id"] or self.env.company.id
            personal[index] = self._split_personal_data(vals)
            vals["pseudonym"] = code
            vals["name"] = vals.get("registry_greeting_name") or code
        partners = super().create(vals_list)
        if personal:
            self.env["customer.identity"].sudo().create(
                [
                    {
                        **data,
                        "partner_id": partners[index].id,
                        "company_id": partners[index].company_id.id or self.env.company.id,
                    }
                    for index, data in personal.items()
                ]
            )
        return partners

    def write(self, vals):
        self._check_loyalty_columns_untouched(vals)
        if "company_id" in vals and self._loyalty_members_with_entries(vals["company_id"]):
            raise UserError(
                self.env._("A member with loyalty entries stays in the company that enrolled it: its points are there.")
            )
        if "pseudonym" in vals and any(p.pseudonym and p.pseudonym != vals["pseudonym"] for p in self):
            raise UserError(self.env._("A member code never changes once given."))
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
        personal = self._split_personal_data(member_vals)
        if personal:
            members._registry_identity().write(personal)
        if "registry_greeting_name" in member_vals:
            for member in members:
                member_vals["name"] = member_vals["registry_greeting_name"] or member.pseudonym
                super(ResPartner, member).write(member_vals)
        elif member_vals:
            super(ResPartner, members).write(member_vals)
        others = self - members
        return super(ResPartner, others).write(vals) if others else True

    def _registry_identity(self):
        return self.env["customer.identity"].sudo().search([("partner_id", "in", self.ids)])

    def _enroll(self):
        """Make existing contacts members: their personal data moves to an identity."""
        if not self:
            return
        identity_fields = list(PARTNER_TO_IDENTITY)
        identities = []
        for partner, code in zip(self.sudo(), self._new_pseudonyms(len(self)), strict=True):
            data = partner._convert_to_write(partner.read(identity_fields)[0])
            data.pop("id", None)
            identities.append(
                {
                    **{PARTNER_TO_IDENTITY[key]: value for key, value in data.items()},
                    "partner_id": partner.id,
                    "company_id": partner.company_id.id or self.env.company.id,
                }
            )
            cleared = dict.fromkeys(identity_fields, False)
            cleared.update(
                name=partner.registry_greeting_name or code,
                pseudonym=code,
                is_registry_member=True,
                company_id=partner.company_id.id or self.env.company.id,
            )
            # Plain write: this method does the routing of personal data that write() would redo.
            super(ResPartner, partner.with_context(tracking_disable=True)).write(cleared)  # pylint: disable=super-method-mismatch
        self.env["customer.identity"].sudo().create(identities)
        self._forget_tracked_personal_data()

    def _forget_tracked_personal_data(self):
        """Chatter tracking kept old names and emails: drop those values too."""
        self.env["mail.tracking.value"].sudo().search(
            [
                ("mail_message_id.model", "=", "res.partner"),
                ("mail_message_id.res_id", "in", self.ids),
                ("field_id.name", "in", list(PARTNER_TO_IDENTITY)),
            ]
        ).unlink()

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
