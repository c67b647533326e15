import * as Chrome from "@point_of_sale/../tests/pos/tours/utils/chrome_util";
import * as Dialog from "@point_of_sale/../tests/generic_helpers/dialog_util";
import * as ProductScreen from "@point_of_sale/../tests/pos/tours/utils/product_screen_util";
import { registry } from "@web/core/registry";

function findByContact(typed) {
    return [
        {
            content: "open the customer list",
            trigger: ".product-screen .set-partner",
            run: "click",
        },
        {
            content: "the customer forgot their card",
            trigger: ".modal .registry-find-by-contact",
            run: "click",
        },
        {
            content: `type "${typed}"`,
            trigger: ".modal textarea",
            run: `edit ${typed}`,
        },
        {
            content: "apply",
            trigger: ".modal .modal-footer .btn-primary:contains(Apply)",
            run: "click",
        },
    ];
}

registry.category("web_tour.tours").add("customer_registry_forgot_card_tour", {
    steps: () =>
        [
            Chrome.startPoS(),
            Dialog.confirm("Open Register"),
            ProductScreen.clickReview(),
            // A near miss finds nobody: exact match only.
            findByContact("+47 48 12 34 57"),
            {
                content: "the cashier is told nobody has it",
                trigger: ".o_notification:contains(No member has exactly this phone number or email)",
            },
            Dialog.discard(),
            findByContact("0047 48 12 34 56"),
            ProductScreen.customerIsSelected("Solveig"),
            Chrome.endTour(),
        ].flat(),
});
