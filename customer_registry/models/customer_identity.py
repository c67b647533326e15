import logging
import re
import unicodedata
from datetime import date

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import SQL, email_normalize
from odoo.tools.misc import OrderedSet

from .. import pseudonym as codes
from .. import sealing
from . import registry_sql
from .customer_identity_audit import request_channel

_logger = logging.getLogger(__name__)
COLLECTION_TYPES = (list, tuple, set, frozenset, OrderedSet)

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


# Identity values sealed together (one ciphertext per row) when an encryption key is configured.
SEALED_FIELDS = ("legal_name", "email", "phone", "street", "street2", "zip", "city", "birthdate", "vat", "notes")
# Identity values whose reading is audited (the sealed ones and the address's state and country).
AUDITED_FIELDS = frozenset((*SEALED_FIELDS, "state_id", "country_id"))
# A whole address (after email_normalize): a domain with a dot, no wildcard or space in it.
VALID_EMAIL = re.compile(r"[^@\s]+@[^@\s%_]+\.[^@\s%_]+")
# Identity values with a keyed blind index, searchable by exact value while sealed.
BLIND_INDEXED = {"email": "email_index", "phone": "phone_index"}
# What the ORM computes from the values and the keys: never written by hand (a sealed text copied
# from another row would open there, its values read under this member's code).
SEALING_FIELDS = frozenset(("sealed_values", "key_version", "email_index", "phone_index", "index_key_version"))
# Readable by no user (the ORM reads them as superuser): see security/customer_registry_groups.xml.
SEALING_INTERNALS = "customer_registry.group_registry_sealing_internals"


class _Sealed:
    """A column left empty while identity values are sealed: the value lives in the row's sealed text.

    Reading a sealed row fills the cache from the decrypted text (see
    ``CustomerIdentity._fetch_query``); searching it works by exact value
    through the blind index for emails and phones, and is refused otherwise.
    """

    sealed = True

    def convert_to_column_insert(self, value, record, values=None, validate=True):
        if sealing.current_version():
            return None
        return super().convert_to_column_insert(value, record, values, validate)

    def get_column_update(self, record):
        if sealing.current_version():
            return None
        return super().get_column_update(record)

    def condition_to_sql(self, field_expr, operator, value, model, alias, query):
        if not sealing.current_version() or field_expr != self.name:
            condition = super().condition_to_sql(field_expr, operator, value, model, alias, query)
        else:
            condition = self._blind_index_condition(operator, value, model, alias, query)
        if not model.env.su:
            # A search by a personal value tells whose value it is (a count of 1 for a guessed email):
            # audited like a read, naming the members the condition matches.
            model.env["customer.identity.audit"]._record_search(self.name, condition, alias)
        return condition

    def _blind_index_condition(self, operator, value, model, alias, query):
        index_name = BLIND_INDEXED.get(self.name)
        # Exact values only: an ilike turned into an exact match would find nothing and say nothing.
        if index_name is None or operator not in ("=", "in"):
            raise UserError(
                model.env._(
                    "Identity values are encrypted: search members by card code, or by their exact email or phone."
                )
            )
        values = list(value) if isinstance(value, COLLECTION_TYPES) else [value]
        digests = [digest for item in values if item for digest in sealing.blind_index_candidates(self.name, item)]
        # The index column is readable by no user: the condition on the value asked for was checked.
        column = model.sudo()._field_to_sql(alias, index_name, query)
        conditions = []
        if digests:
            conditions.append(SQL("%s IN %s", column, tuple(digests)))
        if any(item is False or item is None for item in values):
            conditions.append(SQL("%s IS NULL", column))
        return SQL("(%s)", SQL(" OR ").join(conditions)) if conditions else SQL("FALSE")


class SealedChar(_Sealed, fields.Char):
    pass


class SealedDate(_Sealed, fields.Date):
    pass


