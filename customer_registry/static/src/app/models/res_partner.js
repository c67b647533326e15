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
    /**
     * The member's allergies as the till loaded them (`registry_allergies`, e.g. "3!,7": allergen ids,
     * "!" for a severe one where traces are not tolerated): [{allergen, severe}], allergen a
     * customer.allergen record. Empty for a member without a valid health consent.
     */
    get registryAllergies() {
        return (this.registry_allergies || "")
            .split(",")
            .filter(Boolean)
            .map((token) => ({
                allergen: this.models["customer.allergen"].get(parseInt(token)),
                severe: token.endsWith("!"),
            }))
            .filter((allergy) => allergy.allergen);
    },
    /** The customer.allergen records the member is allergic to. */
    get registryAllergens() {
        return this.registryAllergies.map((allergy) => allergy.allergen);
    },
    /** Those of their allergies where traces are not tolerated either. */
    get registrySevereAllergens() {
        return this.registryAllergies.filter((allergy) => allergy.severe).map((allergy) => allergy.allergen);
    },
    get searchString() {
        return [super.searchString, this.pseudonym].filter(Boolean).join(" ");
    },
    exactMatch(searchWord) {
        const code = memberCodeOf(searchWord);
        return super.exactMatch(searchWord) || Boolean(code && this.pseudonym === code);
    },
});
