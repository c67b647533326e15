from . import test_pseudonym
from . import test_enrollment
from . import test_access
from . import test_consent
from . import test_pos_order
from . import test_pos_member
from . import test_translation
