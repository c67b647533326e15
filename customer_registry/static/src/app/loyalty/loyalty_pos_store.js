import { patch } from "@web/core/utils/patch";
import { PosStore } from "@point_of_sale/app/services/pos_store";

patch(PosStore.prototype, {
    async postSyncAllOrders(orders) {
        await super.postSyncAllOrders(...arguments);
        // The server settled the points in the sync: show its balance, not a guess.
        for (const order of orders || []) {
            const member = order.partner_id;
            if (member?.is_registry_member && (order.loyalty_points_earned || order.loyalty_points_redeemed)) {
                member.loyalty_balance = order.loyalty_balance_after;
            }
        }
    },
});
