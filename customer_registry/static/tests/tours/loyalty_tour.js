import * as Chrome from "@point_of_sale/../tests/pos/tours/utils/chrome_util";
import * as Dialog from "@point_of_sale/../tests/generic_helpers/dialog_util";
import * as Offline from "@point_of_sale/../tests/generic_helpers/offline_util";
import * as Numpad from "@point_of_sale/../tests/generic_helpers/numpad_util";
import * as NumberPopup from "@point_of_sale/../tests/generic_helpers/number_popup_util";
import * as PaymentScreen from "@point_of_sale/../tests/pos/tours/utils/payment_screen_util";
import * as ProductScreen from "@point_of_sale/../tests/pos/tours/utils/product_screen_util";
import * as ReceiptScreen from "@point_of_sale/../tests/pos/tours/utils/receipt_screen_util";
import { negateStep } from "@point_of_sale/../tests/generic_helpers/utils";
import { rpc } from "@web/core/network/rpc";
import { registry } from "@web/core/registry";

function openRegisterWithBreadAndMember() {
    return [
        Chrome.startPoS(),
        Dialog.confirm("Open Register"),
        ProductScreen.clickDisplayedProduct("Loyalty Tour Bread"),
        ProductScreen.clickPartnerButton(),
        ProductScreen.clickCustomer("Tour Member"),
    ].flat();
}

function balanceShown(balance, where = ".o_customer_registry_loyalty:not(.o_customer_registry_loyalty_action)") {
    return {
        content: `the member's balance ${balance} and tier are shown`,
        trigger: `${where}:has(.o_loyalty_balance:contains(/^${balance}$/)):has(.o_loyalty_tier:contains(Silver))`,
    };
}

/** Redeem `points` in the popup the points button opens (its starting value is the most allowed). */
function redeemInPopup(points, maxShown) {
    return [
        {
            content: "the popup says what the member may redeem",
            trigger: `.modal .subtitle:contains(redeem 1 to ${maxShown} on this order)`,
        },
        NumberPopup.enterValue(String(points)),
        NumberPopup.isShown(String(points)),
        Dialog.confirm("Redeem"),
    ].flat();
}

function rewardLineShown(points, price) {
    return {
        content: `the reward line says it uses ${points} points`,
        trigger: `.order-container .orderline:contains(Loyalty points: ${points} pts):has(.price:contains(${price}))`,
    };
}

registry.category("web_tour.tours").add("CustomerRegistryLoyaltyTour", {
    steps: () =>
        [
            openRegisterWithBreadAndMember(),
            balanceShown(50),
            {
                content: "open the points popup",
                trigger: ".o_customer_registry_loyalty:not(.o_customer_registry_loyalty_action)",
                run: "click",
            },
            NumberPopup.enterValue("60"),
            {
                content: "an overdraw is refused when the reward is added, saying why",
                trigger: ".modal:contains(The member has only 50 points: 60 cannot be redeemed.) .modal-footer button.btn-primary:disabled",
            },
            NumberPopup.enterValue("⌫⌫"),
            redeemInPopup(30, 50),
            rewardLineShown(30, "-3.00"),
            Numpad.click("5"),
            {
                content: "the numpad does not change the points of a reward line",
                trigger: ".o_notification:contains(press the points button again)",
            },
            rewardLineShown(30, "-3.00"),
            ProductScreen.totalAmountIs("7.00"),
            // Milk (no tax) added after the points: paying splits them again over both rates, 2.00 + 1.00.
            ProductScreen.clickDisplayedProduct("Loyalty Tour Milk"),
            ProductScreen.clickPayButton(),
            PaymentScreen.totalIs("12.00"),
            PaymentScreen.clickPaymentMethod("Bank"),
            PaymentScreen.clickValidate(),
            ReceiptScreen.receiptIsThere(),
            {
                content: "the receipt's tax is the tax on what the customer paid (15 % in 10.00 - 2.00)",
                trigger: ".pos-receipt-taxes:contains(1.04)",
            },
            negateStep({
                content: "not the tax on the price before points (1.30)",
                trigger: ".pos-receipt-taxes:contains(1.30)",
            }),
            {
                content: "the reward lines on the receipt say how many points they use, per tax rate",
                trigger: ".pos-receipt .orderline:contains(Loyalty points: 30 pts (part taxed VAT 15%)):contains(-2.00)",
            },
            {
                content: "the untaxed part",
                trigger: ".pos-receipt .orderline:contains(Loyalty points: 30 pts (part taxed no tax)):contains(-1.00)",
            },
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
                trigger: ".customer-registry-loyalty:has(.o_loyalty_receipt_redeemed:contains(30)):has(.o_loyalty_receipt_earned:contains(12)):has(.o_loyalty_receipt_balance:contains(32))",
            },
        ].flat(),
});

registry.category("web_tour.tours").add("CustomerRegistryLoyaltyFreshBalanceTour", {
    steps: () =>
        [
            openRegisterWithBreadAndMember(),
            balanceShown(50),
            {
                content: "a manager adds 70 points in the backend meanwhile",
                trigger: "body",
                async run() {
                    const call = (model, method, args) =>
                        rpc(`/web/dataset/call_kw/${model}/${method}`, { model, method, args, kwargs: {} });
                    const [memberId] = await call("res.partner", "search", [
                        [["registry_greeting_name", "=", "Tour Member"]],
                    ]);
                    const created = await call("customer.loyalty.adjustment", "create", [
                        { member_id: memberId, points: 70, reason: "Goodwill" },
                    ]);
                    const wizardId = Array.isArray(created) ? created[0] : created;
                    await call("customer.loyalty.adjustment", "action_post", [[wizardId]]);
                },
            },
            ProductScreen.clickPartnerButton(),
            ProductScreen.clickCustomer("Tour Member"),
            balanceShown(120),
            {
                content: "the member code is not cut off beside the points",
                trigger: ".set-partner .registry-member-code",
                run() {
                    const code = document.querySelector(".set-partner .registry-member-code");
                    const button = code.closest(".set-partner").getBoundingClientRect();
                    const box = code.getBoundingClientRect();
                    if (code.scrollWidth > code.clientWidth + 1 || box.right > button.right + 1) {
                        throw new Error(`member code cut off: ${code.scrollWidth} > ${code.clientWidth}`);
                    }
                },
            },
            Offline.setOfflineMode(),
            ProductScreen.clickPartnerButton(),
            ProductScreen.clickCustomer("Tour Member"),
            { ...balanceShown(120), content: "offline, the till keeps the balance it has" },
            Offline.setOnlineMode(),
        ].flat(),
});

registry.category("web_tour.tours").add("CustomerRegistryLoyaltySmallScreenTour", {
    steps: () =>
        [
            openRegisterWithBreadAndMember(),
            {
                content: "show the order",
                trigger: ".btn-switchpane.review-button",
                run: "click",
            },
            {
                content: "open the actions",
                trigger: ".actionpad .mobile-more-button",
                run: "click",
            },
            balanceShown(50, ".modal .o_customer_registry_loyalty"),
            {
                content: "the points button is in the actions",
                trigger: ".modal .o_customer_registry_loyalty",
                run: "click",
            },
            redeemInPopup(20, 50),
            rewardLineShown(20, "-2.00"),
        ].flat(),
});
