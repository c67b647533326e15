from . import customer_segment_mailing_wizard
