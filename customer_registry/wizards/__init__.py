from . import customer_segment_mailing_wizard
from . import customer_loyalty_adjustment
from . import base_partner_merge_automatic_wizard
from . import customer_erasure_wizard
from . import customer_enrollment_wizard
from . import base_import_import
