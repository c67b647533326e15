import * as Chrome from "@point_of_sale/../tests/pos/tours/utils/chrome_util";
import * as Dialog from "@point_of_sale/../tests/generic_helpers/dialog_util";
import * as PaymentScreen from "@point_of_sale/../tests/pos/tours/utils/payment_screen_util";
import * as ProductScreen from "@point_of_sale/../tests/pos/tours/utils/product_screen_util";
import * as ReceiptScreen from "@point_of_sale/../tests/pos/tours/utils/receipt_screen_util";
import { negateStep } from "@point_of_sale/../tests/generic_helpers/utils";
import { registry } from "@web/core/registry";

registry.category("web_tour.tours").add("CustomerRegistryLoyaltyTour", {
    steps: () =>
        [
            Chrome.startPoS(),
            Dialog.confirm("Open Register"),
            ProductScreen.addOrderline("Loyalty Tour Bread", "1"),
            ProductScreen.clickPartnerButton(),
            ProductScreen.clickCustomer("Tour Member"),
            {
                content: "the member's balance and tier are shown",
                trigger: ".o_customer_registry_loyalty:has(.o_loyalty_balance:contains(50)):has(.o_loyalty_tier:contains(Silver))",
            },
            {
                content: "redeem the points",
                trigger: ".o_customer_registry_loyalty",
                run: "click",
            },
            ProductScreen.selectedOrderlineHas("Loyalty Points Reward", "1"),
            ProductScreen.clickPayButton(),
            PaymentScreen.clickPaymentMethod("Bank"),
            PaymentScreen.clickValidate(),
            ReceiptScreen.receiptIsThere(),
            {
                content: "the receipt shows the member's code",
                trigger: ".customer-registry-loyalty .o_loyalty_receipt_member:contains(042)",
            },
            negateStep({
                content: "the member's name is not on the loyalty block",
                trigger: ".customer-registry-loyalty:contains(Tour Member)",
            }),
            {
                content: "points redeemed, earned and the new balance are printed",
                trigger: ".customer-registry-loyalty:has(.o_loyalty_receipt_redeemed:contains(50)):has(.o_loyalty_receipt_earned:contains(5)):has(.o_loyalty_receipt_balance:contains(5))",
            },
        ].flat(),
});
