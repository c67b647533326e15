import { patch } from "@web/core/utils/patch";
import { PosStore } from "@point_of_sale/app/services/pos_store";
import { memberCodeOf } from "@customer_registry/app/utils/member_code";

patch(PosStore.prototype, {
    editPartnerContext(partner) {
        const context = super.editPartnerContext(...arguments);
        if (this.config.registry_enroll_new_customers) {
            return { ...context, default_is_registry_member: true };
        }
        return context;
    },
    /** The member whose card code is `text` (typed or scanned), loading them if needed; else undefined. */
    async findRegistryMember(text) {
        const code = memberCodeOf(text);
        if (!code) {
            return undefined;
        }
        const partners = this.models["res.partner"];
        const member = partners.getBy("pseudonym", code);
        if (member) {
            return member;
        }
        const found = await this.data.searchRead("res.partner", [["pseudonym", "=", code]]);
        return found[0];
    },
});
