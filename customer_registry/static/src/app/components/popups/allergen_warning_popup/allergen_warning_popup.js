import { Component } from "@odoo/owl";
import { Dialog } from "@web/core/dialog/dialog";

/**
 * The till stops: the customer is allergic to what is being sold. The cashier removes the
 * lines, or confirms that the customer was told (the confirmation is synced with the line).
 * Closing the dialog any other way removes the lines too: nothing is sold unconfirmed.
 */
export class AllergenWarningPopup extends Component {
    static template = "customer_registry.AllergenWarningPopup";
    static components = { Dialog };
    static props = {
        customerLabel: String,
        // [{ productName, conflicts: [{ allergen, kind }] }]
        items: Array,
        getPayload: Function,
        close: Function,
    };

    remove() {
        this.props.getPayload("remove");
        this.props.close();
    }
    confirm() {
        this.props.getPayload("confirm");
        this.props.close();
    }
}
