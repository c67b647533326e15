import { patch } from "@web/core/utils/patch";
import { ControlButtons } from "@point_of_sale/app/screens/product_screen/control_buttons/control_buttons";

patch(ControlButtons.prototype, {
    get loyaltyMember() {
        return this.pos.loyaltyMemberOf(this.currentOrder);
    },
    clickRedeemLoyaltyPoints() {
        return this.pos.redeemLoyaltyPoints(this.currentOrder);
    },
});
