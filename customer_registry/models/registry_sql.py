"""What the database itself guarantees about members, whatever writes to it.

The ORM's create/write already route personal data to the identity and refuse
what a member cannot have, with readable messages.  These triggers are the
same rules for every other channel: another module's override, `sudo()` code
in Odoo, an import, a server action, SQL run by the application.  Each is
(re)created by its model's `init()`, so an upgrade refreshes it.  The
statements are plain strings, run without parameters (no `%` escaping).
"""

import logging

from stdnum import damm

from .. import pseudonym as codes

_logger = logging.getLogger(__name__)

# Free-text columns a member may have: its label and the registry's own fields. Every other
# char, text or html column of res_partner (whatever module adds it) stays empty on a member.
MEMBER_TEXT_COLUMNS = frozenset(
    ("name", "complete_name", "pseudonym", "registry_greeting_name", "registry_postal_area", "registry_service_notes")
)
# Derived from personal values: the database empties them on a member (the ORM may flush them late).
MEMBER_DERIVED_COLUMNS = ("email_normalized", "phone_sanitized", "commercial_company_name")
# Other columns that would locate or name the person: empty, zero or an empty JSON object.
MEMBER_JSON_COLUMNS = ("properties", "barcode")
MEMBER_NUMBER_COLUMNS = ("partner_latitude", "partner_longitude")


def member_free_text_fields(partner_model):
    """The stored free-text fields of res.partner a member must leave empty."""
    return [
        name
        for name, field in partner_model._fields.items()
        if field.store
        and field.column_type
        and field.type in ("char", "text", "html")
        and not field.company_dependent
        and name not in MEMBER_TEXT_COLUMNS
        and name not in MEMBER_DERIVED_COLUMNS
    ]


# The Damm table python-stdnum checks codes with, as a PostgreSQL array literal.
_DAMM_TABLE = "{" + ",".join("{" + ",".join(map(str, row)) + "}" for row in damm._operation_table) + "}"


def _existing_columns(cr, table, columns):
    cr.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = %s AND column_name = ANY(%s)",
        [table, list(columns)],
    )
    found = {row[0] for row in cr.fetchall()}
    return [column for column in columns if column in found]


def code_is_valid_sql():
    """customer_registry_code_is_valid(text): the rules of pseudonym.validate, in SQL."""
    return f"""
        CREATE OR REPLACE FUNCTION customer_registry_code_is_valid(code text) RETURNS boolean
        LANGUAGE plpgsql IMMUTABLE STRICT AS $$
        DECLARE
            damm_table CONSTANT int[] := '{_DAMM_TABLE}';
            interim int := 0;
            weighted int := 0;
            digit int;
        BEGIN
            IF code !~ '^{codes.PREFIX}[0-9]{{{codes.LENGTH - len(codes.PREFIX)}}}$' THEN
                RETURN false;
            END IF;
            FOR position IN 1..{codes.LENGTH - 1} LOOP
                digit := substr(code, position, 1)::int;
                interim := damm_table[interim + 1][digit + 1];
                weighted := weighted + digit * CASE WHEN position % 2 = 0 THEN 3 ELSE 1 END;
            END LOOP;
            RETURN interim = 0 AND (10 - weighted % 10) % 10 = substr(code, {codes.LENGTH}, 1)::int;
        END;
        $$;
        """


def greeting_holds_identity_sql():
    """customer_registry_greeting_holds_identity(greeting, legal_name, email, phone): the label every till
    shows contains the member's legal name, email or phone number (its digits, either way round)."""
    return """
        CREATE OR REPLACE FUNCTION customer_registry_greeting_holds_identity(
            greeting text, legal_name text, email text, phone text) RETURNS boolean
        LANGUAGE sql IMMUTABLE AS $$
            SELECT COALESCE(greeting, '') <> '' AND (
                (COALESCE(btrim(legal_name), '') <> '' AND position(lower(btrim(legal_name)) IN lower(greeting)) > 0)
                OR (COALESCE(btrim(email), '') <> '' AND position(lower(btrim(email)) IN lower(greeting)) > 0)
                OR (length(regexp_replace(COALESCE(phone, ''), '[^0-9]', '', 'g')) > 4
                    AND length(regexp_replace(greeting, '[^0-9]', '', 'g')) > 4
                    AND (position(regexp_replace(phone, '[^0-9]', '', 'g')
                                  IN regexp_replace(greeting, '[^0-9]', '', 'g')) > 0
                         OR position(regexp_replace(greeting, '[^0-9]', '', 'g')
                                     IN regexp_replace(phone, '[^0-9]', '', 'g')) > 0)))
        $$;
        """


