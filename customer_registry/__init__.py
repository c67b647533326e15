from . import controllers
from . import models
from . import report
from . import wizards

from .models.customer_loyalty_entry import LEDGER_FUNCTIONS


def uninstall_hook(env):
    """Leave nothing behind: the ledger's trigger functions (and their triggers, res_partner's included)."""
    for function in LEDGER_FUNCTIONS:
        env.cr.execute(f"DROP FUNCTION IF EXISTS {function}() CASCADE")  # pylint: disable=sql-injection
