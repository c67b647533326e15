"""Encryption at rest of identity values, and the keyed blind index of emails and phones.

Keys live outside the database: the Odoo configuration file options
``customer_registry_keys`` and ``customer_registry_index_keys``, else the
environment variables ``CUSTOMER_REGISTRY_KEYS`` and
``CUSTOMER_REGISTRY_INDEX_KEYS``. Each holds ``version:key`` pairs separated by
commas, the current key first (``3:<key>,2:<older key>``); a key is 32 random
bytes in URL-safe base64, as ``python3 -c "import base64, os;
print(base64.urlsafe_b64encode(os.urandom(32)).decode())"`` prints.

An identity's values are sealed together, once per row, with AES-256-GCM from
the ``cryptography`` package (one decryption per identity read, not one per
field); the sealed text starts with the key version (``crv3;``), so a row knows
which key sealed it, then standard base64. Inside, the values are framed by NUL
characters (which no PostgreSQL text holds), in the order of a known list of
names that a one-character marker names: a thousand identities open in a
fraction of what JSON parsing cost. Texts sealed by earlier versions (JSON, or
the names written in each text, URL-safe base64 after ``crv3:``) still open;
the key-rotation command re-seals them in the current form.

The blind index is HMAC-SHA256 of the normalised value under the index key:
equal inputs give equal digests, and without the key a digest tells nothing about the phone number or address behind it.
"""

import base64
import binascii
import contextlib
import functools
import hashlib
import hmac
import itertools
import json
import operator
import os
import re

import cryptography
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from odoo.tools import config

KEYS_OPTION = "customer_registry_keys"
INDEX_KEYS_OPTION = "customer_registry_index_keys"
PREFIX = "crv"
# Binds a sealed text to what it is and where it belongs: a text moved to another table or column,
# or copied to another identity's row, does not open (texts of earlier versions, after "crv3:",
# were bound to the table only).
ASSOCIATED_DATA = b"customer_registry.identity"
ROW_ASSOCIATED_DATA = b"customer_registry.identity:%d"
NONCE_SIZE = 12
TAG_SIZE = 16  # earlier versions padded the text so that nonce, text and tag made a multiple of 3


class SealingError(ValueError):
    """A key option is malformed, or a row needs a key that is not configured."""


def _raw(option):
    return config.get(option) or os.environ.get(option.upper()) or ""


@functools.lru_cache(maxsize=8)
def _parse(raw):
    keys = {}
    for item in filter(None, (part.strip() for part in raw.split(","))):
        version, sep, encoded = item.partition(":")
        if not sep or not version.isdigit() or int(version) < 1:
            raise SealingError(f"{item[:4]}...: write each key as version:key, the version a number from 1")
        try:
            key = base64.urlsafe_b64decode(encoded.strip())
        except (binascii.Error, ValueError) as error:
            raise SealingError(f"key version {version} is not URL-safe base64") from error
        if len(key) != 32:
            raise SealingError(f"key version {version} must be 32 bytes, it is {len(key)}")
        if int(version) in keys:
            raise SealingError(f"key version {version} is given twice")
        keys[int(version)] = key
    return keys


def encryption_keys():
    """{version: key}, the current key first; empty when encryption is off."""
    return _parse(_raw(KEYS_OPTION))


def index_keys():
    """{version: key}, the current blind-index key first; empty without one."""
    return _parse(_raw(INDEX_KEYS_OPTION))


def current_version():
    """The version new values are sealed with; 0 when encryption is off (plain text, as before)."""
    return next(iter(encryption_keys()), 0)


def current_index_version():
    return next(iter(index_keys()), 0)


# cryptography before 45 (3.4.8 is what Odoo 19 pins on Python 3.11) sets an OpenSSL context up at
# each AESGCM call: about 19 us, against under 1 us from 45 on (measured here, see the README).
FAST_CRYPTOGRAPHY = "45"


def slow_cryptography():
    """The installed cryptography's version when it opens sealed texts slowly, else ""."""
    major = cryptography.__version__.split(".", 1)[0]
    return cryptography.__version__ if major.isdigit() and int(major) < int(FAST_CRYPTOGRAPHY) else ""


@functools.lru_cache(maxsize=8)
def _cipher(key):
    return AESGCM(key)