class SealedHtml(_Sealed, fields.Html):
    pass


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
    # Stored beside the identity: the audit of a read names the codes read without a query more.
    pseudonym = fields.Char(related="partner_id.pseudonym", store=True)
    company_id = fields.Many2one("res.company", required=True, index=True, default=lambda self: self.env.company)
    legal_name = SealedChar()
    email = SealedChar()
    phone = SealedChar()
    street = SealedChar()
    street2 = SealedChar()
    zip = SealedChar()
    city = SealedChar()
    state_id = fields.Many2one("res.country.state", ondelete="restrict", domain="[('country_id', '=?', country_id)]")
    country_id = fields.Many2one("res.country", ondelete="restrict")
    birthdate = SealedDate()
    vat = SealedChar(string="Tax ID", help="A private person's tax or national identity number.")
    notes = SealedHtml()
    # Encryption at rest (see sealing.py): the identity's values sealed together, and the key version.
    sealed_values = fields.Text(
        compute="_compute_sealed_values", store=True, readonly=True, copy=False, groups=SEALING_INTERNALS
    )
    key_version = fields.Integer(
        compute="_compute_sealed_values",
        store=True,
        readonly=True,
        copy=False,
        index=True,
        help="Version of the key that sealed this identity's values; 0: stored as plain text.",
    )
    # Keyed blind index (HMAC) of the normalised email and phone: the "forgot my card" lookup.
    email_index = fields.Char(
        compute="_compute_blind_index", store=True, readonly=True, copy=False, index=True, groups=SEALING_INTERNALS
    )
    phone_index = fields.Char(
        compute="_compute_blind_index", store=True, readonly=True, copy=False, index=True, groups=SEALING_INTERNALS
    )
    index_key_version = fields.Integer(
        compute="_compute_blind_index", store=True, readonly=True, copy=False, index=True
    )

    _partner_unique = models.Constraint("UNIQUE(partner_id)", "A member has exactly one identity.")

    @api.depends("pseudonym")
    def _compute_display_name(self):
        # Shown in places that do not check the right to read the identity (access-error
        # messages list the records refused): the card code only, never the legal name.
        for identity in self:
            identity.display_name = self.env._("Identity of %s", identity.pseudonym or identity.id)

    @api.depends(*SEALED_FIELDS)
    def _compute_sealed_values(self):
        version = sealing.current_version()
        for identity in self:
            if not version:
                identity.sealed_values = False
                identity.key_version = 0
                continue
            values = {}
            for name in SEALED_FIELDS:
                value = identity[name]
                values[name] = fields.Date.to_string(value) if name == "birthdate" and value else (value or None)
                if values[name] is not None:
                    values[name] = str(values[name])
            # Bound to the row: a text copied to another identity does not open there. A record not
            # saved yet (a form's onchange) has no row to bind to; it is sealed when saved.
            identity.sealed_values = sealing.seal(values, identity.id) if isinstance(identity.id, int) else False
            identity.key_version = version

    @api.depends("email", "phone")
    def _compute_blind_index(self):
        version = sealing.current_index_version()
        for identity in self:
            identity.email_index = sealing.blind_index("email", identity.email)
            identity.phone_index = sealing.blind_index("phone", identity.phone)
            identity.index_key_version = version

    def _fetch_query(self, query, fields):
        sealed = [field for field in fields if getattr(field, "sealed", False)]
        if not sealed:
            return super()._fetch_query(query, fields)
        # The sealed text, and what the read's audit entry names (the code, the company).
        extra = [self._fields[name] for name in ("sealed_values", "pseudonym", "company_id")]
        version = sealing.current_version()
        # Sealed rows keep their plain columns empty: with a key, fetch the sealed text instead.
        fetched = fields if not version else (field for field in fields if field not in sealed)
        # As superuser: no user may read the sealed text (the query keeps the reader's access rules).
        records = self.browse(
            super(CustomerIdentity, self.sudo())._fetch_query(query, OrderedSet([*fetched, *extra]))._ids
        )
        # The values asked for: a read of some fields opens every text, but fills only their caches.
        plain = records._unseal_into_cache([field.name for field in sealed])
        if plain and version:
            # Rows not sealed yet (before the key-rotation command has run): their columns.
            super(CustomerIdentity, plain)._fetch_query(plain._as_query(ordered=False), sealed)
        return records

    def _unseal_into_cache(self, names):
        """Fill the cache of the sealed fields `names` with the values sealed in each row (one decryption per identity).

        Values written in this transaction and not flushed yet are kept: the
        fetch does not overwrite them either. Returns the records without a
        sealed text, whose values are in their columns.
        """
        tokens = self._fields["sealed_values"]._get_cache(self.env)
        ids = self._ids
        texts = list(map(tokens.get, ids))
        plain = self.browse()
        if not all(texts):
            plain = self.browse([record_id for record_id, text in zip(ids, texts, strict=True) if not text])
            ids = [record_id for record_id, text in zip(ids, texts, strict=True) if text]
            texts = list(filter(None, texts))
        try:
            columns = sealing.unseal_columns(texts, ids, names)
        except sealing.SealingError as error:
            raise UserError(
                self.env._(
                    "This member's identity is encrypted and cannot be read: %s. Configure the key "
                    "(customer_registry_keys) in the Odoo configuration file.",
                    error,
                )
            ) from error
        dirty = self.env.transaction.field_dirty
        for name, values in columns.items():
            field = self._fields[name]
            if field.type == "date" and any(values):
                values = [value and date.fromisoformat(value) for value in values]
            cache = field._get_cache(self.env)
            dirty_ids = dirty.get(field)
            if dirty_ids:
                cache.update(
                    (record_id, value)
                    for record_id, value in zip(ids, values, strict=True)
                    if record_id not in dirty_ids
                )
            else:
                # Strings as sealed: Char and Html values are cached as they are, None for empty.
                cache.update(zip(ids, values, strict=True))
        return plain

    def _registry_reseal(self):
        """Seal (or re-seal under the current key) and re-index these identities, emptying their plain columns."""
        if not self:
            return
        version = sealing.current_version()
        for name in SEALED_FIELDS:
            self.mapped(name)  # decrypted or plain, into the cache before the row changes
        self.env.add_to_compute(self._fields["sealed_values"], self)
        self.env.add_to_compute(self._fields["key_version"], self)
        for name in ("email_index", "phone_index", "index_key_version"):
            self.env.add_to_compute(self._fields[name], self)
        self.flush_recordset()
        if version:
            self.env.cr.execute(
                SQL(
                    "UPDATE customer_identity SET %s WHERE id = ANY(%s)",
                    SQL(", ").join(SQL("%s = NULL", SQL.identifier(name)) for name in SEALED_FIELDS),
                    self.ids,
                )
            )

    @api.model
    def _registry_key_versions(self):
        return sealing.current_version(), sealing.current_index_version()

    @api.model
    def _registry_reseal_pending_sql(self, select):
        """Identities not yet sealed and indexed under the current keys (or still holding plain columns)."""
        version, index_version = self._registry_key_versions()
        plain_columns = SQL(" OR ").join(SQL("%s IS NOT NULL", SQL.identifier(name)) for name in SEALED_FIELDS)
        self.env.flush_all()
        return SQL(
            """SELECT %(select)s FROM customer_identity
                WHERE key_version IS DISTINCT FROM %(version)s
                   OR index_key_version IS DISTINCT FROM %(index_version)s
                   OR (%(version)s > 0 AND ((%(plain)s) OR NOT starts_with(sealed_values, %(prefix)s)))""",
            select=select,
            version=version,
            index_version=index_version,
            plain=plain_columns,
            # Sealed in an earlier form (names in each text, URL-safe base64): re-sealed in the current one.
            prefix=f"{sealing.PREFIX}{version}{sealing.SEPARATOR}",
        )

    @api.model
    def _registry_reseal_pending_count(self):
        self.env.cr.execute(self._registry_reseal_pending_sql(SQL("count(*)")))
        return self.env.cr.fetchone()[0]

    @api.model
    def _registry_reseal_batch(self, limit=500):
        """Re-seal and re-index the next `limit` identities not yet under the current keys; how many."""
        self.env.cr.execute(SQL("%s ORDER BY id LIMIT %s", self._registry_reseal_pending_sql(SQL("id")), limit))
        identities = self.sudo().browse([row[0] for row in self.env.cr.fetchall()])
        identities._registry_reseal()
        return len(identities)

    def init(self):
        result = super().init()
        self.env.cr.execute(registry_sql.identity_guard_sql())
        return result

    @api.model
    def _check_sealing_not_written(self, vals):
        if not self.env.su and SEALING_FIELDS.intersection(vals):
            raise UserError(
                self.env._(
                    "An identity's encrypted text and blind index are computed from its values: they are not written."
                )
            )

    @api.model
    def _check_email_format(self, vals):
        """One well-formed address, or none: erasure removes mails by the member's whole address."""
        email = vals.get("email")
        normalized = email and email_normalize(email)
        if email and not (normalized and VALID_EMAIL.fullmatch(normalized)):
            raise ValidationError(
                self.env._("The email address is not valid: type one full address, like name@example.com.")
            )

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            self._check_sealing_not_written(vals)
            self._check_email_format(vals)
            member = self.env["res.partner"].sudo().browse(vals.get("partner_id"))
            self._check_code_is_the_members(member[:1], vals)
            self._check_greeting_name_keeps_identity(member[:1], vals)
        identities = super().create(vals_list)
        identities._sync_postal_area()
        return identities

    def write(self, vals):
        self._check_sealing_not_written(vals)
        self._check_email_format(vals)
        if "partner_id" in vals and any(identity.partner_id.id != vals["partner_id"] for identity in self.sudo()):
            raise UserError(self.env._("An identity stays with its member: it cannot be moved to another one."))
        if "pseudonym" in vals:
            for identity in self.sudo():
                member = (
                    identity.partner_id if "partner_id" not in vals else identity.partner_id.browse(vals["partner_id"])
                )
                self._check_code_is_the_members(member, vals)
        version = sealing.current_version()
        stale = (
            self.sudo().filtered(lambda identity: identity.key_version != version)
            if version and set(vals) & set(SEALED_FIELDS)
            else self.browse()
        )
        if {"legal_name", "email", "phone", "partner_id"}.intersection(vals):
            for identity in self.sudo():
                member = self.env["res.partner"].sudo().browse(vals.get("partner_id") or identity.partner_id.id)
                # Attribute reads, not read(): the vault's own check is not a read to audit.
                self._check_greeting_name_keeps_identity(
                    member, {**{key: identity[key] for key in IDENTITY_KEYS}, **vals}
                )
        result = super().write(vals)
        # A row sealed by another key, or still plain: seal all its values, not only those written.
        stale._registry_reseal()
        if "zip" in vals:
            self._sync_postal_area()
        return result

    # Audit of reads: every way a user reads identity values writes one entry per member and request.

    def _registry_audit(self, field_names, channel=None):
        """Record that these identities' `field_names` were read (buffered, written at commit)."""
        audited = AUDITED_FIELDS.intersection(field_names)
        # The form's onchange reads new records: a stored identity's values behind them are read (audited
        # under its code), a record not saved yet holds only what the user typed (nothing to audit).
        identities = self._origin
        if identities and audited:
            self.env["customer.identity.audit"]._record(
                audited, channel or request_channel(), identities._registry_codes()
            )

    def _registry_codes(self):
        """{company id: [card codes]} of these identities, from the cache the read filled (no query then)."""
        names = ("pseudonym", "company_id")
        codes, companies = (self._fields[name]._get_cache(self.env) for name in names)
        ids = self._ids
        try:
            company_ids = list(map(companies.__getitem__, ids))
            member_codes = list(map(codes.__getitem__, ids))
        except KeyError:  # not read with the values (a read of other fields, or of new records' origins)
            self.sudo().fetch(names)
            company_ids = list(map(companies.__getitem__, ids))
            member_codes = list(map(codes.__getitem__, ids))
        if len(set(company_ids)) == 1:
            return {company_ids[0]: member_codes}
        by_company = {}
        for company_id, code in zip(company_ids, member_codes, strict=True):
            by_company.setdefault(company_id, []).append(code)
        return by_company

    def _read_format(self, fnames, load="_classic_read"):
        result = super()._read_format(fnames, load)
        # The records read: all of them, unless some were deleted meanwhile (their rows left out).
        read = self if len(result) == len(self) else self.browse([row["id"] for row in result])
        read._registry_audit(fnames)
        return result

    def _export_rows(self, fields, *, _is_toplevel_call=True):
        # Here rather than in export_data: an export of another model reaches the identity's values
        # through this method too (res.partner's registry_identity_ids/email, a POS order's
        # partner_id/registry_identity_ids/email), and is audited the same.
        rows = super()._export_rows(fields, _is_toplevel_call=_is_toplevel_call)
        self._registry_audit([path[0] for path in fields if path], "export")
        return rows

    def copy_data(self, default=None):
        # copy_data is public (RPC) and returns the values: a read the audit would not see. An identity
        # belongs to exactly one member and is never copied.
        if not self.env.su:
            raise UserError(self.env._("A member's identity cannot be copied."))
        return super().copy_data(default)

    def _order_field_to_sql(self, alias, field_name, direction, nulls, query):
        # A sealed column is empty: ordering by it would sort nothing and look like an order.
        if getattr(self._fields.get(field_name), "sealed", False) and sealing.current_version():
            raise UserError(self.env._("Identity values are encrypted: members cannot be sorted by them."))
        return super()._order_field_to_sql(alias, field_name, direction, nulls, query)

    def _check_not_summarising_personal_data(self, specs):
        """Groups and aggregates (array_agg, count_distinct, min...) return identity values without a
        record read to audit: personal values are read record by record, never summarised."""
        if self.env.su:
            return
        # Who may not read identities at all is told so first (AccessError), as for any other read.
        self.check_access("read")
        names = {spec.split(":")[0].split(".")[0] for spec in specs if isinstance(spec, str)}
        if names & AUDITED_FIELDS:
            raise UserError(
                self.env._("Members' personal data cannot be grouped or summarised: open the members instead.")
            )

    @api.model
    def _read_group(self, domain, groupby=(), aggregates=(), having=(), offset=0, limit=None, order=None):
        having_fields = [item[0] for item in having or () if isinstance(item, (list, tuple))]
        self._check_not_summarising_personal_data([*groupby, *aggregates, *having_fields])
        return super()._read_group(domain, groupby, aggregates, having, offset, limit, order)

    @api.model
    def _read_grouping_sets(self, domain, grouping_sets, aggregates=(), order=None):
        self._check_not_summarising_personal_data([*(spec for specs in grouping_sets for spec in specs), *aggregates])
        return super()._read_grouping_sets(domain, grouping_sets, aggregates, order)

    # Reading identity values writes the audit: Odoo must serve these on a read/write cursor
    # (its dispatchers look for `_readonly` on the method) instead of a replica's read-only one.
    def read(self, fields=None, load="_classic_read"):
        return super().read(fields, load)

    @api.model
    def search_read(self, domain=None, fields=None, offset=0, limit=None, order=None, **read_kwargs):
        return super().search_read(domain, fields, offset, limit, order, **read_kwargs)

    def web_read(self, specification):
        return super().web_read(specification)

    @api.model
    def web_search_read(self, domain, specification, offset=0, limit=None, order=None, count_limit=None):
        return super().web_search_read(domain, specification, offset, limit, order, count_limit)

    read._readonly = search_read._readonly = web_read._readonly = web_search_read._readonly = False

    def _search_display_name(self, operator, value):
        if sealing.current_version() and operator not in ("not ilike", "!=", "not in"):
            # Names and addresses cannot be searched once sealed: the card code, or an exact email or phone.
            domain = [("pseudonym", operator, value)]
            if isinstance(value, str) and value and sealing.index_keys():
                domain = ["|", "|", *domain, ("email", "=", value), ("phone", "=", value)]
            return domain
        return super()._search_display_name(operator, value)

    @api.model
    def _check_code_is_the_members(self, member, vals):
        """The card code stored beside the identity is its member's (the read audit names members by it):
        a value given for it (an export imported back) must be that code; the database sets it anyway."""
        if "pseudonym" in vals and vals["pseudonym"] != member.pseudonym:
            raise UserError(self.env._("An identity's card code is its member's: it cannot be changed."))

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
