import { patch } from "@web/core/utils/patch";
import { PosOrderline } from "@point_of_sale/app/models/pos_order_line";

patch(PosOrderline.prototype, {
    get isLoyaltyRewardLine() {
        const reward = this.models["customer.loyalty.program"]?.getFirst()?.reward_product_id;
        return Boolean(reward && this.product_id?.id === reward.id);
    },
    /** A reward line keeps the name saying how many points it uses ("Loyalty points: 120 pts"). */
    setFullProductName() {
        if (this.full_product_name && this.isLoyaltyRewardLine) {
            return;
        }
        return super.setFullProductName(...arguments);
    },
    get orderDisplayProductName() {
        if (this.full_product_name && this.isLoyaltyRewardLine) {
            return { name: this.full_product_name, attributeString: "" };
        }
        return super.orderDisplayProductName;
    },
});
