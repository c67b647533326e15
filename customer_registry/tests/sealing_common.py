import base64
import os
from contextlib import contextmanager
from unittest.mock import patch


def new_key():
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


@contextmanager
def registry_keys(keys, index_keys=None):
    """Run with these encryption and blind-index keys, as an administrator sets them in the environment."""
    env = {
        "CUSTOMER_REGISTRY_KEYS": ",".join(f"{version}:{key}" for version, key in keys),
        "CUSTOMER_REGISTRY_INDEX_KEYS": ",".join(f"{version}:{key}" for version, key in (index_keys or [])),
    }
    with patch.dict(os.environ, env):
        yield
