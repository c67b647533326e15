import * as Chrome from "@point_of_sale/../tests/pos/tours/utils/chrome_util";
import * as Dialog from "@point_of_sale/../tests/generic_helpers/dialog_util";
import * as PaymentScreen from "@point_of_sale/../tests/pos/tours/utils/payment_screen_util";
import * as ProductScreen from "@point_of_sale/../tests/pos/tours/utils/product_screen_util";
import * as ReceiptScreen from "@point_of_sale/../tests/pos/tours/utils/receipt_screen_util";
import { negate, scan_barcode } from "@point_of_sale/../tests/generic_helpers/utils";
import { registry } from "@web/core/registry";

// The card the Python test gives its panel member (see tests/test_till_member_tour.py).
const PANEL_CODE = "0421234567808";
const PANEL = ".product-screen .o_registry_member_panel";

function openCustomerList() {
    return {
        content: "open the customer list",
        trigger: ".product-screen .set-partner",
        run: "click",
    };
}

registry.category("web_tour.tours").add("customer_registry_member_panel_tour", {
    steps: () =>
        [
            Chrome.startPoS(),
            Dialog.confirm("Open Register"),
            scan_barcode(PANEL_CODE),
            {
                content: "without another click, the panel shows the member's label, code and points",
                trigger: `${PANEL}:visible:has(.registry-panel-label:contains(Sigrid)):has(.registry-panel-code:contains("042 1234 5678 08")):has(.registry-panel-balance:contains(35 pts))`,
            },
            {
                content: "the panel shows the allergy (the member consented)",
                trigger: `${PANEL}:visible .registry-panel-allergens .badge:contains(Nuts)`,
            },
            {
                content: "the panel shows the diet",
                trigger: `${PANEL}:visible .registry-panel-diets .badge:contains(Vegetarian)`,
            },
            {
                content: "the panel shows preferences and service notes",
                trigger: `${PANEL}:visible:has(.registry-panel-preferences:contains(Oat milk)):has(.registry-panel-notes:contains(window seat))`,
            },
            {
                content: "the panel shows the last visit",
                trigger: `${PANEL}:visible .registry-panel-last-visit:contains(Last visit)`,
            },
            {
                content: "the panel never shows contact data",
                trigger: `${PANEL}:visible:not(:contains(sigrid.haugland@example.com)):not(:contains(934 56 781))`,
            },
            {
                content: "the usual item adds a line",
                trigger: `${PANEL}:visible .registry-panel-usual-item:contains(Panel Tour Bun)`,
                run: "click",
            },
            ProductScreen.customerIsSelected("Sigrid"),
            {
                content: "the order pane shows the panel too",
                trigger: `${PANEL}:visible .registry-panel-label:contains(Sigrid)`,
            },
            {
                content: "the order has the usual item",
                trigger: ".order-container .orderline:contains(Panel Tour Bun)",
            },
            Chrome.endTour(),
        ].flat(),
});

