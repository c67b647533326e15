"""Encrypted, audited identity reads and the blind-index lookup, against their plain-text equivalents.

benchmarks/run privacy [--size small|full]

Times, interleaved (A,B then B,A) in one process, median of the pair ratios:
- identity_read: a personal-data user reads 1,000 identities (name, email, phone,
  address, birthdate, tax ID) sealed with a key, decrypted and audited (the
  audit's INSERT at commit included), vs 1,000 plain-text identities (stored
  without keys, no sealed text) read by Odoo's own read() with the addon's
  reading overrides taken away (Odoo's fetch with the reader's access rules,
  Odoo's formatting, no audit) (target: at most 1.3). Also printed: the same
  against Odoo's fetch and formatting called by hand (without read()'s own
  bookkeeping), as earlier versions of this benchmark compared;
- lookup: the cashier's `registry_find_by_contact` (HMAC of the typed value,
  the blind index, the audit entry) among 1,000,000 identities (100,000 with
  `--size small`) vs the same lookup on the plain-text email, on a btree index
  of the same table: the same access check, joined query and audit entry,
  written the same way, without the digest (target: at most 1.2; the lookup
  is audited whatever its index). Also printed: against the plain lookup
  without its audit entry, what the audit's INSERT costs a request. Each
  lookup runs as an HTTP request does: on a cursor borrowed from Odoo's pool
  (which resets the connection: PostgreSQL's DISCARD ALL, cached plans
  included), reading the user as authentication does, then committing, where
  the audit's precommit runs; on all sides.
Each timing is printed with its queries per operation. If benchmarks/
_privacy_retention.py exists (the storage-limit job's benchmark), its figures
are printed on the same last line.
"""

import base64
import hashlib
import hmac
import os
import resource
import statistics
import time
from unittest.mock import patch

import harness
from common import interleaved

# Identities for the lookup, pairs of lookups, pairs of reads, lookups per op. These machines are noisy
# (pair ratios of one run spread over 1.1-1.7): a read op takes about 10 ms, so it runs many pairs.
SIZES = {"small": (100_000, 7, 21, 20), "full": (1_000_000, 21, 51, 50)}
READ_IDENTITIES = 1_000
READ_FIELDS = ["legal_name", "email", "phone", "street", "zip", "city", "birthdate", "vat"]
# Fixed keys: the benchmark's figures do not depend on a draw.
KEY = base64.urlsafe_b64encode(hashlib.sha256(b"customer_registry benchmark key").digest()).decode()
INDEX_KEY = base64.urlsafe_b64encode(hashlib.sha256(b"customer_registry benchmark index key").digest()).decode()
KEYS_ENV = {"CUSTOMER_REGISTRY_KEYS": f"1:{KEY}", "CUSTOMER_REGISTRY_INDEX_KEYS": f"1:{INDEX_KEY}"}
CHUNK = 50_000


def keys_on():
    os.environ.update(KEYS_ENV)


def keys_off():
    for name in KEYS_ENV:
        os.environ.pop(name, None)


def person(index):
    return {
        "is_registry_member": True,
        "name": f"Bench Person {index}",
        "email": f"bench.person{index}@example.com",
        "phone": f"+47 9{index:07d}",
        "street": f"Benchgata {index}",
        "zip": f"{5000 + index % 100}",
        "city": "Bergen",
        "vat": f"{10000000000 + index}",
    }


