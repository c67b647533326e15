import { _t } from "@web/core/l10n/translation";
import { patch } from "@web/core/utils/patch";
import { PartnerList } from "@point_of_sale/app/screens/partner_list/partner_list";
import { TextInputPopup } from "@point_of_sale/app/components/popups/text_input_popup/text_input_popup";
import { makeAwaitable } from "@point_of_sale/app/utils/make_awaitable_dialog";
import { memberCodeOf, mistypedMemberCodeError } from "@customer_registry/app/utils/member_code";

patch(PartnerList.prototype, {
    /**
     * What the search box holds right now. The query state follows it after the input's debounce,
     * and a card reader typing into the box sends the whole code and Enter well within that delay.
     */
    get typedSearch() {
        return this.modalRef.el?.querySelector(".modal-header input")?.value ?? this.state.query;
    },
    /** Why the search is a mistyped card code (the backend's message), shown instead of "no customers". */
    get registryCodeError() {
        return mistypedMemberCodeError(this.state.query);
    },
    async searchPartner() {
        // A mistyped code names nobody: asking the server would only answer "no customers found".
        if (mistypedMemberCodeError(this.typedSearch)) {
            return [];
        }
        return super.searchPartner(...arguments);
    },
    /** Enter on a typed card code selects that member, as scanning the card would. */
    async onEnter() {
        const typed = this.typedSearch;
        const codeError = mistypedMemberCodeError(typed);
        if (codeError) {
            this.notification.add(codeError, { type: "danger" });
            return;
        }
        if (!memberCodeOf(typed)) {
            return super.onEnter();
        }
        const member = await this.pos.findRegistryMember(typed);
        if (member) {
            this.clickPartner(member);
        } else {
            this.notification.add(_t('No member has the card code "%s".', typed), { type: "warning" });
        }
    },
    /**
     * "Forgot my card": the customer tells their phone number or email, the server finds the
     * member by its blind index (exact match only) and answers with the label and card code.
     */
    async findMemberByContact() {
        const typed = await makeAwaitable(this.dialog, TextInputPopup, {
            title: _t("Find a member by phone or email"),
            placeholder: _t("The member's full phone number or email address"),
        });
        if (!typed?.trim()) {
            return;
        }
        const found = await this.pos.data.call("res.partner", "registry_find_by_contact", [typed]);
        if (found.length !== 1) {
            this.notification.add(
                found.length
                    ? _t("Several members have this phone number or email: ask for their card.")
                    : _t("No member has exactly this phone number or email."),
                { type: "warning" }
            );
            return;
        }
        const member = await this.pos.findRegistryMember(found[0].pseudonym);
        if (member) {
            this.clickPartner(member);
        }
    },
});
