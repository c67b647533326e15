from . import customer_allergen
from . import customer_diet
from . import customer_preference
from . import customer_consent
from . import customer_identity
from . import res_partner
from . import pos_order
