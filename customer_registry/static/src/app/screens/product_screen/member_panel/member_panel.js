import { Component } from "@odoo/owl";
import { deserializeDate, formatDate } from "@web/core/l10n/dates";
import { patch } from "@web/core/utils/patch";
import { usePos } from "@point_of_sale/app/hooks/pos_hook";
import { ProductScreen } from "@point_of_sale/app/screens/product_screen/product_screen";

/**
 * The order's member at a glance, where the cashier serves: label, code, tier and points, allergies
 * and diets (only sent with a valid health consent), preferences, service notes, last visit and usual
 * items. Never contact data: the server's panel call holds none. Offline it shows what the till holds.
 */
export class MemberPanel extends Component {
    static template = "customer_registry.MemberPanel";
    static props = { member: Object };

    setup() {
        this.pos = usePos();
    }
    get member() {
        return this.props.member;
    }
    /** What the server sent when the member was selected (undefined until it answers, or offline). */
    get panel() {
        return this.member.registryPanel;
    }
    get allergens() {
        // Offline: the compact allergy field the till loads for the allergen warning.
        return this.panel?.allergens ?? this.member.registryAllergens.map((allergen) => allergen.name);
    }
    get diets() {
        // Diets are not in the till's load data: only the server's answer has them.
        return this.panel?.diets ?? [];
    }
    get lastVisit() {
        const date = this.panel?.last_visit;
        return date ? formatDate(deserializeDate(date)) : "";
    }
    get usualItems() {
        return (this.panel?.usual_items || []).map((item) => ({
            ...item,
            product: this.pos.models["product.product"].get(item.product_id),
        }));
    }
    async addUsualItem(item) {
        if (item.product) {
            await this.pos.addLineToCurrentOrder({
                product_tmpl_id: item.product.product_tmpl_id,
                product_id: item.product,
            });
        }
    }
}

patch(ProductScreen, {
    components: { ...ProductScreen.components, MemberPanel },
});
