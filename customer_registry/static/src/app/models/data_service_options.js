import { patch } from "@web/core/utils/patch";
import { DataServiceOptions } from "@point_of_sale/app/models/data_service_options";

patch(DataServiceOptions.prototype, {
    get databaseIndex() {
        const indexes = super.databaseIndex;
        return { ...indexes, "res.partner": [...(indexes["res.partner"] || []), "pseudonym"] };
    },
});
