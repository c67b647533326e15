import { patch } from "@web/core/utils/patch";
import { ResPartner } from "@point_of_sale/app/models/res_partner";
import { formatMemberCode, memberCodeOf } from "@customer_registry/app/utils/member_code";

patch(ResPartner.prototype, {
    get registryCode() {
        return formatMemberCode(this.pseudonym);
    },
    /** What the register shows for a customer: a member's greeting name, else their card code. */
    get registryLabel() {
        if (this.pseudonym && (!this.name || this.name === this.pseudonym)) {
            return this.registryCode;
        }
        return this.name || "";
    },
    get hasRegistryGreetingName() {
        return Boolean(this.pseudonym && this.registryLabel !== this.registryCode);
    },
    get searchString() {
        return [super.searchString, this.pseudonym].filter(Boolean).join(" ");
    },
    exactMatch(searchWord) {
        const code = memberCodeOf(searchWord);
        return super.exactMatch(searchWord) || Boolean(code && this.pseudonym === code);
    },
});
