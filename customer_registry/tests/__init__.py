from . import test_pseudonym
from . import test_retention_reports
from . import test_retention_monthly
from . import test_customer_segment
