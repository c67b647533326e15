from . import controllers
from . import models
from . import report
from . import wizards

# The database functions this addon creates (the ledger's, the vault's, the erasure log's) all
# start with one of these; their triggers go with them (CASCADE), on Odoo's tables too.
FUNCTION_PREFIXES = ("customer_loyalty_", "customer_registry_", "customer_erasure_", "customer_identity_")


def uninstall_hook(env):
    """Leave nothing behind: a trigger left on res_partner, mail_message or ir_attachment would call
    a function about columns the uninstall removed and break every write to those tables."""
    env.cr.execute(
        r"""SELECT p.oid::regprocedure::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
             WHERE n.nspname = current_schema() AND p.proname LIKE ANY(%s)""",
        [[prefix.replace("_", r"\_") + "%" for prefix in FUNCTION_PREFIXES]],
    )
    for (signature,) in env.cr.fetchall():
        env.cr.execute(f"DROP FUNCTION IF EXISTS {signature} CASCADE")  # pylint: disable=sql-injection
    # The retention reports' summary tables (report/retention_summary.py) are no ORM tables.
    from .report.retention_summary import SUMMARY_TABLES

    env.cr.execute(f"DROP TABLE IF EXISTS {', '.join(SUMMARY_TABLES)}")  # pylint: disable=sql-injection