def partner_guard_sql(partner_model):
    """Triggers on res_partner (and on what points at a partner: users, companies)."""
    cr = partner_model.env.cr
    empty = member_free_text_fields(partner_model)
    has_personal_value = " OR ".join(
        [f"COALESCE(NEW.{column}::text, '') <> ''" for column in empty]
        + [
            f"EXISTS (SELECT 1 FROM jsonb_each_text(COALESCE(NEW.{column}, '{{}}'::jsonb)) item "
            f"WHERE COALESCE(item.value, '') NOT IN ('', 'false'))"
            for column in _existing_columns(cr, "res_partner", MEMBER_JSON_COLUMNS)
        ]
        + [f"COALESCE(NEW.{column}, 0) <> 0" for column in _existing_columns(cr, "res_partner", MEMBER_NUMBER_COLUMNS)]
    )
    derived = "".join(
        f"NEW.{column} := NULL; " for column in _existing_columns(cr, "res_partner", MEMBER_DERIVED_COLUMNS)
    )
    return f"""
        {code_is_valid_sql()}
        {greeting_holds_identity_sql()}

        CREATE OR REPLACE FUNCTION customer_registry_partner_guard() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            IF NEW.pseudonym IS NOT NULL AND NOT COALESCE(NEW.is_registry_member, false) THEN
                RAISE EXCEPTION 'customer_registry: partner %: only a registry member has a member code', NEW.id
                    USING ERRCODE = 'check_violation';
            END IF;
            IF NEW.parent_id IS NOT NULL
               AND EXISTS (SELECT 1 FROM res_partner parent
                            WHERE parent.id = NEW.parent_id AND parent.is_registry_member) THEN
                RAISE EXCEPTION 'customer_registry: partner %: a registry member has no child contacts', NEW.id
                    USING ERRCODE = 'check_violation';
            END IF;
            IF NOT COALESCE(NEW.is_registry_member, false) THEN
                IF TG_OP = 'UPDATE' AND OLD.is_registry_member THEN
                    RAISE EXCEPTION 'customer_registry: partner %: a member cannot be un-enrolled', NEW.id
                        USING ERRCODE = 'check_violation';
                END IF;
                RETURN NEW;
            END IF;
            IF NEW.pseudonym IS NULL OR NOT customer_registry_code_is_valid(NEW.pseudonym) THEN
                RAISE EXCEPTION 'customer_registry: partner %: a member needs a valid member code', NEW.id
                    USING ERRCODE = 'check_violation';
            END IF;
            IF NEW.company_id IS NULL THEN
                RAISE EXCEPTION 'customer_registry: member %: a member belongs to a company', NEW.pseudonym
                    USING ERRCODE = 'check_violation';
            END IF;
            IF TG_OP = 'UPDATE' AND OLD.is_registry_member
               AND (NEW.pseudonym <> OLD.pseudonym OR NEW.company_id <> OLD.company_id) THEN
                RAISE EXCEPTION 'customer_registry: member %: its code and company never change', OLD.pseudonym
                    USING ERRCODE = 'check_violation';
            END IF;
            IF NEW.parent_id IS NOT NULL OR COALESCE(NEW.is_company, false) THEN
                RAISE EXCEPTION 'customer_registry: member %: a member is a private person on its own', NEW.pseudonym
                    USING ERRCODE = 'check_violation';
            END IF;
            {derived}NEW.complete_name := NEW.name;
            IF NEW.registry_erased_at IS NOT NULL AND (NEW.registry_greeting_name IS NOT NULL
               OR NEW.registry_service_notes IS NOT NULL OR NEW.registry_postal_area IS NOT NULL) THEN
                RAISE EXCEPTION 'customer_registry: member %: erased, its profile stays empty', NEW.pseudonym
                    USING ERRCODE = 'check_violation';
            END IF;
            IF NEW.name IS DISTINCT FROM COALESCE(NULLIF(NEW.registry_greeting_name, ''), NEW.pseudonym) THEN
                RAISE EXCEPTION 'customer_registry: member %: its name is its label, the legal name is in the identity',
                    NEW.pseudonym USING ERRCODE = 'check_violation';
            END IF;
            IF {has_personal_value} OR NEW.state_id IS NOT NULL OR NEW.country_id IS NOT NULL THEN
                RAISE EXCEPTION 'customer_registry: member %: personal data belongs in the identity, not the partner',
                    NEW.pseudonym USING ERRCODE = 'check_violation';
            END IF;
            IF NEW.registry_postal_area IS NOT NULL AND NEW.registry_postal_area !~ '^[0-9]{{2}}$' THEN
                RAISE EXCEPTION 'customer_registry: member %: a postal area is two digits', NEW.pseudonym
                    USING ERRCODE = 'check_violation';
            END IF;
            IF COALESCE(NEW.registry_greeting_name, '') <> '' AND EXISTS (
                SELECT 1 FROM customer_identity identity
                 WHERE identity.partner_id = NEW.id
                   AND customer_registry_greeting_holds_identity(
                        NEW.registry_greeting_name, identity.legal_name, identity.email, identity.phone)) THEN
                RAISE EXCEPTION 'customer_registry: member %: the label cannot hold the legal name, email or phone',
                    NEW.pseudonym USING ERRCODE = 'check_violation';
            END IF;
            -- The consent flags are what the valid consents say, whatever was written.
            NEW.has_health_consent := EXISTS (SELECT 1 FROM customer_consent c WHERE c.partner_id = NEW.id
                                               AND c.purpose = 'health' AND c.withdrawn_at IS NULL);
            NEW.has_marketing_consent := EXISTS (SELECT 1 FROM customer_consent c WHERE c.partner_id = NEW.id
                                                  AND c.purpose = 'marketing' AND c.withdrawn_at IS NULL);
            IF TG_OP = 'INSERT' OR NOT OLD.is_registry_member THEN
                -- The enrollment date, from which the storage limit counts for a member who never
                -- bought (not the contact's creation: a contact of years enrolled today is new). The
                -- database's clock, whatever was written (a context default or an import would erase
                -- a new member the next night).
                NEW.registry_enrolled_at := now() AT TIME ZONE 'UTC';
                IF EXISTS (SELECT 1 FROM res_partner child WHERE child.parent_id = NEW.id)
                   OR EXISTS (SELECT 1 FROM res_users WHERE partner_id = NEW.id)
                   OR EXISTS (SELECT 1 FROM res_company WHERE partner_id = NEW.id)
                   OR EXISTS (SELECT 1 FROM res_partner_bank WHERE partner_id = NEW.id)
                   OR EXISTS (SELECT 1 FROM account_move WHERE partner_id = NEW.id AND move_type LIKE 'out_%')
                   OR EXISTS (SELECT 1 FROM pos_order WHERE partner_id = NEW.id AND company_id <> NEW.company_id) THEN
                    RAISE EXCEPTION 'customer_registry: partner %: contacts of users or companies, with child '
                        'contacts, bank accounts, customer invoices or orders of another company cannot become members',
                        NEW.id USING ERRCODE = 'check_violation';
                END IF;
            END IF;
            RETURN NEW;
        END;
        $$;
        DROP TRIGGER IF EXISTS customer_registry_partner_guard ON res_partner;
        CREATE TRIGGER customer_registry_partner_guard
            BEFORE INSERT ON res_partner
            FOR EACH ROW
            WHEN (NEW.is_registry_member OR NEW.pseudonym IS NOT NULL OR NEW.parent_id IS NOT NULL)
            EXECUTE FUNCTION customer_registry_partner_guard();
        -- Every update of a member is checked but the ledger's move of its balance and tier
        -- (which only the ledger's trigger may do, see customer_loyalty_partner_guard): the till
        -- pays nothing for the vault.
        DROP TRIGGER IF EXISTS customer_registry_partner_update_guard ON res_partner;
        CREATE TRIGGER customer_registry_partner_update_guard
            BEFORE UPDATE ON res_partner
            FOR EACH ROW
            WHEN ((NEW.is_registry_member OR NEW.pseudonym IS NOT NULL OR NEW.parent_id IS NOT NULL)
                  AND NEW.loyalty_balance IS NOT DISTINCT FROM OLD.loyalty_balance
                  AND NEW.loyalty_tier_id IS NOT DISTINCT FROM OLD.loyalty_tier_id)
            EXECUTE FUNCTION customer_registry_partner_guard();

        -- The UPDATE case above sees un-enrolling only when the new row is still checked.
        DROP TRIGGER IF EXISTS customer_registry_partner_unenroll_guard ON res_partner;
        CREATE TRIGGER customer_registry_partner_unenroll_guard
            BEFORE UPDATE OF is_registry_member ON res_partner
            FOR EACH ROW WHEN (OLD.is_registry_member AND NOT COALESCE(NEW.is_registry_member, false))
            EXECUTE FUNCTION customer_registry_partner_guard();

        -- Every member has an identity, checked at commit (the partner row comes first).
        DROP TRIGGER IF EXISTS customer_registry_member_has_identity ON res_partner;
        CREATE CONSTRAINT TRIGGER customer_registry_member_has_identity
            AFTER INSERT OR UPDATE OF is_registry_member ON res_partner
            DEFERRABLE INITIALLY DEFERRED
            FOR EACH ROW WHEN (NEW.is_registry_member)
            EXECUTE FUNCTION customer_registry_member_has_identity();

        -- A member is never a user's or a company's own contact.
        CREATE OR REPLACE FUNCTION customer_registry_partner_owner_guard() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            IF EXISTS (SELECT 1 FROM res_partner WHERE id = NEW.partner_id AND is_registry_member) THEN
                RAISE EXCEPTION 'customer_registry: the contact of a % cannot be a registry member', TG_TABLE_NAME
                    USING ERRCODE = 'check_violation';
            END IF;
            RETURN NEW;
        END;
        $$;
        DROP TRIGGER IF EXISTS customer_registry_partner_owner_guard ON res_users;
        CREATE TRIGGER customer_registry_partner_owner_guard
            BEFORE INSERT OR UPDATE OF partner_id ON res_users
            FOR EACH ROW EXECUTE FUNCTION customer_registry_partner_owner_guard();
        DROP TRIGGER IF EXISTS customer_registry_partner_owner_guard ON res_company;
        CREATE TRIGGER customer_registry_partner_owner_guard
            BEFORE INSERT OR UPDATE OF partner_id ON res_company
            FOR EACH ROW EXECUTE FUNCTION customer_registry_partner_owner_guard();
        DROP TRIGGER IF EXISTS customer_registry_partner_owner_guard ON res_partner_bank;
        CREATE TRIGGER customer_registry_partner_owner_guard
            BEFORE INSERT OR UPDATE OF partner_id ON res_partner_bank
            FOR EACH ROW EXECUTE FUNCTION customer_registry_partner_owner_guard();

        -- Health data only while a valid health consent exists (the allergy and diet links).
        CREATE OR REPLACE FUNCTION customer_registry_health_data_guard() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            IF NOT EXISTS (SELECT 1 FROM customer_consent c WHERE c.partner_id = NEW.res_partner_id
                            AND c.purpose = 'health' AND c.withdrawn_at IS NULL) THEN
                RAISE EXCEPTION 'customer_registry: partner %: health data needs a valid health consent',
                    NEW.res_partner_id USING ERRCODE = 'check_violation';
            END IF;
            RETURN NEW;
        END;
        $$;
        DROP TRIGGER IF EXISTS customer_registry_health_data_guard ON customer_allergen_res_partner_rel;
        CREATE TRIGGER customer_registry_health_data_guard
            BEFORE INSERT OR UPDATE ON customer_allergen_res_partner_rel
            FOR EACH ROW EXECUTE FUNCTION customer_registry_health_data_guard();
        DROP TRIGGER IF EXISTS customer_registry_health_data_guard ON customer_allergen_severe_res_partner_rel;
        CREATE TRIGGER customer_registry_health_data_guard
            BEFORE INSERT OR UPDATE ON customer_allergen_severe_res_partner_rel
            FOR EACH ROW EXECUTE FUNCTION customer_registry_health_data_guard();

        -- A severe allergy (traces not tolerated) is one of the member's allergies: checked at commit,
        -- so that one save may add both; removing the allergy removes its severity.
        CREATE OR REPLACE FUNCTION customer_registry_severe_allergy_guard() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            IF EXISTS (SELECT 1 FROM customer_allergen_severe_res_partner_rel s
                        WHERE s.res_partner_id = NEW.res_partner_id
                          AND s.customer_allergen_id = NEW.customer_allergen_id)
               AND NOT EXISTS (SELECT 1 FROM customer_allergen_res_partner_rel a
                                WHERE a.res_partner_id = NEW.res_partner_id
                                  AND a.customer_allergen_id = NEW.customer_allergen_id) THEN
                RAISE EXCEPTION 'customer_registry: partner %: a severe allergy must be one of its allergies',
                    NEW.res_partner_id USING ERRCODE = 'check_violation';
            END IF;
            RETURN NULL;
        END;
        $$;
        DROP TRIGGER IF EXISTS customer_registry_severe_allergy_guard ON customer_allergen_severe_res_partner_rel;
        CREATE CONSTRAINT TRIGGER customer_registry_severe_allergy_guard
            AFTER INSERT OR UPDATE ON customer_allergen_severe_res_partner_rel
            DEFERRABLE INITIALLY DEFERRED
            FOR EACH ROW EXECUTE FUNCTION customer_registry_severe_allergy_guard();
        CREATE OR REPLACE FUNCTION customer_registry_allergy_removed() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            DELETE FROM customer_allergen_severe_res_partner_rel
             WHERE res_partner_id = OLD.res_partner_id AND customer_allergen_id = OLD.customer_allergen_id;
            RETURN NULL;
        END;
        $$;
        DROP TRIGGER IF EXISTS customer_registry_allergy_removed ON customer_allergen_res_partner_rel;
        CREATE TRIGGER customer_registry_allergy_removed
            AFTER DELETE OR UPDATE ON customer_allergen_res_partner_rel
            FOR EACH ROW EXECUTE FUNCTION customer_registry_allergy_removed();
        DROP TRIGGER IF EXISTS customer_registry_health_data_guard ON customer_diet_res_partner_rel;
        CREATE TRIGGER customer_registry_health_data_guard
            BEFORE INSERT OR UPDATE ON customer_diet_res_partner_rel
            FOR EACH ROW EXECUTE FUNCTION customer_registry_health_data_guard();

        -- No photo of a member, whichever way the attachment comes.
        CREATE OR REPLACE FUNCTION customer_registry_member_image_guard() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            IF EXISTS (SELECT 1 FROM res_partner WHERE id = NEW.res_id AND is_registry_member) THEN
                RAISE EXCEPTION 'customer_registry: a registry member has no photo'
                    USING ERRCODE = 'check_violation';
            END IF;
            RETURN NEW;
        END;
        $$;
        DROP TRIGGER IF EXISTS customer_registry_member_image_guard ON ir_attachment;
        CREATE TRIGGER customer_registry_member_image_guard
            BEFORE INSERT OR UPDATE OF res_model, res_id, res_field ON ir_attachment
            FOR EACH ROW WHEN (NEW.res_model = 'res.partner' AND NEW.res_field LIKE 'image%')
            EXECUTE FUNCTION customer_registry_member_image_guard();

        -- A message a member wrote keeps no address of theirs (e.g. an email they sent before enrolling).
        CREATE OR REPLACE FUNCTION customer_registry_member_author_guard() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            IF EXISTS (SELECT 1 FROM res_partner WHERE id = NEW.author_id AND is_registry_member) THEN
                NEW.email_from := NULL;
                NEW.reply_to := NULL;
            END IF;
            RETURN NEW;
        END;
        $$;
        DROP TRIGGER IF EXISTS customer_registry_member_author_guard ON mail_message;
        CREATE TRIGGER customer_registry_member_author_guard
            BEFORE INSERT OR UPDATE OF author_id, email_from, reply_to ON mail_message
            FOR EACH ROW WHEN (NEW.author_id IS NOT NULL AND (NEW.email_from IS NOT NULL OR NEW.reply_to IS NOT NULL))
            EXECUTE FUNCTION customer_registry_member_author_guard();
        """


