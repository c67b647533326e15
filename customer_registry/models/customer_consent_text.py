from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import SQL

from .customer_consent import HEALTH, MARKETING

# The columns that make a version what the customer agreed to: never changed once written.
VERSION_COLUMNS = ("company_id", "purpose", "lang", "version", "body")


def consent_text_guard_sql():
    """A version of a consent wording is what customers agreed to: it is never changed nor deleted."""
    return """
        CREATE OR REPLACE FUNCTION customer_registry_consent_text_guard() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP IN ('DELETE', 'TRUNCATE') THEN
                RAISE EXCEPTION 'customer_registry: a consent wording version is kept: write a new version instead'
                    USING ERRCODE = 'check_violation';
            END IF;
            IF TG_OP = 'INSERT' THEN
                -- A new version waits for consents being given to the current one (they lock it, see
                -- customer_registry_consent_guard): none is recorded to a superseded version.
                PERFORM 1 FROM customer_consent_text
                  WHERE company_id = NEW.company_id AND purpose = NEW.purpose AND lang = NEW.lang
                  FOR NO KEY UPDATE;
                RETURN NEW;
            END IF;
            IF (NEW.company_id, NEW.purpose, NEW.lang, NEW.version, NEW.body)
               IS DISTINCT FROM (OLD.company_id, OLD.purpose, OLD.lang, OLD.version, OLD.body) THEN
                RAISE EXCEPTION 'customer_registry: a consent wording version is never edited: write a new version'
                    USING ERRCODE = 'check_violation';
            END IF;
            RETURN NEW;
        END;
        $$;
        DROP TRIGGER IF EXISTS customer_registry_consent_text_guard ON customer_consent_text;
        CREATE TRIGGER customer_registry_consent_text_guard
            BEFORE INSERT OR UPDATE OR DELETE ON customer_consent_text
            FOR EACH ROW EXECUTE FUNCTION customer_registry_consent_text_guard();
        DROP TRIGGER IF EXISTS customer_registry_consent_text_no_truncate ON customer_consent_text;
        CREATE TRIGGER customer_registry_consent_text_no_truncate
            BEFORE TRUNCATE ON customer_consent_text
            FOR EACH STATEMENT EXECUTE FUNCTION customer_registry_consent_text_guard();
        """


