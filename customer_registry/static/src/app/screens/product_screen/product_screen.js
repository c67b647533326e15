import { patch } from "@web/core/utils/patch";
import { ProductScreen } from "@point_of_sale/app/screens/product_screen/product_screen";

patch(ProductScreen.prototype, {
    /** A scanned member card carries the member code, not a partner barcode. */
    async _getPartnerByBarcode(code) {
        const member = await this.pos.findRegistryMember(code.code);
        return member || (await super._getPartnerByBarcode(code));
    },
});
