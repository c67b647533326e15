import { patch } from "@web/core/utils/patch";
import { OrderReceipt } from "@point_of_sale/app/screens/receipt_screen/receipt/order_receipt";
import { ean13DataUrl } from "./ean13_barcode";

patch(OrderReceipt.prototype, {
    /** A member enrolled at this till gets the card code on the receipt, as a barcode to scan next time. */
    get registryNewMember() {
        const partner = this.order?.partner_id;
        return partner?.pseudonym && partner.registryNewCard ? partner : null;
    },
    get registryMemberBarcode() {
        return ean13DataUrl(this.registryNewMember?.pseudonym);
    },
});