# First byte of a sealed text framed by NUL characters (earlier texts are JSON, starting with "{"):
# FRAMED texts start with their names; a FIXED_FRAMES text holds the values of a known list of
# names, in its order, without repeating them (a third of an identity's sealed bytes).
FRAMED = "\x01"
# Never change a list here: texts sealed with its marker read by it. Values added to or removed from
# an identity get a new marker (and the key-rotation command re-seals the rows in it).
FIXED_FRAMES = {
    "\x02": ("legal_name", "email", "phone", "street", "street2", "zip", "city", "birthdate", "vat", "notes"),
}
FIXED_MARKERS = {names: marker for marker, names in FIXED_FRAMES.items()}
# Sealed texts by version: "crv3:" URL-safe base64 (earlier versions), "crv3;" standard base64,
# which decodes without translating the alphabet first.
SEPARATOR = ";"
EMPTY_TO_NONE = {"": None}


def _frame(values):
    """{name: str or None} as one text: a marker (and the names, unless known), then the values, NUL between.

    An empty string reads back as None, Odoo's empty value. The text ends with
    NUL and an empty last part (earlier versions padded it with spaces there).
    """
    for name, value in values.items():
        if value is not None and not isinstance(value, str):
            raise TypeError(f"sealed value {name} is not a string")
        if value and "\x00" in value:
            raise ValueError(f"{name} cannot contain NUL (0x00) characters")
    header = FIXED_MARKERS.get(tuple(values)) or FRAMED + ",".join(values)
    return "\x00".join([header, *(value or "" for value in values.values()), ""]).encode()


def seal(values, row):
    """The dict `values` ({name: str or None}) sealed with the current key, for the identity whose id is `row`."""
    keys = encryption_keys()
    version = next(iter(keys))
    nonce = os.urandom(NONCE_SIZE)
    data = _frame(values)
    sealed = _cipher(keys[version]).encrypt(nonce, data, ROW_ASSOCIATED_DATA % row)
    return f"{PREFIX}{version}{SEPARATOR}{base64.b64encode(nonce + sealed).decode()}"


VERSION_PATTERN = re.compile(rf"{PREFIX}([1-9]\d*)[:{SEPARATOR}]")


def sealed_version(token):
    """The key version of a sealed text (0 for none)."""
    match = VERSION_PATTERN.match(token or "")
    return int(match.group(1)) if match else 0


def _prefix(token):
    """The version prefix of a sealed text ("crv3;"), "" when it has none."""
    match = VERSION_PATTERN.match(token or "")
    return match.group(0) if match else ""


def _b64decode_standard(body):
    # Strict: a character added, changed or dropped does not decode (nor open), whatever it is.
    return binascii.a2b_base64(body, strict_mode=True)


def _b64decode_urlsafe(body):
    return _b64decode_standard(body.replace("-", "+").replace("_", "/"))


def _b64decoder(prefix):
    """The decoding of the base64 after `prefix`: standard after "crv3;", URL-safe (earlier versions) after "crv3:"."""
    return _b64decode_standard if prefix.endswith(SEPARATOR) else _b64decode_urlsafe


# The nonce and the ciphertext (with its tag) of a decoded text.
NONCE = operator.itemgetter(slice(NONCE_SIZE))
CIPHERTEXT = operator.itemgetter(slice(NONCE_SIZE, None))


def _open(token, row, keys):
    """The plain bytes sealed in `token`, the text of the identity whose id is `row`."""
    return _open_alike([token], [row], _prefix(token), keys)[0]


def _parse_values(text):
    """The dict of a plain text: NUL-framed (with its names or a known list), or JSON as earlier versions sealed it."""
    names = FIXED_FRAMES.get(text[:1])
    if names is None and not text.startswith(FRAMED):
        return json.loads(text)
    parts = text.split("\x00")
    if names is None:
        names = parts[0][1:].split(",")
    return {name: part or None for name, part in zip(names, parts[1 : len(names) + 1], strict=True)}


def unseal(token, row, keys=None):
    """The dict sealed in `token` for the identity `row`; SealingError when its key is not configured,
    it was tampered with or it is another identity's text.

    `keys` (from encryption_keys()) saves reading the configuration once per row when opening many.
    """
    return _parse_values(_open(token, row, keys if keys is not None else encryption_keys()).decode())


