from . import test_pseudonym
from . import test_pos_member