registry.category("web_tour.tours").add("customer_registry_enroll_at_till_tour", {
    steps: () =>
        [
            Chrome.startPoS(),
            Dialog.confirm("Open Register"),
            ProductScreen.clickDisplayedProduct("Panel Tour Bun"),
            ProductScreen.clickReview(),
            openCustomerList(),
            {
                content: "add a customer",
                trigger: ".modal [aria-label='Add a customer']",
                run: "click",
            },
            {
                content: "the short enrollment dialog opens, not the contact form",
                trigger: ".modal .o_registry_enrollment:not(:has(.o_form_view))",
            },
            {
                content: "the consent is shown with its exact wording",
                trigger: ".modal .registry-consent[data-purpose=health] .registry-consent-wording:contains(Till tour: store my allergies so the staff can warn me.)",
            },
            {
                content: "type what the customer wants to be called",
                trigger: ".modal input[name=greeting_name]",
                run: "edit Tora",
            },
            {
                content: "mistype the postal code",
                trigger: ".modal input[name=zip]",
                run: "edit 50A3",
            },
            {
                content: "type the email (for the vault)",
                trigger: ".modal input[name=email]",
                run: "edit tora.berg@example.com",
            },
            {
                content: "the customer agrees to the health consent",
                trigger: ".modal .registry-consent[data-purpose=health] input[type=checkbox]",
                run: "click",
            },
            {
                content: "enroll",
                trigger: ".modal .registry-enroll-confirm",
                run: "click",
            },
            {
                content: "the malformed postal code is refused with a clear message",
                trigger: ".modal .registry-enrollment-error:contains(four digits)",
            },
            {
                content: "correct the postal code",
                trigger: ".modal input[name=zip]",
                run: "edit 5003",
            },
            {
                content: "enroll again",
                trigger: ".modal .registry-enroll-confirm",
                run: "click",
            },
            {
                content: "the dialog is closed",
                trigger: negate(".modal .o_registry_enrollment"),
            },
            {
                content: "the new member is the order's customer",
                trigger: '.product-screen .set-partner:contains("Tora")',
            },
            {
                content: "the new member's panel is shown (first visit)",
                trigger: `${PANEL}:has(.registry-panel-label:contains(Tora)):has(.registry-panel-last-visit:contains(First visit))`,
            },
            {
                content: "the email is not shown",
                trigger: `.product-screen:not(:contains(tora.berg@example.com))`,
            },
            {
                content: "pay (the order's pane has the button on a phone)",
                trigger: ".product-screen .pay-order-button",
                run: "click",
            },
            PaymentScreen.clickPaymentMethod("Cash"),
            PaymentScreen.clickValidate(),
            ReceiptScreen.isShown(),
            {
                content: "the receipt prints the new member's code as a barcode",
                trigger: ".pos-receipt .registry-receipt-member-card:has(img.registry-receipt-barcode[src^='data:image/svg+xml']) .registry-receipt-code:contains(042)",
            },
            Chrome.endTour(),
        ].flat(),
});

registry.category("web_tour.tours").add("customer_registry_mistyped_code_tour", {
    steps: () =>
        [
            Chrome.startPoS(),
            Dialog.confirm("Open Register"),
            ProductScreen.clickReview(),
            openCustomerList(),
            {
                content: "type a card code with a wrong check digit",
                trigger: ".modal-dialog .input-group input",
                run: "edit 042 1234 5678 09",
            },
            {
                content: "the list says the check digits are wrong, not that no customer was found",
                trigger: ".modal .registry-code-error:contains(The check digits do not match)",
            },
            {
                content: "no 'no customers found' message",
                trigger: negate(".modal .partner-list:contains(No customers found)"),
            },
            {
                content: "press Enter",
                trigger: ".modal-dialog .input-group input",
                run: "press Enter",
            },
            {
                content: "Enter repeats the reason",
                trigger: ".o_notification:contains(The check digits do not match)",
            },
            {
                content: "type a code two digits short",
                trigger: ".modal-dialog .input-group input",
                run: "edit 042 1234 5678",
            },
            {
                content: "the list says how long a code is",
                trigger: ".modal .registry-code-error:contains(13 digits, not 11)",
            },
            Chrome.endTour(),
        ].flat(),
});

// A customer's own thirteen-digit barcode that is no card code (see tests/test_till_member_tour.py).
const CUSTOMER_BARCODE = "5901234123457";

registry.category("web_tour.tours").add("customer_registry_barcode_search_tour", {
    steps: () =>
        [
            Chrome.startPoS(),
            Dialog.confirm("Open Register"),
            ProductScreen.clickReview(),
            openCustomerList(),
            {
                content: "type an ordinary customer's thirteen-digit barcode",
                trigger: ".modal-dialog .input-group input",
                run: `edit ${CUSTOMER_BARCODE}`,
            },
            {
                content: "it is not taken for a mistyped card code",
                trigger: negate(".modal .registry-code-error"),
            },
            {
                content: "press Enter: the till asks the server",
                trigger: ".modal-dialog .input-group input",
                run: "press Enter",
            },
            {
                content: "the customer is found by the barcode",
                trigger: ".modal .partner-info:contains(Barcode Customer)",
            },
            Chrome.endTour(),
        ].flat(),
});
