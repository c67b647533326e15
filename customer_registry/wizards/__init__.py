from . import customer_loyalty_adjustment
