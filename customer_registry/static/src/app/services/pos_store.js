import { patch } from "@web/core/utils/patch";
import { PosStore } from "@point_of_sale/app/services/pos_store";
import { makeAwaitable } from "@point_of_sale/app/utils/make_awaitable_dialog";
import { memberCodeOf } from "@customer_registry/app/utils/member_code";
import { EnrollmentDialog } from "@customer_registry/app/screens/partner_list/enrollment_dialog/enrollment_dialog";

patch(PosStore.prototype, {
    editPartnerContext(partner) {
        const context = super.editPartnerContext(...arguments);
        if (this.config.registry_enroll_new_customers) {
            return { ...context, default_is_registry_member: true };
        }
        return context;
    },
    /** A new customer is enrolled in the short dialog (no contact form) when the till enrolls new customers. */
    async editPartner(partner) {
        if (partner || !this.config.registry_enroll_new_customers) {
            return super.editPartner(...arguments);
        }
        const memberId = await makeAwaitable(this.dialog, EnrollmentDialog, {});
        if (!memberId) {
            return undefined;
        }
        const [member] = await this.data.read("res.partner", [memberId]);
        if (member) {
            member.registryNewCard = true; // the receipt prints the new card's code
        }
        return member;
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
