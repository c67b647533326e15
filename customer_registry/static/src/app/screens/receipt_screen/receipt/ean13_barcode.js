// An EAN-13 barcode drawn in the browser, as Odoo's receipt draws its QR code: an SVG data URL that
// prints with the receipt (browser printing, an ePOS or IoT printer's image) and needs no server.
const L_CODES = ["0001101", "0011001", "0010011", "0111101", "0100011", "0110001", "0101111", "0111011", "0110111", "0001011"];
const PARITY = ["LLLLLL", "LLGLGG", "LLGGLG", "LLGGGL", "LGLLGG", "LGGLLG", "LGGGLL", "LGLGLG", "LGLGGL", "LGGLGL"];
const invert = (bits) => [...bits].map((bit) => (bit === "1" ? "0" : "1")).join("");
const reverse = (bits) => [...bits].reverse().join("");

/** The 95 modules of an EAN-13 symbol ("1" a bar), or "" when `code` is not 13 digits. */
export function ean13Modules(code) {
    if (!/^\d{13}$/.test(code || "")) {
        return "";
    }
    const digits = [...code].map(Number);
    const parity = PARITY[digits[0]];
    let modules = "101";
    digits.slice(1, 7).forEach((digit, index) => {
        const left = L_CODES[digit];
        modules += parity[index] === "L" ? left : reverse(invert(left));
    });
    modules += "01010";
    digits.slice(7).forEach((digit) => {
        modules += invert(L_CODES[digit]);
    });
    return modules + "101";
}

/** The barcode as an SVG data URL, quiet zones included; "" for anything but 13 digits. */
export function ean13DataUrl(code, { moduleWidth = 2, height = 60 } = {}) {
    const modules = ean13Modules(code);
    if (!modules) {
        return "";
    }
    const quiet = 11;
    const width = (modules.length + 2 * quiet) * moduleWidth;
    const bars = [];
    for (let index = 0; index < modules.length; index++) {
        if (modules[index] === "1") {
            let end = index;
            while (modules[end + 1] === "1") {
                end++;
            }
            const x = (quiet + index) * moduleWidth;
            bars.push(`<rect x="${x}" y="0" width="${(end - index + 1) * moduleWidth}" height="${height}"/>`);
            index = end;
        }
    }
    const svg =
        `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">` +
        `<rect width="${width}" height="${height}" fill="#fff"/><g fill="#000">${bars.join("")}</g></svg>`;
    return "data:image/svg+xml;base64," + window.btoa(svg);
}