def identity_guard_sql():
    """An identity belongs to a member and to the member's company; every member has one (at commit);
    the member's label (every till shows it) holds none of its legal name, email or phone."""
    return (
        greeting_holds_identity_sql()
        + """
        CREATE OR REPLACE FUNCTION customer_registry_identity_greeting() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            IF EXISTS (SELECT 1 FROM res_partner member WHERE member.id = NEW.partner_id
                          AND customer_registry_greeting_holds_identity(
                              member.registry_greeting_name, NEW.legal_name, NEW.email, NEW.phone)) THEN
                RAISE EXCEPTION 'customer_registry: the label of member partner % cannot hold its legal name, '
                    'email or phone', NEW.partner_id USING ERRCODE = 'check_violation';
            END IF;
            RETURN NEW;
        END;
        $$;
        DROP TRIGGER IF EXISTS customer_registry_identity_greeting ON customer_identity;
        CREATE TRIGGER customer_registry_identity_greeting
            BEFORE INSERT OR UPDATE OF partner_id, legal_name, email, phone ON customer_identity
            FOR EACH ROW EXECUTE FUNCTION customer_registry_identity_greeting();

        CREATE OR REPLACE FUNCTION customer_registry_identity_company() RETURNS trigger
        LANGUAGE plpgsql AS $$
        DECLARE
            member res_partner%ROWTYPE;
        BEGIN
            -- An identity is its member's for good: moved to another member (an erased one, whose code
            -- then names the reads of this person), the audit and the erasure would follow the wrong code.
            IF TG_OP = 'UPDATE' AND NEW.partner_id IS DISTINCT FROM OLD.partner_id THEN
                RAISE EXCEPTION 'customer_registry: identity %: it stays with its member', OLD.id
                    USING ERRCODE = 'check_violation';
            END IF;
            SELECT * INTO member FROM res_partner WHERE id = NEW.partner_id;
            IF NOT COALESCE(member.is_registry_member, false) THEN
                RAISE EXCEPTION 'customer_registry: an identity belongs to a registry member'
                    USING ERRCODE = 'check_violation';
            END IF;
            IF member.registry_erased_at IS NOT NULL THEN
                RAISE EXCEPTION 'customer_registry: member %: erased, it has no identity any more', member.pseudonym
                    USING ERRCODE = 'check_violation';
            END IF;
            NEW.company_id := member.company_id;
            -- The card code kept beside the identity names the member in the read audit: always its own.
            NEW.pseudonym := member.pseudonym;
            RETURN NEW;
        END;
        $$;
        DROP TRIGGER IF EXISTS customer_registry_identity_company ON customer_identity;
        CREATE TRIGGER customer_registry_identity_company
            BEFORE INSERT OR UPDATE OF partner_id, company_id, pseudonym ON customer_identity
            FOR EACH ROW EXECUTE FUNCTION customer_registry_identity_company();

        CREATE OR REPLACE FUNCTION customer_registry_member_has_identity() RETURNS trigger
        LANGUAGE plpgsql AS $$
        DECLARE
            member_id int;
        BEGIN
            IF TG_TABLE_NAME = 'res_partner' THEN
                member_id := NEW.id;
            ELSE
                member_id := OLD.partner_id;
            END IF;
            -- An erased member keeps its card code for its orders and points, and no identity.
            IF EXISTS (SELECT 1 FROM res_partner WHERE id = member_id AND is_registry_member
                                                   AND registry_erased_at IS NULL)
               AND NOT EXISTS (SELECT 1 FROM customer_identity WHERE partner_id = member_id) THEN
                RAISE EXCEPTION 'customer_registry: member partner % has no identity', member_id
                    USING ERRCODE = 'check_violation';
            END IF;
            RETURN NULL;
        END;
        $$;
        DROP TRIGGER IF EXISTS customer_registry_member_has_identity ON customer_identity;
        CREATE CONSTRAINT TRIGGER customer_registry_member_has_identity
            AFTER DELETE OR UPDATE OF partner_id ON customer_identity
            DEFERRABLE INITIALLY DEFERRED
            FOR EACH ROW EXECUTE FUNCTION customer_registry_member_has_identity();
        """
    )


