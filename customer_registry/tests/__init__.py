from . import test_pseudonym
