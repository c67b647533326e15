import { registry } from "@web/core/registry";
import { formatFloat, formatInteger } from "@web/views/fields/formatters";

/**
 * A measure that counts (members, purchases): a whole number reads "3", never "3.00".
 *
 * Odoo's graph view writes its value axis with the float format whatever the measure
 * ("0.00, 1.00, 2.00" members), and its pivot writes an integer field's average with no
 * decimals (2.33 active members a month read "2"). With widget="customer_registry.count" on
 * the measure, whole numbers read as integers and an average (or an axis step between two
 * counts) keeps up to two decimals, without trailing zeros.
 */
export function formatCount(value, options = {}) {
    if (value === false || value === null || value === undefined) {
        return "";
    }
    if (Number.isInteger(value)) {
        return formatInteger(value, { humanReadable: options.humanReadable });
    }
    return formatFloat(value, { digits: [16, 2], trailingZeros: false });
}

registry.category("formatters").add("customer_registry.count", formatCount);