def consent_guard_sql():
    """A consent is evidence: frozen once given, withdrawn once, deleted only with its member."""
    return """
        CREATE OR REPLACE FUNCTION customer_registry_consent_guard() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'TRUNCATE' THEN
                RAISE EXCEPTION 'customer_registry: consents are evidence and are never deleted'
                    USING ERRCODE = 'check_violation';
            END IF;
            IF TG_OP = 'DELETE' THEN
                -- Only the cascade of the member's own deletion (a foreign key action, run as a trigger).
                IF pg_trigger_depth() > 1 THEN
                    RETURN OLD;
                END IF;
                RAISE EXCEPTION 'customer_registry: a consent is evidence and is never deleted'
                    USING ERRCODE = 'check_violation';
            END IF;
            IF TG_OP = 'INSERT' THEN
                SELECT company_id INTO NEW.company_id FROM res_partner WHERE id = NEW.partner_id AND is_registry_member;
                IF NEW.company_id IS NULL THEN
                    RAISE EXCEPTION 'customer_registry: a consent is given by a registry member'
                        USING ERRCODE = 'check_violation';
                END IF;
                IF NEW.withdrawn_at IS NOT NULL OR NEW.withdrawn_by_id IS NOT NULL THEN
                    RAISE EXCEPTION 'customer_registry: a consent is recorded as given, then withdrawn'
                        USING ERRCODE = 'check_violation';
                END IF;
                IF NEW.text_id IS NOT NULL THEN
                    -- The wording agreed to is the current version. Locked first: a new version being
                    -- written waits for this consent (see customer_registry_consent_text_guard), or this
                    -- consent waits for it and then sees it (each statement reads what is committed).
                    PERFORM 1 FROM customer_consent_text WHERE id = NEW.text_id FOR SHARE;
                    IF EXISTS (SELECT 1 FROM customer_consent_text agreed
                                 JOIN customer_consent_text newer
                                   ON newer.company_id = agreed.company_id AND newer.purpose = agreed.purpose
                                  AND newer.lang = agreed.lang AND newer.version > agreed.version
                                WHERE agreed.id = NEW.text_id) THEN
                        RAISE EXCEPTION 'customer_registry: a consent is given to the current version of its wording'
                            USING ERRCODE = 'check_violation';
                    END IF;
                END IF;
                NEW.is_valid := true;
                NEW.given_at := now() AT TIME ZONE 'UTC';
                RETURN NEW;
            END IF;
            IF (NEW.partner_id, NEW.company_id, NEW.purpose, NEW.given_at, NEW.recorded_by_id, NEW.text_id)
               IS DISTINCT FROM (OLD.partner_id, OLD.company_id, OLD.purpose, OLD.given_at, OLD.recorded_by_id,
                                 OLD.text_id) THEN
                RAISE EXCEPTION 'customer_registry: a consent is evidence: record a new one instead of editing it'
                    USING ERRCODE = 'check_violation';
            END IF;
            IF (NEW.withdrawn_at, NEW.withdrawn_by_id) IS DISTINCT FROM (OLD.withdrawn_at, OLD.withdrawn_by_id) THEN
                IF OLD.withdrawn_at IS NOT NULL OR NEW.withdrawn_at IS NULL OR NEW.withdrawn_by_id IS NULL THEN
                    RAISE EXCEPTION 'customer_registry: a consent is withdrawn once, by a user, and stays withdrawn'
                        USING ERRCODE = 'check_violation';
                END IF;
                NEW.withdrawn_at := now() AT TIME ZONE 'UTC';
            END IF;
            NEW.is_valid := NEW.withdrawn_at IS NULL;
            RETURN NEW;
        END;
        $$;
        DROP TRIGGER IF EXISTS customer_registry_consent_guard ON customer_consent;
        CREATE TRIGGER customer_registry_consent_guard
            BEFORE INSERT OR UPDATE OR DELETE ON customer_consent
            FOR EACH ROW EXECUTE FUNCTION customer_registry_consent_guard();
        DROP TRIGGER IF EXISTS customer_registry_consent_no_truncate ON customer_consent;
        CREATE TRIGGER customer_registry_consent_no_truncate
            BEFORE TRUNCATE ON customer_consent
            FOR EACH STATEMENT EXECUTE FUNCTION customer_registry_consent_guard();

        -- The member's consent flags follow (the partner guard recomputes them on any update).
        CREATE OR REPLACE FUNCTION customer_registry_consent_flags() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE res_partner SET has_health_consent = has_health_consent WHERE id = NEW.partner_id;
            -- Health data goes with the last valid health consent, whatever withdrew it.
            IF NOT EXISTS (SELECT 1 FROM customer_consent c WHERE c.partner_id = NEW.partner_id
                            AND c.purpose = 'health' AND c.withdrawn_at IS NULL) THEN
                DELETE FROM customer_allergen_severe_res_partner_rel WHERE res_partner_id = NEW.partner_id;
                DELETE FROM customer_allergen_res_partner_rel WHERE res_partner_id = NEW.partner_id;
                DELETE FROM customer_diet_res_partner_rel WHERE res_partner_id = NEW.partner_id;
                -- The allergen conflicts the till did not confirm, on the member's orders, go too; the
                -- confirmations stay (the shop's evidence that it warned: see pos_order_line).
                DELETE FROM pos_order_line_allergen_unconfirmed_rel r
                 USING pos_order_line line, pos_order o
                 WHERE r.pos_order_line_id = line.id AND line.order_id = o.id AND o.partner_id = NEW.partner_id;
            END IF;
            RETURN NULL;
        END;
        $$;
        DROP TRIGGER IF EXISTS customer_registry_consent_flags ON customer_consent;
        CREATE TRIGGER customer_registry_consent_flags
            AFTER INSERT OR UPDATE OF withdrawn_at ON customer_consent
            FOR EACH ROW EXECUTE FUNCTION customer_registry_consent_flags();
        """


