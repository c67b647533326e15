// Member card codes as cashiers type and read them. The rules are those of pseudonym.py (the server's),
// with the same messages, so a mistyped code gets the same reason at the till as in the backend.
import { _t } from "@web/core/l10n/translation";

const SEPARATORS = /[\s\-.]/g;
const MEMBER_CODE = /^042\d{10}$/;
const PREFIX = "042";
const LENGTH = 13;
// Damm's quasigroup (python-stdnum's table): every single-digit error and adjacent swap changes the result.
const DAMM = [
    [0, 3, 1, 7, 5, 9, 8, 6, 4, 2],
    [7, 0, 9, 2, 1, 5, 4, 8, 6, 3],
    [4, 2, 0, 6, 8, 7, 1, 3, 5, 9],
    [1, 7, 5, 0, 9, 8, 3, 4, 2, 6],
    [6, 1, 2, 3, 0, 4, 5, 9, 7, 8],
    [3, 6, 7, 4, 2, 0, 9, 5, 8, 1],
    [5, 8, 6, 9, 7, 2, 0, 1, 3, 4],
    [8, 9, 4, 5, 3, 6, 2, 0, 1, 7],
    [9, 4, 3, 8, 6, 1, 7, 2, 0, 5],
    [2, 5, 8, 1, 4, 3, 6, 7, 9, 0],
];

function compact(text) {
    return (text || "").replace(SEPARATORS, "");
}

function dammIsValid(digits) {
    return [...digits].reduce((interim, digit) => DAMM[interim][Number(digit)], 0) === 0;
}

function eanIsValid(digits) {
    const sum = [...digits].reduce((total, digit, index) => total + Number(digit) * (index % 2 ? 3 : 1), 0);
    return sum % 10 === 0;
}

/** The member code in what a cashier typed or scanned ("042 1234 5678 90"), or "". */
export function memberCodeOf(text) {
    const code = compact(text);
    return MEMBER_CODE.test(code) ? code : "";
}

/** Group the digits for reading aloud: 042 1234 5678 90. */
export function formatMemberCode(code) {
    return code ? [code.slice(0, 3), code.slice(3, 7), code.slice(7, 11), code.slice(11)].join(" ") : "";
}

/** Why `text` is not a member code (the server's message), or "" for a valid one. */
export function memberCodeError(text) {
    const value = compact(text);
    if (!/^\d+$/.test(value)) {
        return _t("A member code contains only digits.");
    }
    if (value.length !== LENGTH) {
        return _t("A member code has %(expected)s digits, not %(given)s.", {
            expected: LENGTH,
            given: value.length,
        });
    }
    if (!value.startsWith(PREFIX)) {
        return _t("A member code starts with %s.", PREFIX);
    }
    if (!eanIsValid(value) || !dammIsValid(value.slice(0, -1))) {
        return _t("The check digits do not match: the code was mistyped.");
    }
    return "";
}

/**
 * Why what the cashier typed is a mistyped card code, or "" when it is a valid code or not meant as one
 * (a name, a short number, another barcode). Only a search starting like a card code (042 and at least
 * eight characters) is taken as one: any other number, thirteen-digit barcodes included, is searched.
 */
export function mistypedMemberCodeError(text) {
    const value = compact(text);
    const meantAsCode = value.startsWith(PREFIX) && value.length >= 8;
    return meantAsCode ? memberCodeError(text) : "";
}