def _open_many(tokens, rows, keys):
    """The plain texts of `tokens` (of the identities `rows`): those sealed alike decoded together."""
    prefix = _prefix(tokens[0])
    if prefix:
        # As if every text were sealed like the first: a text with another prefix does not open so
        # (another key, another alphabet, or its base64 shifted by the prefix's length); then by group.
        with contextlib.suppress(SealingError):
            return _open_alike(tokens, rows, prefix, keys)
    # Texts sealed under several keys or forms (before the key-rotation command has run): by group.
    groups = {}
    for position, token in enumerate(tokens):
        groups.setdefault(_prefix(token), []).append(position)
    texts = [None] * len(tokens)
    for group_prefix, positions in groups.items():
        if not group_prefix:
            raise SealingError("identity values are not a sealed text")
        group = [tokens[position] for position in positions]
        opened = _open_alike(group, [rows[position] for position in positions], group_prefix, keys)
        for position, text in zip(positions, opened, strict=True):
            texts[position] = text
    return texts


def _open_alike(tokens, rows, prefix, keys):
    """The plain texts of `tokens` (of the identities `rows`), all starting with `prefix` (one key version, one form).

    Each text is decoded and decrypted by C code mapped over the tokens: no
    Python runs per identity, and reading a thousand identities costs little
    more than reading them in plain text.
    """
    version = sealed_version(prefix)
    key = keys.get(version)
    if key is None:
        raise SealingError(f"identity values sealed with key version {version}, which is not configured")
    try:
        raws = list(map(_b64decoder(prefix), map(operator.itemgetter(slice(len(prefix), None)), tokens)))
        # cryptography's supported AESGCM only: its private OpenSSL binding could skip the per-call
        # context set-up (about 19 us per identity with 3.4.8), but is not an API to build security on.
        decrypt = _cipher(key).decrypt
        if prefix.endswith(SEPARATOR):
            associated = map(ROW_ASSOCIATED_DATA.__mod__, rows)
        else:
            associated = itertools.repeat(ASSOCIATED_DATA)
        return list(map(decrypt, map(NONCE, raws), map(CIPHERTEXT, raws), associated))
    except (InvalidTag, binascii.Error, ValueError) as error:
        raise SealingError(f"identity values sealed with key version {version} do not open with that key") from error


def unseal_columns(tokens, rows, names):
    """{name: [value of each token]} for the values `names` sealed in `tokens` (the texts of the
    identities whose ids are `rows`), opened in one pass.

    A thousand identities read at once: the texts are split together and the
    values gathered a column at a time. A name a token does not hold reads None.
    """
    if not tokens:
        return {name: [] for name in names}
    texts = _open_many(tokens, rows, encryption_keys())
    parts = b"\x00".join(texts).decode().split("\x00")
    # Values hold no NUL (seal refuses them): texts framed alike have the same number of parts (the
    # header, the values, the last part), so every text is framed so when the parts add up and each
    # text's first part is that header.
    frames = [
        *FIXED_FRAMES.items(),
        # Earlier versions wrote the names in each text: all of a known list, or those asked for.
        *((FRAMED + ",".join(frame_names), frame_names) for frame_names in FIXED_FRAMES.values()),
        (FRAMED + ",".join(names), tuple(names)),
    ]
    for header, frame_names in frames:
        width = len(frame_names) + 2
        if len(parts) == width * len(texts) and parts[::width].count(header) == len(texts):
            columns = {}
            for name in names:
                if name in frame_names:
                    column = parts[frame_names.index(name) + 1 :: width]
                    # An empty value reads None (Odoo's empty value), mapped in C, in the columns that have one.
                    columns[name] = list(map(EMPTY_TO_NONE.get, column, column)) if "" in column else column
                else:
                    columns[name] = [None] * len(texts)
            return columns
    # Sealed by an earlier version (JSON), with other names, or framed in several ways: one at a time.
    rows = [_parse_values(text.decode()) for text in texts]
    return {name: [row.get(name) for row in rows] for name in names}


def normalize_email(value):
    return (value or "").strip().lower()


def normalize_phone(value):
    """Digits only; a leading + or 00 (international prefix) is dropped: '+47 912 34 567' -> '4791234567'."""
    digits = re.sub(r"\D", "", value or "")
    if (value or "").strip().startswith("00"):
        digits = digits[2:]
    return digits


NORMALIZERS = {"email": normalize_email, "phone": normalize_phone}


def blind_index(kind, value, version=None):
    """HMAC-SHA256 of the normalised value under the index key `version` (current by default)."""
    normalized = NORMALIZERS[kind](value)
    keys = index_keys()
    if not normalized or not keys:
        return False
    key = keys[version or next(iter(keys))]
    return hmac.new(key, f"{kind}:{normalized}".encode(), hashlib.sha256).hexdigest()


def blind_index_candidates(kind, value):
    """The digests of `value` under every configured index key: rows not yet re-indexed still match."""
    return [digest for version in index_keys() if (digest := blind_index(kind, value, version))]