def order_line_allergen_guard_sql():
    """An order line names an allergen only of a customer who has it recorded under a valid health consent."""
    return """
        CREATE OR REPLACE FUNCTION customer_registry_order_line_allergen_guard() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            IF NOT EXISTS (
                SELECT 1 FROM pos_order_line line
                  JOIN pos_order o ON o.id = line.order_id
                  JOIN customer_allergen_res_partner_rel a
                    ON a.res_partner_id = o.partner_id AND a.customer_allergen_id = NEW.customer_allergen_id
                 WHERE line.id = NEW.pos_order_line_id
                   AND EXISTS (SELECT 1 FROM customer_consent c
                                WHERE c.partner_id = o.partner_id AND c.purpose = 'health' AND c.withdrawn_at IS NULL)
            ) THEN
                RAISE EXCEPTION 'customer_registry: line %: allergen % is no allergy of its customer with consent',
                    NEW.pos_order_line_id, NEW.customer_allergen_id USING ERRCODE = 'check_violation';
            END IF;
            RETURN NEW;
        END;
        $$;
        DROP TRIGGER IF EXISTS customer_registry_order_line_allergen_guard ON pos_order_line_allergen_confirmed_rel;
        CREATE TRIGGER customer_registry_order_line_allergen_guard
            BEFORE INSERT OR UPDATE ON pos_order_line_allergen_confirmed_rel
            FOR EACH ROW EXECUTE FUNCTION customer_registry_order_line_allergen_guard();
        DROP TRIGGER IF EXISTS customer_registry_order_line_allergen_guard ON pos_order_line_allergen_unconfirmed_rel;
        CREATE TRIGGER customer_registry_order_line_allergen_guard
            BEFORE INSERT OR UPDATE ON pos_order_line_allergen_unconfirmed_rel
            FOR EACH ROW EXECUTE FUNCTION customer_registry_order_line_allergen_guard();
        """