def compare(name, a_operation, b_operation, cr, pairs, query_count=None):
    """Median of the A/B time ratios over interleaved pairs, with queries per operation.

    `query_count` (a function) counts the queries when the operations run on cursors of their own.
    """
    query_count = query_count or (lambda: cr.sql_log_count)
    for _warm_up in range(3):  # caches: rules, plans, pages
        a_operation(), b_operation()
    ratios, a_times, b_times, _a_rows, _b_rows = interleaved(a_operation, b_operation, pairs)
    counts = []
    for operation in (a_operation, b_operation):
        before = query_count()
        rows = operation()
        counts.append((query_count() - before, rows))
    print(
        f"{name}: A median {statistics.median(a_times) * 1000:.1f} ms ({counts[0][0]} queries, {counts[0][1]} rows), "
        f"B median {statistics.median(b_times) * 1000:.1f} ms ({counts[1][0]} queries, {counts[1][1]} rows), "
        f"ratios {', '.join(f'{ratio:.2f}' for ratio in ratios)}",
        flush=True,
    )
    return statistics.median(ratios)


def identity_read_ratio(env, cr, pairs):
    import odoo  # late: the harness configures Odoo first

    Partner = env["res.partner"]
    keys_off()
    plain = Partner.create([person(index) for index in range(READ_IDENTITIES)]).registry_identity_ids
    # Flushed without keys: the sealed text is computed at flush, which with keys set would seal
    # (and the read then decrypt) the plain side too.
    env.flush_all()
    keys_on()
    sealed = Partner.create([person(index) for index in range(READ_IDENTITIES, 2 * READ_IDENTITIES)])
    sealed = sealed.registry_identity_ids
    env.flush_all()
    cr.execute(
        "SELECT COUNT(*) FILTER (WHERE key_version = 1 AND email IS NULL), COUNT(*) FILTER (WHERE key_version = 0)"
        " FROM customer_identity"
    )
    sealed_count, plain_count = cr.fetchone()
    print(f"identities sealed / plain: {sealed_count} / {plain_count}", flush=True)
    if (sealed_count, plain_count) != (READ_IDENTITIES, READ_IDENTITIES):
        raise RuntimeError("the read comparison needs 1,000 sealed and 1,000 plain identities")
    reader = env.ref("base.user_admin")
    reader.group_ids |= env.ref("customer_registry.group_registry_pii")
    env.flush_all()
    cr.commit()

    def sealed_audited():
        env.invalidate_all()
        rows = sealed.with_user(reader).read(READ_FIELDS)
        cr.flush()  # the request's commit: the audit's one INSERT
        return len(rows)

    def plain_read():
        env.invalidate_all()
        records = plain.with_user(reader)
        # Odoo's own read() of the plain columns, with the addon's reading overrides taken away (no
        # sealed text, no audit): what reading an unencrypted, unaudited register costs, read()'s
        # own bookkeeping included. The query is the one Odoo's fetch() builds, with the reader's
        # access rules, as A's.
        model_class = type(records)
        with (
            patch.object(model_class, "_fetch_query", odoo.models.BaseModel._fetch_query),
            patch.object(model_class, "_read_format", odoo.models.BaseModel._read_format),
        ):
            rows = records.read(READ_FIELDS)
        cr.flush()
        return len(rows)

    def plain_fetch_and_format():
        env.invalidate_all()
        records = plain.with_user(reader)
        # Odoo's fetch and formatting called by hand, without read(): the comparison of earlier versions.
        query = records._search([("id", "in", records.ids)], active_test=False)
        odoo.models.BaseModel._fetch_query(records, query, [records._fields[name] for name in READ_FIELDS])
        rows = odoo.models.BaseModel._read_format(records, READ_FIELDS)
        cr.flush()
        return len(rows)

    ratio = compare("identity_read (sealed+audited vs Odoo's read() of plain)", sealed_audited, plain_read, cr, pairs)
    by_hand = compare(
        "identity_read (sealed+audited vs plain fetch and format by hand)",
        sealed_audited,
        plain_fetch_and_format,
        cr,
        pairs,
    )
    cr.execute("SELECT COUNT(*) FROM customer_identity_audit")
    print(f"audit entries written: {cr.fetchone()[0]}", flush=True)
    cr.rollback()
    return ratio, by_hand


