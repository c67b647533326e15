"""Storage limits (GDPR Art. 5(1)(e)): the scheduled action erasing inactive members, timed, memory watched.

Called by benchmarks/privacy.py (`benchmarks/run privacy`), which prints the keys of `run` on its last line.

Fills a database in bulk SQL with members who enrolled years ago and never bought, each with an
identity, a message in their chatter and a follower, in two cohorts: a small one (enrolled five
years ago) and the measured one (three years ago).  Then runs the storage-limit job as its scheduled
action does (`res.partner._cron_registry_storage_limits()`, committing per batch) twice: with a
48-month limit, which erases the small cohort only, then with a 24-month limit, which erases the
measured one.  The resident memory of this process is sampled at every batch (the job logs each
batch): if the job kept something per member, the peak of the second run would grow with its
five times larger cohort.  Prints the deterministic figures beside the timing: members erased,
batches, queries per member.
"""

import logging
import os
import time

import harness

# (small cohort, measured cohort): the measured one is five times larger.
SIZES = {"small": (1_000, 5_000), "full": (20_000, 100_000)}
BATCH_LOGGER = "odoo.addons.customer_registry.models.res_partner_privacy"

MEMBERS_SQL = """
INSERT INTO res_partner (name, complete_name, active, type, autopost_bills, is_registry_member, pseudonym,
                         company_id, registry_enrolled_at, create_date, write_date, create_uid, write_uid)
SELECT code, code, TRUE, 'contact', 'ask', TRUE, code, %(company)s,
       now() - %(age)s::interval, now() - %(age)s::interval, now() - %(age)s::interval, 1, 1
  FROM unnest(%(codes)s::text[]) AS code
RETURNING id
"""

IDENTITIES_SQL = """
INSERT INTO customer_identity (partner_id, company_id, legal_name, email, phone, street, zip, city,
                               create_date, write_date, create_uid, write_uid)
SELECT id, %(company)s, 'Bench Person ' || id, 'bench' || id || '@example.com', '+47 4' || LPAD(id::text, 7, '0'),
       'Benchveien ' || id, '5003', 'Bergen', now(), now(), 1, 1
  FROM unnest(%(ids)s::int[]) AS id
"""

CHATTER_SQL = """
INSERT INTO mail_message (model, res_id, body, message_type, author_id, date, create_date, write_date,
                          create_uid, write_uid)
SELECT 'res.partner', id, '<p>Member enrolled</p>', 'notification', 1, now(), now(), now(), 1, 1
  FROM unnest(%(ids)s::int[]) AS id;
INSERT INTO mail_followers (res_model, res_id, partner_id)
SELECT 'res.partner', id, %(follower)s FROM unnest(%(ids)s::int[]) AS id
"""


def rss_mb():
    """Resident memory of this process now (not the high-water mark)."""
    with open(f"/proc/{os.getpid()}/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


class BatchSampler(logging.Handler):
    """Samples the memory at every batch the job logs."""

    def __init__(self):
        super().__init__(logging.INFO)
        self.samples = []

    def emit(self, record):
        if record.getMessage().startswith("Storage limit"):
            self.samples.append(rss_mb())
            if len(self.samples) % 20 == 1:
                harness.log(f"  batch {len(self.samples)}: RSS {self.samples[-1]:.0f} MB")


def generate(env, count, age):
    from odoo.addons.customer_registry import pseudonym

    cr = env.cr
    cr.execute("SELECT pseudonym FROM res_partner WHERE pseudonym IS NOT NULL")
    taken = {row[0] for row in cr.fetchall()}
    codes = set()
    while len(codes) < count:
        code = pseudonym.generate()
        if code not in taken:
            codes.add(code)
    params = {"company": env.company.id, "age": age, "codes": sorted(codes)}
    # Built consistent by construction (a member, its code, its company, its identity): the row
    # triggers guarding what the application writes are off for this bulk load only.
    cr.execute("SET LOCAL session_replication_role = replica")
    cr.execute(MEMBERS_SQL, params)
    ids = [row[0] for row in cr.fetchall()]
    cr.execute(IDENTITIES_SQL, {"company": env.company.id, "ids": ids})
    cr.execute(CHATTER_SQL, {"ids": ids, "follower": env.user.partner_id.id})
    cr.commit()
    return ids


def erase_due(env, months):
    """The scheduled action's code, timed, with memory samples per batch and the query count."""
    sampler = BatchSampler()
    logger = logging.getLogger(BATCH_LOGGER)
    previous_level = logger.level
    logger.setLevel(logging.INFO)
    logger.addHandler(sampler)
    env.company.registry_erase_inactive_months = months
    env.cr.commit()
    env.invalidate_all()
    queries_before = env.cr.sql_log_count
    started = time.perf_counter()
    try:
        env["res.partner"]._cron_registry_storage_limits()
    finally:
        logger.removeHandler(sampler)
        logger.setLevel(previous_level)
    elapsed = time.perf_counter() - started
    return elapsed, env.cr.sql_log_count - queries_before, sampler.samples


def run(pg, addons, size):
    import odoo  # late: the harness configures Odoo first

    small, measured = SIZES[size]
    dbname = f"bench_privacy_retention_{size}"
    harness.install(pg, addons, dbname)
    with harness.odoo_registry(pg, addons, dbname) as registry, registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        started = time.monotonic()
        old = generate(env, small, "5 years")
        due = generate(env, measured, "3 years")
        cr.execute("ANALYZE res_partner; ANALYZE customer_identity; ANALYZE mail_message; ANALYZE mail_followers")
        cr.commit()
        harness.log(f"generated {small} + {measured} inactive members in {time.monotonic() - started:.1f} s")

        baseline = rss_mb()
        small_s, _small_queries, small_samples = erase_due(env, 48)
        harness.log(
            f"{small} members erased in {small_s:.1f} s, {len(small_samples)} batches, "
            f"RSS {min(small_samples):.0f}..{max(small_samples):.0f} MB (before: {baseline:.0f} MB)"
        )
        seconds, queries, samples = erase_due(env, 24)
        harness.log(
            f"{measured} members erased in {seconds:.1f} s, {len(samples)} batches, "
            f"RSS {min(samples):.0f}..{max(samples):.0f} MB"
        )
        cr.execute(
            "SELECT count(*) FILTER (WHERE registry_erased_at IS NOT NULL), count(*) "
            "FROM res_partner WHERE id = ANY(%s)",
            [old + due],
        )
        erased, total = cr.fetchone()
        cr.execute(
            "SELECT count(*) FROM customer_identity WHERE partner_id = ANY(%s)",
            [old + due],
        )
        identities_left = cr.fetchone()[0]
        cr.execute("SELECT count(*) FROM customer_erasure_log WHERE member_id = ANY(%s)", [old + due])
        logged = cr.fetchone()[0]
        if (erased, identities_left, logged) != (total, 0, total):
            harness.die(f"not every member was erased once: {erased}/{total} erased, {logged} logged")
    pg.drop(dbname)
    return {
        "retention_cron_s": round(seconds, 1),
        "retention_members": measured,
        "retention_batches": len(samples),
        "retention_queries_per_member": round(queries / measured, 2),
        "retention_peak_rss_mb": round(max(samples)),
        "retention_peak_rss_small_mb": round(max(small_samples)),
        "retention_rss_growth_mb": round(max(samples) - max(small_samples)),
    }
