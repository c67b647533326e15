import itertools
import random

from stdnum import ean

from odoo.exceptions import ValidationError
from odoo.tests import TransactionCase, tagged

from odoo.addons.customer_registry import pseudonym as codes


def single_digit_errors(code):
    for position, digit in enumerate(code):
        for other in "0123456789":
            if other != digit:
                yield code[:position] + other + code[position + 1 :]


def adjacent_swaps(code):
    for position in range(len(code) - 1):
        a, b = code[position], code[position + 1]
        if a != b:
            yield code[:position] + b + a + code[position + 2 :]


@tagged("post_install", "-at_install")
class TestPseudonymCode(TransactionCase):
    def test_codes_scan_as_client_barcodes(self):
        for _i in range(500):
            code = codes.generate()
            self.assertEqual(len(code), 13)
            self.assertTrue(code.startswith("042"))
            self.assertTrue(ean.is_valid(code), code)
            self.assertEqual(codes.validate(code), code)

    def test_every_typo_of_a_sample_is_rejected(self):
        rng = random.Random(1169)
        sample = [codes.generate() for _i in range(200)]
        # Codes with digits five apart side by side are the ones EAN alone misses.
        sample += ["042" + "".join(rng.choice("05") for _j in range(8)) for _k in range(50)]
        sample = [body[:11] + codes.damm.calc_check_digit(body[:11]) for body in sample]
        sample = [body + ean.calc_check_digit(body) for body in sample]
        for code in sample:
            self.assertTrue(codes.is_valid(code), code)
            for typo in [*single_digit_errors(code), *adjacent_swaps(code)]:
                self.assertFalse(codes.is_valid(typo), f"{typo} (typo of {code}) was accepted")

    def test_ean_alone_misses_swaps_that_the_code_catches(self):
        """The Damm digit is needed: plain EAN-13 accepts some swapped codes."""
        missed_by_ean = 0
        for _i in range(300):
            code = codes.generate()
            for typo in adjacent_swaps(code):
                if ean.is_valid(typo):
                    missed_by_ean += 1
                    self.assertFalse(codes.is_valid(typo))
        self.assertGreater(missed_by_ean, 0)

    def test_typed_codes_are_normalised(self):
        code = codes.generate()
        for typed in (codes.format_code(code), f" {code[:3]}-{code[3:7]}-{code[7:]} ", code.replace("4", "4.", 1)):
            self.assertEqual(codes.validate(typed), code)

    def test_codes_are_random_not_sequential(self):
        generated = sorted(int(codes.generate()[3:11]) for _i in range(1000))
        # 1000 draws among 10^8 codes: about 0.005 collisions expected, six or more happen
        # with a probability far below 1e-15 (a counter or a weak generator gives many more).
        self.assertGreaterEqual(len(set(generated)), 995)
        gaps = {b - a for a, b in itertools.pairwise(generated)}
        self.assertGreater(len(gaps), 900)


@tagged("post_install", "-at_install")
class TestFindByPseudonym(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.member = cls.env["res.partner"].create({"name": "Kari Nordmann", "is_registry_member": True})

    def test_known_code_finds_the_member(self):
        Partner = self.env["res.partner"]
        self.assertEqual(Partner.find_by_pseudonym(self.member.pseudonym), self.member)
        self.assertEqual(Partner.find_by_pseudonym(codes.format_code(self.member.pseudonym)), self.member)

    def test_unknown_valid_code_finds_nobody(self):
        unknown = codes.generate()
        while unknown == self.member.pseudonym:
            unknown = codes.generate()
        self.assertFalse(self.env["res.partner"].find_by_pseudonym(unknown))

    def test_malformed_codes_get_a_clear_error(self):
        Partner = self.env["res.partner"]
        code = self.member.pseudonym
        cases = {
            "04212345": "13 digits",
            "abc": "only digits",
            "1" + code[1:]: "starts with 042",
            code[:-2] + code[-1] + code[-2]: "mistyped",
        }
        for typed, message in cases.items():
            if typed == code:
                continue
            with self.assertRaisesRegex(ValidationError, message):
                Partner.find_by_pseudonym(typed)