def load_identities(env, cr, count):
    """`count` members with identities in bulk, their emails and phones indexed, as a restore would load them."""
    started = time.monotonic()
    keys = {"email": base64.urlsafe_b64decode(INDEX_KEY), "phone": base64.urlsafe_b64decode(INDEX_KEY)}
    company = env.company.id
    from odoo.addons.customer_registry import sealing  # late: the harness configures Odoo first

    # A real sealed text, the same for every row: the lookup must never open it (sealing 1,000,000 rows
    # one by one would only slow the load).
    token = sealing.seal(dict.fromkeys(READ_FIELDS, "Bench value"), 0)
    cr.execute("SET session_replication_role = replica")  # bypass the guards: a restore's load
    for start in range(0, count, CHUNK):
        numbers = list(range(start, min(count, start + CHUNK)))
        emails = [f"member{n}@example.com" for n in numbers]
        phones = [f"4798{n:08d}" for n in numbers]
        email_index = [
            hmac.new(keys["email"], f"email:{email}".encode(), hashlib.sha256).hexdigest() for email in emails
        ]
        phone_index = [
            hmac.new(keys["phone"], f"phone:{phone}".encode(), hashlib.sha256).hexdigest() for phone in phones
        ]
        cr.execute(
            """WITH partners AS (
                   INSERT INTO res_partner (name, complete_name, active, type, autopost_bills, is_registry_member,
                                            pseudonym, company_id, create_date, write_date)
                   SELECT 'M' || n, 'M' || n, TRUE, 'contact', 'ask', TRUE, 'bench' || n, %(company)s, NOW(), NOW()
                     FROM unnest(%(numbers)s::int[]) AS n
                   RETURNING id, name)
               INSERT INTO customer_identity (partner_id, company_id, email, sealed_values, key_version,
                                              email_index, phone_index, index_key_version, create_date, write_date)
               SELECT p.id, %(company)s, r.email, %(token)s, 1, r.email_index, r.phone_index, 1, NOW(), NOW()
                 FROM partners p
                 JOIN unnest(%(numbers)s::int[], %(emails)s::varchar[], %(email_index)s::varchar[],
                             %(phone_index)s::varchar[]) AS r(n, email, email_index, phone_index)
                   ON p.name = 'M' || r.n""",
            {
                "company": company,
                "token": token,
                "numbers": numbers,
                "emails": emails,
                "email_index": email_index,
                "phone_index": phone_index,
            },
        )
    cr.execute("SET session_replication_role = DEFAULT")
    # The plain-text side of the comparison: the email on a btree index, as an unencrypted register has it.
    cr.execute("CREATE INDEX bench_identity_email ON customer_identity (email)")
    cr.commit()
    cr.execute("ANALYZE customer_identity; ANALYZE res_partner")
    harness.log(f"loaded {count} identities in {time.monotonic() - started:.1f} s")


