import * as Chrome from "@point_of_sale/../tests/pos/tours/utils/chrome_util";
import * as Dialog from "@point_of_sale/../tests/generic_helpers/dialog_util";
import * as PaymentScreen from "@point_of_sale/../tests/pos/tours/utils/payment_screen_util";
import * as ProductScreen from "@point_of_sale/../tests/pos/tours/utils/product_screen_util";
import * as ReceiptScreen from "@point_of_sale/../tests/pos/tours/utils/receipt_screen_util";
import { negate, scan_barcode } from "@point_of_sale/../tests/generic_helpers/utils";
import { registry } from "@web/core/registry";

// Cards printed with these codes are given to the members the Python test creates.
const INGA_CODE = "0421234567808";
const UNNAMED_CODE = "0429876543273";

function memberCodeShown(formattedCode) {
    return {
        content: `the order's customer shows the card code ${formattedCode}`,
        trigger: `.product-screen .set-partner .registry-member-code:contains("${formattedCode}")`,
    };
}

function typeInCustomerSearch(text) {
    return [
        ProductScreen.clickReview(),
        {
            content: "open the customer list",
            trigger: ".product-screen .set-partner",
            run: "click",
        },
        {
            content: `type "${text}" in the customer search`,
            trigger: ".modal-dialog .input-group input",
            run: `edit ${text}`,
        },
        {
            content: "press Enter",
            trigger: ".modal-dialog .input-group input",
            run: "press Enter",
        },
        {
            content: "the customer list is closed",
            trigger: negate(".modal .partner-list"),
        },
    ];
}

registry.category("web_tour.tours").add("customer_registry_member_card_tour", {
    steps: () =>
        [
            Chrome.startPoS(),
            Dialog.confirm("Open Register"),
            scan_barcode(INGA_CODE),
            ProductScreen.customerIsSelected("Inga"),
            memberCodeShown("042 1234 5678 08"),
            scan_barcode(UNNAMED_CODE),
            ProductScreen.customerIsSelected("042 9876 5432 73"),
            typeInCustomerSearch("042-9876-5432-73"),
            ProductScreen.customerIsSelected("042 9876 5432 73"),
            typeInCustomerSearch("042 1234 5678 08"),
            ProductScreen.customerIsSelected("Inga"),
            ProductScreen.clickDisplayedProduct("Letter Tray"),
            ProductScreen.clickPayButton(),
            {
                content: "the payment screen shows the member's label",
                trigger: ".payment-screen .partner-name:contains(Inga)",
            },
            PaymentScreen.clickPaymentMethod("Cash"),
            PaymentScreen.clickValidate(),
            ReceiptScreen.isShown(),
            {
                content: "the receipt shows the member's label and card code",
                trigger: '.pos-receipt-customer:contains(Inga) .registry-member-code:contains("042 1234 5678 08")',
            },
            Chrome.endTour(),
        ].flat(),
});