def pos_order_guard_sql():
    """An order's member code is its customer's, and a member's order keeps no email or phone."""
    return """
        CREATE OR REPLACE FUNCTION customer_registry_pos_order_guard() RETURNS trigger
        LANGUAGE plpgsql AS $$
        DECLARE
            code varchar;
            member_company int;
        BEGIN
            SELECT pseudonym, company_id INTO code, member_company FROM res_partner WHERE id = NEW.partner_id;
            IF code IS NOT NULL AND member_company IS DISTINCT FROM NEW.company_id THEN
                RAISE EXCEPTION 'customer_registry: member % belongs to another company than the order', code
                    USING ERRCODE = 'check_violation';
            END IF;
            NEW.pseudonym := code;
            IF code IS NOT NULL THEN
                NEW.email := NULL;
                NEW.mobile := NULL;
            END IF;
            RETURN NEW;
        END;
        $$;
        DROP TRIGGER IF EXISTS customer_registry_pos_order_guard ON pos_order;
        CREATE TRIGGER customer_registry_pos_order_guard
            BEFORE INSERT OR UPDATE OF partner_id, pseudonym, email, mobile ON pos_order
            FOR EACH ROW EXECUTE FUNCTION customer_registry_pos_order_guard();
        """


def repair_members_before_guards(cr):
    """Bring members stored by earlier versions within the guards above (upgrade to 19.0.1.1.0).

    Returns the ids of half-enrolled contacts (membership without a code or
    identity, from a context default), un-flagged here and enrolled properly
    by the post-migration.  Plain SQL: it runs before the models are loaded.
    """
    cr.execute(
        "SELECT 1 FROM information_schema.columns WHERE table_name = 'res_partner' AND column_name = 'pseudonym'"
    )
    if not cr.fetchone():
        return []
    # The models' init() creates the guards again once the upgrade loads them.
    cr.execute(
        """DROP TRIGGER IF EXISTS customer_registry_partner_guard ON res_partner;
           DROP TRIGGER IF EXISTS customer_registry_partner_update_guard ON res_partner;
           DROP TRIGGER IF EXISTS customer_registry_partner_unenroll_guard ON res_partner;
           DROP TRIGGER IF EXISTS customer_registry_consent_guard ON customer_consent;
           DROP TRIGGER IF EXISTS customer_registry_pos_order_guard ON pos_order;"""
    )
    cr.execute(
        """UPDATE res_partner SET is_registry_member = false
            WHERE is_registry_member AND (pseudonym IS NULL
               OR NOT EXISTS (SELECT 1 FROM customer_identity i WHERE i.partner_id = res_partner.id))
        RETURNING id"""
    )
    half_members = [row[0] for row in cr.fetchall()]
    # Members were shared partners: they belong to the company of their identity.
    cr.execute(
        """UPDATE res_partner p SET company_id = i.company_id FROM customer_identity i
            WHERE i.partner_id = p.id AND p.is_registry_member AND p.company_id IS NULL"""
    )
    cr.execute(
        """UPDATE customer_consent c SET company_id = p.company_id FROM res_partner p
            WHERE p.id = c.partner_id AND c.company_id IS DISTINCT FROM p.company_id"""
    )
    # Child contacts of members were ordinary contacts readable by cashiers: detached and archived.
    cr.execute(
        """UPDATE res_partner child SET parent_id = NULL, active = false FROM res_partner parent
            WHERE child.parent_id = parent.id AND parent.is_registry_member RETURNING child.id"""
    )
    detached = [row[0] for row in cr.fetchall()]
    if detached:
        _logger.warning("Child contacts of registry members detached and archived: partners %s", detached)
    # What mail tracked and what orders kept of members before.
    cr.execute(
        """DELETE FROM mail_tracking_value v USING mail_message m, res_partner p
            WHERE v.mail_message_id = m.id AND m.model = 'res.partner' AND m.res_id = p.id AND p.is_registry_member"""
    )
    cr.execute(
        """UPDATE pos_order o SET email = NULL, mobile = NULL FROM res_partner p
            WHERE p.id = o.partner_id AND p.is_registry_member AND (o.email IS NOT NULL OR o.mobile IS NOT NULL)"""
    )
    return half_members
