import * as Chrome from "@point_of_sale/../tests/pos/tours/utils/chrome_util";
import * as Dialog from "@point_of_sale/../tests/generic_helpers/dialog_util";
import * as Order from "@point_of_sale/../tests/generic_helpers/order_widget_util";
import * as PartnerList from "@point_of_sale/../tests/pos/tours/utils/partner_list_util";
import * as PaymentScreen from "@point_of_sale/../tests/pos/tours/utils/payment_screen_util";
import * as ProductScreen from "@point_of_sale/../tests/pos/tours/utils/product_screen_util";
import * as ReceiptScreen from "@point_of_sale/../tests/pos/tours/utils/receipt_screen_util";
import { negate } from "@point_of_sale/../tests/generic_helpers/utils";
import { rpcBus } from "@web/core/network/rpc";
import { registry } from "@web/core/registry";

// Server calls made since countServerCalls(): adding a line must make none. Odoo's own broadcast to the
// customer display (made on every change of any order, whoever the customer) is not counted.
const ODOO_CUSTOMER_DISPLAY = "/pos.config/update_customer_display";
const serverCalls = [];
let listening = false;

function countServerCalls() {
    return {
        content: "count the server calls from here on",
        trigger: ".product-screen",
        run: () => {
            if (!listening) {
                rpcBus.addEventListener("RPC:REQUEST", ({ detail }) => {
                    if (!detail.url.endsWith(ODOO_CUSTOMER_DISPLAY)) {
                        serverCalls.push(detail.url);
                    }
                });
                listening = true;
            }
            serverCalls.length = 0;
        },
    };
}

function noServerCallSinceCounting() {
    return {
        content: "the warning came without a server call",
        trigger: ".registry-allergen-warning",
        run: () => {
            if (serverCalls.length) {
                throw new Error(`Adding the line called the server: ${serverCalls.join(", ")}`);
            }
        },
    };
}

function selectMember(label) {
    return [ProductScreen.clickPartnerButton(), PartnerList.clickPartner(label)].flat();
}

function warningNames(product, allergen, kindText) {
    return {
        content: `the warning names ${product} and ${allergen}`,
        trigger: `.registry-allergen-warning .registry-allergen-item:has(.registry-allergen-product:contains("${product}")) .registry-allergen-conflict:contains("${kindText}"):contains("${allergen}")`,
    };
}

function clickWarningButton(which) {
    return [
        {
            content: `warning: ${which}`,
            trigger: `.registry-allergen-warning .registry-allergen-${which}`,
            run: "click",
        },
        { content: "the warning is closed", trigger: negate(".registry-allergen-warning") },
    ];
}

function payCash() {
    return [
        ProductScreen.clickPayButton(),
        PaymentScreen.clickPaymentMethod("Cash"),
        PaymentScreen.clickValidate(),
        ReceiptScreen.isShown(),
    ].flat();
}

// Contains: removing the line, then confirming another; the product info shows the allergens.
registry.category("web_tour.tours").add("customer_registry_allergen_contains_tour", {
    steps: () =>
        [
            Chrome.startPoS(),
            Dialog.confirm("Open Register"),
            selectMember("Nora"),
            { ...ProductScreen.back(), isActive: ["mobile"] },
            countServerCalls(),
            ProductScreen.clickDisplayedProduct("Pecan Pie"),
            noServerCallSinceCounting(),
            warningNames("Pecan Pie", "Nuts", "Contains"),
            clickWarningButton("remove"),
            ProductScreen.clickReview(),
            Order.doesNotHaveLine({ productName: "Pecan Pie" }),
            { ...ProductScreen.back(), isActive: ["mobile"] },
            countServerCalls(),
            ProductScreen.clickDisplayedProduct("Butter Croissant"),
            noServerCallSinceCounting(),
            warningNames("Butter Croissant", "Milk", "Contains"),
            clickWarningButton("confirm"),
            ProductScreen.clickReview(),
            Order.hasLine({ productName: "Butter Croissant", quantity: "1" }),
            { ...ProductScreen.back(), isActive: ["mobile"] },
            payCash(),
            Chrome.endTour(),
        ].flat(),
});

// Traces for a severe member, and the member set after the products.
registry.category("web_tour.tours").add("customer_registry_allergen_traces_tour", {
    steps: () =>
        [
            Chrome.startPoS(),
            Dialog.confirm("Open Register"),
            ProductScreen.clickDisplayedProduct("Havrekjeks"),
            ProductScreen.clickDisplayedProduct("Kanelbolle"),
            {
                content: "no customer yet: no warning",
                trigger: negate(".registry-allergen-warning"),
            },
            selectMember("Nora"),
            warningNames("Havrekjeks", "Nuts", "May contain traces of"),
            {
                content: "a product without Nora's allergens is not in the warning",
                trigger: `.registry-allergen-warning:not(:has(.registry-allergen-product:contains("Kanelbolle")))`,
            },
            clickWarningButton("confirm"),
            { ...ProductScreen.back(), isActive: ["mobile"] },
            ProductScreen.clickReview(),
            Order.hasLine({ productName: "Havrekjeks", quantity: "1" }),
            { ...ProductScreen.back(), isActive: ["mobile"] },
            payCash(),
            Chrome.endTour(),
        ].flat(),
});

// The product info popup lists what a product contains and may contain.
registry.category("web_tour.tours").add("customer_registry_allergen_product_info_tour", {
    steps: () =>
        [
            Chrome.startPoS(),
            Dialog.confirm("Open Register"),
            ProductScreen.clickInfoProduct("Pecan Pie", [
                {
                    content: "the product info lists the allergens",
                    trigger: ".registry-product-allergens .registry-allergens-contains:contains(Nuts):contains(Milk)",
                },
                {
                    content: "and the traces",
                    trigger: ".registry-product-allergens .registry-allergens-traces:contains(Sesame)",
                },
            ]),
            Chrome.endTour(),
        ].flat(),
});
