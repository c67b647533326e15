import { _t } from "@web/core/l10n/translation";
import { patch } from "@web/core/utils/patch";
import { PartnerList } from "@point_of_sale/app/screens/partner_list/partner_list";
import { memberCodeOf } from "./member_code";

patch(PartnerList.prototype, {
    /** Enter on a typed card code selects that member, as scanning the card would. */
    async onEnter() {
        if (!memberCodeOf(this.state.query)) {
            return super.onEnter();
        }
        const member = await this.pos.findRegistryMember(this.state.query);
        if (member) {
            this.clickPartner(member);
        } else {
            this.notification.add(_t('No member has the card code "%s".', this.state.query), {
                type: "warning",
            });
        }
    },
});
