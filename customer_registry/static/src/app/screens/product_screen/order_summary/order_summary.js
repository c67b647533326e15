import { _t } from "@web/core/l10n/translation";
import { patch } from "@web/core/utils/patch";
import { OrderSummary } from "@point_of_sale/app/screens/product_screen/order_summary/order_summary";

patch(OrderSummary.prototype, {
    /**
     * The reward lines are worth the points their name says: the numpad does not change them. Deleting one
     * deletes them all (a reward split per tax rate is one redemption); the points button sets a new amount.
     */
    async updateSelectedOrderline({ buffer, key }) {
        const line = this.currentOrder.getSelectedOrderline();
        if (line?.isLoyaltyRewardLine) {
            if (key === "Backspace" || key === "Delete") {
                for (const reward of this.currentOrder.lines.filter((l) => l.isLoyaltyRewardLine)) {
                    this.currentOrder.removeOrderline(reward);
                }
                this.numberBuffer.reset();
            } else {
                this.pos.notification.add(_t("To redeem other points, press the points button again."), {
                    type: "warning",
                });
                this.numberBuffer.reset();
            }
            return;
        }
        return super.updateSelectedOrderline(...arguments);
    },
});
