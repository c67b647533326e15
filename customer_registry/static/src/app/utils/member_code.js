// Member card codes as cashiers type and read them; the server validates check digits.
const SEPARATORS = /[\s\-.]/g;
const MEMBER_CODE = /^042\d{10}$/;

/** The member code in what a cashier typed or scanned ("042 1234 5678 90"), or "". */
export function memberCodeOf(text) {
    const code = (text || "").replace(SEPARATORS, "");
    return MEMBER_CODE.test(code) ? code : "";
}

/** Group the digits for reading aloud: 042 1234 5678 90. */
export function formatMemberCode(code) {
    return code ? [code.slice(0, 3), code.slice(3, 7), code.slice(7, 11), code.slice(11)].join(" ") : "";
}