def lookup_ratio(env, cr, count, pairs, per_op):
    import odoo  # late: the harness configures Odoo first

    load_identities(env, cr, count)
    cashier = env["res.users"].create(
        {
            "name": "Bench Cashier",
            "login": "bench_cashier",
            "group_ids": [(6, 0, [env.ref("point_of_sale.group_pos_user").id, env.ref("base.group_user").id])],
        }
    )
    cr.commit()
    step = max(1, count // per_op)
    emails = [f"member{n}@example.com" for n in range(7, count, step)][:per_op]
    queries = [0]
    company_id = env.company.id

    def request(work):
        """One lookup as one HTTP request runs it: a cursor from the pool (which resets the connection,
        plans cached by PL/pgSQL included), the work, the commit (and its precommit: the audit)."""
        with env.registry.cursor() as request_cr:
            request_env = odoo.api.Environment(request_cr, cashier.id, {})
            request_env.user.fetch(["share", "company_id"])  # what authenticating the request reads
            result = work(request_env["res.partner"], request_cr)
            request_cr.flush()
            queries[0] += request_cr.sql_log_count
        return result

    def blind_index_lookup():
        return sum(
            request(lambda partner, _cr, email=email: len(partner.registry_find_by_contact(email))) for email in emails
        )

    def plain(query, audited):
        def lookup(partner, request_cr, email):
            # What a register without encryption would run: the same access check and joined query on
            # the plain email (btree index), without the digest; its audit entry written the same way.
            partner.check_access("read")
            params = [[email.strip().lower()], company_id]
            if audited:
                params += [company_id, partner.env.uid]
            request_cr.execute(query, params)
            return len([{"id": id_, "name": name, "pseudonym": code} for id_, name, code in request_cr.fetchall()])

        return lambda: sum(
            request(lambda partner, request_cr, email=email: lookup(partner, request_cr, email)) for email in emails
        )

    found = """SELECT p.id, p.name, p.pseudonym
                 FROM customer_identity i JOIN res_partner p ON p.id = i.partner_id
                WHERE i.email = ANY(%s) AND i.company_id = %s AND p.active AND p.registry_erased_at IS NULL
                ORDER BY p.id LIMIT 10"""
    plain_audited = plain(
        f"""WITH found AS ({found}),
                 audit AS (
                     INSERT INTO customer_identity_audit
                            (read_at, company_id, field_names, channel, user_id, member_codes, member_count)
                     SELECT now() AT TIME ZONE 'UTC', %s, 'email', 'lookup', %s,
                            string_agg(pseudonym, ' ' ORDER BY pseudonym), count(pseudonym)
                       FROM found)
            SELECT id, name, pseudonym FROM found""",
        audited=True,
    )
    plain_unaudited = plain(found, audited=False)
    title = f"lookup among {count} identities, {len(emails)} lookups per op, one request each"
    ratio = compare(
        f"{title} (blind index vs plain btree, both audited)",
        blind_index_lookup,
        plain_audited,
        cr,
        pairs,
        lambda: queries[0],
    )
    unaudited = compare(
        f"{title} (blind index, audited, vs plain btree without audit)",
        blind_index_lookup,
        plain_unaudited,
        cr,
        pairs,
        lambda: queries[0],
    )
    cr.execute(
        "EXPLAIN SELECT id FROM customer_identity WHERE company_id = %s AND email_index IN (%s) LIMIT 10",
        [env.company.id, "x"],
    )
    print("blind-index plan: " + " / ".join(row[0].strip() for row in cr.fetchall()), flush=True)
    cr.rollback()
    return ratio, unaudited


def main(pg, addons, size):
    import odoo  # late: the harness configures Odoo first

    count, pairs, read_pairs, per_op = SIZES[size]
    dbname = f"bench_privacy_{size}"
    harness.install(pg, addons, dbname)
    keys_on()
    with harness.odoo_registry(pg, addons, dbname) as registry, registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        read_ratio, read_by_hand = identity_read_ratio(env, cr, read_pairs)
        env.invalidate_all()
        look_ratio, look_unaudited = lookup_ratio(env, cr, count, pairs, per_op)
    keys_off()
    pg.drop(dbname)
    import cryptography

    figures = {
        "identity_read_ratio": f"{read_ratio:.2f}",
        "lookup_ratio": f"{look_ratio:.2f}",
        "identity_read_vs_fetch_ratio": f"{read_by_hand:.2f}",
        "lookup_vs_unaudited_ratio": f"{look_unaudited:.2f}",
        "cryptography": cryptography.__version__,
    }
    try:
        import _privacy_retention  # engineer 10b's storage-limit benchmark, when merged
    except ImportError:
        print("benchmarks/_privacy_retention.py not present: retention_cron_s not measured", flush=True)
    else:
        figures.update({key: value for key, value in _privacy_retention.run(pg, addons, size).items()})
    figures.setdefault("peak_rss_mb", f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f}")
    print(" ".join(f"{key}={value}" for key, value in figures.items()), flush=True)
    return 0
