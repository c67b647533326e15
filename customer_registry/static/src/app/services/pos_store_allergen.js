import { patch } from "@web/core/utils/patch";
import { serializeDateTime } from "@web/core/l10n/dates";
import { PosStore } from "@point_of_sale/app/services/pos_store";
import { makeAwaitable } from "@point_of_sale/app/utils/make_awaitable_dialog";
import { AllergenWarningPopup } from "@customer_registry/app/components/popups/allergen_warning_popup/allergen_warning_popup";
import { unconfirmedAllergenConflicts } from "@customer_registry/app/utils/allergens";

const { DateTime } = luxon;

// The allergen warning: local only, from the allergens of products and members the till loaded.
patch(PosStore.prototype, {
    async addLineToOrder(vals, order, opts = {}, configure = true) {
        const line = await super.addLineToOrder(...arguments);
        if (line) {
            await this.warnRegistryAllergens(order, [line]);
        }
        return line;
    },
    setPartnerToCurrentOrder(partner) {
        const result = super.setPartnerToCurrentOrder(...arguments);
        const order = this.getOrder();
        if (order && partner) {
            // The member set on an order that already holds products they are allergic to.
            this.warnRegistryAllergens(order, [...order.lines]);
        }
        return result;
    },
    /** Stop and ask the cashier about the lines the customer is allergic to; true if they stay. */
    async warnRegistryAllergens(order, lines) {
        const partner = order.getPartner();
        const pending = lines
            .map((line) => ({ line, conflicts: unconfirmedAllergenConflicts(line, partner) }))
            .filter((item) => item.conflicts.length);
        if (!pending.length) {
            return true;
        }
        const answer = await makeAwaitable(this.dialog, AllergenWarningPopup, {
            customerLabel: partner.registryLabel || partner.name || "",
            items: pending.map(({ line, conflicts }) => ({ productName: line.getFullProductName(), conflicts })),
        });
        if (answer === "confirm") {
            const confirmedAt = serializeDateTime(DateTime.now());
            for (const { line, conflicts } of pending) {
                line.update({
                    registry_allergen_confirmed_ids: [["link", ...conflicts.map((conflict) => conflict.allergen)]],
                    registry_allergen_confirmed_at: confirmedAt,
                });
            }
            return true;
        }
        for (const { line } of pending) {
            order.removeOrderline(line);
        }
        return false;
    },
});
