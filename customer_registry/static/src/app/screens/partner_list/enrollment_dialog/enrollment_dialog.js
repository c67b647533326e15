import { Component, useState } from "@odoo/owl";
import { _t } from "@web/core/l10n/translation";
import { Dialog } from "@web/core/dialog/dialog";
import { user } from "@web/core/user";
import { usePos } from "@point_of_sale/app/hooks/pos_hook";

/**
 * Enroll a customer at the till in one short dialog: what they want to be called, their postal code,
 * optionally an email and phone (sent to the vault, never shown again) and the consents, each with the
 * exact wording the customer reads. The server creates member, identity and consents in one call and
 * refuses bad input with a message shown here; the payload is the new member's id.
 */
export class EnrollmentDialog extends Component {
    static template = "customer_registry.EnrollmentDialog";
    static components = { Dialog };
    static props = { getPayload: Function, close: Function };

    setup() {
        this.pos = usePos();
        this.state = useState({
            greeting_name: "",
            zip: "",
            email: "",
            phone: "",
            agreed: {},
            error: "",
            saving: false,
        });
    }
    /** The current wording of each purpose, in the cashier's language if the company wrote one. */
    get consentTexts() {
        const lang = (user.lang || "en_US").replace("-", "_");
        const byPurpose = new Map();
        for (const text of this.pos.models["customer.consent.text"]?.getAll() || []) {
            const best = byPurpose.get(text.purpose);
            const rank = (t) => (t.lang === lang ? 2 : t.lang === "en_US" ? 1 : 0);
            if (!best || rank(text) > rank(best)) {
                byPurpose.set(text.purpose, text);
            }
        }
        return [...byPurpose.values()].sort((a, b) => a.purpose.localeCompare(b.purpose));
    }
    purposeLabel(text) {
        return text.purpose === "health"
            ? _t("Allergies and diets")
            : text.purpose === "marketing"
            ? _t("Offers and news")
            : text.purpose;
    }
    async confirm() {
        if (this.state.saving) {
            return;
        }
        if (!this.state.zip.trim()) {
            this.state.error = _t("Enter the customer's postal code.");
            return;
        }
        this.state.saving = true;
        this.state.error = "";
        const values = {
            greeting_name: this.state.greeting_name,
            zip: this.state.zip,
            email: this.state.email,
            phone: this.state.phone,
            consent_text_ids: this.consentTexts
                .filter((text) => this.state.agreed[text.id])
                .map((text) => text.id),
        };
        try {
            const memberId = await this.pos.data.call("res.partner", "registry_enroll_at_till", [
                this.pos.config.id,
                values,
            ]);
            this.props.getPayload(memberId);
            this.props.close();
        } catch (error) {
            this.state.error =
                error?.data?.message ||
                _t("The till cannot reach the server: enroll the customer when it is back online.");
        } finally {
            this.state.saving = false;
        }
    }
}
