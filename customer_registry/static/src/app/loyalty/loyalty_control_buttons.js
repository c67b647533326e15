import { patch } from "@web/core/utils/patch";
import { _t } from "@web/core/l10n/translation";
import { ControlButtons } from "@point_of_sale/app/screens/product_screen/control_buttons/control_buttons";

patch(ControlButtons.prototype, {
    get loyaltyProgram() {
        return this.pos.models["customer.loyalty.program"]?.getFirst();
    },
    get loyaltyMember() {
        const partner = this.partner;
        return partner?.is_registry_member && this.loyaltyProgram ? partner : null;
    },
    loyaltyRewardLines(order) {
        const reward = this.loyaltyProgram.reward_product_id;
        return order.getOrderlines().filter((line) => reward && line.product_id?.id === reward.id);
    },
    /**
     * Turn as many points as the balance and the order allow into one discount
     * line. The server checks the balance again, under a lock, when the order syncs.
     */
    async clickRedeemLoyaltyPoints() {
        const program = this.loyaltyProgram;
        const member = this.loyaltyMember;
        const order = this.currentOrder;
        const reward = program.reward_product_id;
        if (!reward) {
            this.notification.add(_t("Set a reward product on the loyalty program first."), {
                type: "warning",
            });
            return;
        }
        for (const line of this.loyaltyRewardLines(order)) {
            order.removeOrderline(line);
        }
        const redeemable = Math.floor(order.priceIncl / program.point_value + 1e-9);
        const points = Math.min(member.loyalty_balance || 0, redeemable);
        if (points <= 0) {
            this.notification.add(_t("No points can be redeemed on this order."), { type: "warning" });
            return;
        }
        const discount = this.pos.currency.round(points * program.point_value);
        await this.pos.addLineToCurrentOrder(
            { product_tmpl_id: reward.product_tmpl_id, product_id: reward, price_unit: -discount, qty: 1 },
            {},
            false
        );
    },
});