class CustomerConsentText(models.Model):
    """The exact wording a customer is shown when giving a consent, per company, purpose and language.

    Each edit is a new version; a recorded consent points at the version agreed to, so the
    register can always show what the customer read.
    """

    _name = "customer.consent.text"
    _description = "Consent Wording"
    _inherit = ["pos.load.mixin"]
    _order = "company_id, purpose, lang, version desc"

    company_id = fields.Many2one(
        "res.company", required=True, index=True, readonly=True, default=lambda self: self.env.company
    )
    purpose = fields.Selection(
        [(HEALTH, "Allergies and dietary restrictions"), (MARKETING, "Marketing")], required=True
    )
    lang = fields.Selection(
        selection="_lang_selection", string="Language", required=True, default=lambda self: self.env.lang or "en_US"
    )
    version = fields.Integer(required=True, readonly=True, default=1)
    body = fields.Text(string="Wording", required=True, help="Shown to the customer word for word at enrollment.")
    is_current = fields.Boolean(
        string="Current", compute="_compute_is_current", search="_search_is_current", help="The latest version."
    )

    _version_unique = models.Constraint(
        "UNIQUE(company_id, purpose, lang, version)", "This consent wording already has this version."
    )
    # Lets a consent refer to a version of its own company and purpose (see customer.consent).
    _version_of_company_purpose = models.Constraint(
        "UNIQUE(id, company_id, purpose)", "A consent wording belongs to one company and purpose."
    )
    _body_not_blank = models.Constraint("CHECK(btrim(body) <> '')", "A consent wording cannot be empty.")

    @api.model
    def _lang_selection(self):
        # Every language Odoo knows, installed or not: a wording may be written before its language is loaded.
        languages = self.env["res.lang"].sudo().with_context(active_test=False)
        return sorted(languages.search([("code", "!=", False)]).mapped(lambda lang: (lang.code, lang.name)))

    @api.constrains("lang")
    def _check_lang_is_known(self):
        languages = self.env["res.lang"].sudo().with_context(active_test=False)
        for text in self:
            if not languages.search_count([("code", "=", text.lang)], limit=1):
                raise ValidationError(
                    self.env._("%s is not a language Odoo knows: choose one from the list.", text.lang)
                )

    def init(self):
        result = super().init()
        self.env.cr.execute(consent_text_guard_sql())
        # Created here, once both tables exist: the wording a consent keeps is a version of the
        # consent's own company and purpose.
        self.env.cr.execute(
            """DO $$ BEGIN
                 IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'customer_consent_text_of_company_purpose')
                 THEN ALTER TABLE customer_consent ADD CONSTRAINT customer_consent_text_of_company_purpose
                      FOREIGN KEY (text_id, company_id, purpose)
                      REFERENCES customer_consent_text (id, company_id, purpose) ON DELETE RESTRICT;
                 END IF;
               END $$"""
        )
        return result

    @api.depends("company_id", "purpose", "lang", "version")
    def _compute_display_name(self):
        purposes = dict(self._fields["purpose"]._description_selection(self.env))
        for text in self:
            text.display_name = self.env._(
                "%(purpose)s (%(lang)s), version %(version)s",
                purpose=purposes.get(text.purpose, ""),
                lang=text.lang or "",
                version=text.version,
            )

    def _current_ids(self, company_ids=None):
        """Ids of the latest version of each company's wording per purpose and language."""
        self.flush_model(["company_id", "purpose", "lang", "version"])
        self.env.cr.execute(
            SQL(
                """SELECT DISTINCT ON (company_id, purpose, lang) id FROM customer_consent_text
                    WHERE %s ORDER BY company_id, purpose, lang, version DESC""",
                SQL("company_id = ANY(%s)", list(company_ids)) if company_ids is not None else SQL("TRUE"),
            )
        )
        return [row[0] for row in self.env.cr.fetchall()]

    def _compute_is_current(self):
        current = set(self._current_ids(self.company_id.ids))
        for text in self:
            text.is_current = text.id in current

    def _search_is_current(self, operator, value):
        if operator not in ("=", "!=") or not isinstance(value, bool):
            return NotImplemented
        return [("id", "in" if (operator == "=") == value else "not in", self._current_ids())]

    @api.model_create_multi
    def create(self, vals_list):
        vals_list = [dict(vals) for vals in vals_list]
        for vals in vals_list:
            # The version follows the latest of this company, purpose and language.
            company_id = vals.get("company_id") or self.env.company.id
            vals["company_id"] = company_id
            lang = vals.get("lang") or self.default_get(["lang"])["lang"]
            vals["lang"] = lang
            latest = self.sudo().search(
                [("company_id", "=", company_id), ("purpose", "=", vals.get("purpose")), ("lang", "=", lang)],
                order="version desc",
                limit=1,
            )
            vals["version"] = latest.version + 1 if latest else 1
        return super().create(vals_list)

    def write(self, vals):
        """Editing a wording writes its next version: the versions customers agreed to stay as they were."""
        frozen = set(VERSION_COLUMNS).intersection(vals) - {"body"}
        if frozen:
            raise UserError(
                self.env._("A consent wording keeps its company, purpose, language and version: write a new one.")
            )
        if "body" not in vals:
            return super().write(vals)
        self.check_access("write")
        for text in self:
            text.copy({"body": vals["body"]})
        rest = {key: value for key, value in vals.items() if key != "body"}
        return super().write(rest) if rest else True

    def copy_data(self, default=None):
        data = super().copy_data(default)
        for text, vals in zip(self, data, strict=True):
            vals.update(company_id=text.company_id.id, purpose=text.purpose, lang=text.lang)
        return data

    def unlink(self):  # pylint: disable=method-required-super
        self.check_access("unlink")
        raise UserError(  # pylint: disable=no-raise-unlink
            self.env._("A consent wording version is kept for the consents given to it: write a new version instead.")
        )

    # Point of Sale: the till shows the current wording of its company.

    @api.model
    def _load_pos_data_domain(self, data, config):
        return [("id", "in", self._current_ids(config.company_id.ids))]

    @api.model
    def _load_pos_data_fields(self, config):
        return ["id", "purpose", "lang", "version", "body"]
