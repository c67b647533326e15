from . import test_pseudonym
from . import test_loyalty_ledger
from . import test_loyalty_concurrency
from . import test_loyalty_property
from . import test_loyalty_tour
