def migrate(cr, version):
    """The identity read audit keeps one entry per request with the codes read, not one per member.

    Earlier entries become entries of one code each. The link to the member (member_id) goes: an
    entry keeps the card code only, and the foreign key's SET NULL was the one change the
    append-only trigger had to let through.
    """
    cr.execute(
        "SELECT 1 FROM information_schema.columns"
        " WHERE table_name = 'customer_identity_audit' AND column_name = 'member_id'"
    )
    if not cr.fetchone():
        return
    cr.execute(
        """ALTER TABLE customer_identity_audit DISABLE TRIGGER USER;
           ALTER TABLE customer_identity_audit ADD COLUMN IF NOT EXISTS member_codes text,
                                               ADD COLUMN IF NOT EXISTS member_count integer;
           UPDATE customer_identity_audit
              SET member_codes = pseudonym, member_count = CASE WHEN pseudonym IS NULL THEN 0 ELSE 1 END;
           ALTER TABLE customer_identity_audit DROP COLUMN member_id, DROP COLUMN pseudonym;
           DROP INDEX IF EXISTS customer_identity_audit__company_id_index;
           DROP INDEX IF EXISTS customer_identity_audit__channel_index;
           ALTER TABLE customer_identity_audit ENABLE TRIGGER USER;"""
    )
