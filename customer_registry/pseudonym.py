"""Member card codes: random, EAN-13 scannable, typo-proof.

A code is ``042`` (the client prefix of Odoo's default barcode nomenclature),
eight digits from the operating system's CSPRNG, one Damm check digit over
those eleven digits and the EAN-13 check digit.  EAN's weighted sum misses some
adjacent swaps (digits five apart); Damm catches every single-digit error and
every adjacent swap in the first twelve digits, and a swap of the last two
digits changes the twelfth, which Damm catches too.
"""

import re
import secrets

from stdnum import damm, ean

from odoo.tools.translate import LazyTranslate

_lt = LazyTranslate(__name__)

PREFIX = "042"
RANDOM_DIGITS = 8
LENGTH = len(PREFIX) + RANDOM_DIGITS + 2
_SEPARATORS = re.compile(r"[\s\-.]")


class InvalidPseudonym(ValueError):
    """The text is not a member code; the message says why."""


def generate():
    random_part = f"{secrets.randbelow(10**RANDOM_DIGITS):0{RANDOM_DIGITS}d}"
    body = PREFIX + random_part
    body += damm.calc_check_digit(body)
    return body + ean.calc_check_digit(body)


def compact(code):
    """The code without the spaces, dashes and dots people type."""
    return _SEPARATORS.sub("", code or "")


def validate(code):
    """Return the compact code, or raise InvalidPseudonym explaining the fault."""
    value = compact(code)
    if not value.isdigit():
        raise InvalidPseudonym(_lt("A member code contains only digits."))
    if len(value) != LENGTH:
        raise InvalidPseudonym(
            _lt("A member code has %(expected)s digits, not %(given)s.", expected=LENGTH, given=len(value))
        )
    if not value.startswith(PREFIX):
        raise InvalidPseudonym(_lt("A member code starts with %s.", PREFIX))
    if not ean.is_valid(value) or not damm.is_valid(value[:-1]):
        raise InvalidPseudonym(_lt("The check digits do not match: the code was mistyped."))
    return value


def is_valid(code):
    try:
        validate(code)
    except InvalidPseudonym:
        return False
    return True


def format_code(code):
    """Group the digits for printing: 042 1234 5678 90."""
    value = compact(code)
    return " ".join((value[:3], value[3:7], value[7:11], value[11:]))
