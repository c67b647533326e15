import { patch } from "@web/core/utils/patch";
import { _t } from "@web/core/l10n/translation";
import { PosStore } from "@point_of_sale/app/services/pos_store";
import { makeAwaitable } from "@point_of_sale/app/utils/make_awaitable_dialog";
import { NumberPopup } from "@point_of_sale/app/components/popups/number_popup/number_popup";

patch(PosStore.prototype, {
    get loyaltyProgram() {
        return this.models["customer.loyalty.program"]?.getFirst();
    },
    /** The order's customer if they are a member and the company runs a loyalty program. */
    loyaltyMemberOf(order) {
        const partner = order?.getPartner();
        return partner?.is_registry_member && this.loyaltyProgram ? partner : null;
    },
    isLoyaltyRewardLine(line) {
        return line.isLoyaltyRewardLine;
    },
    setPartnerToCurrentOrder(partner) {
        const order = this.getOrder();
        if (order && order.getPartner() !== partner) {
            // Points belong to the member they were redeemed for.
            this.removeLoyaltyReward(order);
        }
        super.setPartnerToCurrentOrder(...arguments);
        // Also without a loyalty program: the same call brings the member panel.
        if (partner?.is_registry_member) {
            this.refreshLoyaltyMember(partner);
        }
    },
    /**
     * Ask the server for the member's balance and tier as they stand now (another till, an expiry or a
     * manager may have moved them since the till loaded). Offline, the loaded figures stay.
     */
    async refreshLoyaltyMember(member) {
        let status;
        try {
            status = await this.data.call("res.partner", "get_registry_loyalty_status", [member.id]);
        } catch {
            return; // offline or unreachable: keep what the till has
        }
        if (status?.panel) {
            member.registryPanel = status.panel; // kept: offline, the panel shows what was loaded
        }
        if (status && "loyalty_balance" in status) {
            member.loyalty_balance = status.loyalty_balance;
            member.loyalty_tier_name = status.loyalty_tier_name;
        }
    },
    /** Amount the reward may discount: what the order's other lines cost. */
    loyaltyRedeemableAmount(order) {
        return order
            .getOrderlines()
            .filter((line) => !this.isLoyaltyRewardLine(line))
            .reduce((total, line) => total + line.priceIncl, 0);
    },
    loyaltyRedeemLimits(order) {
        const program = this.loyaltyProgram;
        const member = this.loyaltyMemberOf(order);
        const balance = member?.loyalty_balance || 0;
        const orderMax = Math.max(
            0,
            Math.floor(this.loyaltyRedeemableAmount(order) / program.point_value + 1e-9)
        );
        return {
            balance,
            orderMax,
            min: Math.max(1, program.min_redeem_points || 1),
            max: Math.min(balance, orderMax),
        };
    },
    /** Why `points` cannot be redeemed on the order, or "" if they can. */
    loyaltyRedeemError(points, limits) {
        if (!Number.isInteger(points) || points <= 0) {
            return _t("Enter a whole number of points.");
        }
        if (points > limits.balance) {
            return _t("The member has only %(balance)s points: %(points)s cannot be redeemed.", {
                balance: limits.balance,
                points,
            });
        }
        if (points > limits.orderMax) {
            return _t("This order allows at most %(max)s points.", { max: limits.orderMax });
        }
        if (points < limits.min) {
            return _t("Redeem at least %(min)s points.", { min: limits.min });
        }
        return "";
    },
    /**
     * Let the cashier choose how many points to redeem (between the program's minimum and what the balance
     * and the order allow), then replace the order's reward lines. Adding the line stays local: the server
     * checks the redemption again when the order syncs.
     */
    async redeemLoyaltyPoints(order = this.getOrder()) {
        const program = this.loyaltyProgram;
        const member = this.loyaltyMemberOf(order);
        if (!member) {
            return;
        }
        if (!program.reward_product_id) {
            this.notification.add(_t("Set a reward product on the loyalty program first."), {
                type: "warning",
            });
            return;
        }
        const limits = this.loyaltyRedeemLimits(order);
        if (limits.max < limits.min) {
            this.notification.add(
                limits.balance < limits.min
                    ? _t("The member has %(balance)s points: at least %(min)s are needed to redeem.", {
                          balance: limits.balance,
                          min: limits.min,
                      })
                    : _t("No points can be redeemed on this order."),
                { type: "warning" }
            );
            return;
        }
        const parse = (buffer) => Number(String(buffer || "").trim());
        const typed = await makeAwaitable(this.dialog, NumberPopup, {
            title: _t("Redeem loyalty points"),
            subtitle: _t("%(code)s has %(balance)s points: redeem %(min)s to %(max)s on this order.", {
                code: member.registryCode || member.pseudonym || "",
                balance: limits.balance,
                min: limits.min,
                max: limits.max,
            }),
            startingValue: String(limits.max),
            isValid: (buffer) => !this.loyaltyRedeemError(parse(buffer), limits),
            feedback: (buffer) => (buffer ? this.loyaltyRedeemError(parse(buffer), limits) : ""),
            confirmButtonLabel: _t("Redeem"),
        });
        if (typed === undefined || typed === null || typed === "") {
            return;
        }
        const points = parse(typed);
        const error = this.loyaltyRedeemError(points, limits);
        if (error) {
            // Enter confirms the popup even when its button is disabled: refuse here too.
            this.notification.add(error, { type: "danger" });
            return;
        }
        this.applyLoyaltyReward(order, points);
    },
    /**
     * One reward line per tax rate of the order, each carrying those taxes and discounting its share of
     * `points` in proportion to what the order's lines of that rate cost (as Odoo's loyalty splits its
     * discounts): redeemed points lower the VAT base. Together the lines are worth exactly the points.
     */
    loyaltyRewardLineValues(order, points) {
        const program = this.loyaltyProgram;
        const discount = this.currency.round(points * program.point_value);
        const groups = new Map();
        for (const line of order.getOrderlines()) {
            if (this.isLoyaltyRewardLine(line) || !line.getQuantity()) {
                continue;
            }
            const taxes = line.tax_ids.filter((tax) => tax.amount_type !== "fixed");
            const key = taxes
                .map((tax) => tax.id)
                .sort((a, b) => a - b)
                .join(",");
            const group = groups.get(key) || { taxes, amount: 0, base: 0 };
            group.amount += line.priceIncl;
            group.base += line.basePrice;
            groups.set(key, group);
        }
        const parts = [...groups.values()].filter((group) => group.amount > 0);
        const total = parts.reduce((sum, group) => sum + group.amount, 0);
        let left = discount;
        return parts.map((group, index) => {
            const share =
                index === parts.length - 1
                    ? left
                    : this.currency.round((discount * group.amount) / total);
            left = this.currency.round(left - share);
            // Prices of lines with taxes included hold the tax: the share is the price. Otherwise
            // discount the same fraction of the lines' prices (before tax).
            const priceUnit = group.taxes.every((tax) => tax.price_include)
                ? -share
                : -(group.base * share) / group.amount;
            return { taxes: group.taxes, priceUnit, share };
        });
    },
    loyaltyRewardLineName(points, taxes, split) {
        if (!split) {
            return _t("Loyalty points: %(points)s pts", { points });
        }
        const taxNames = taxes.map((tax) => tax.name).join(", ") || _t("no tax");
        return _t("Loyalty points: %(points)s pts (part taxed %(taxes)s)", { points, taxes: taxNames });
    },
    removeLoyaltyReward(order) {
        for (const line of order.getOrderlines().filter((line) => this.isLoyaltyRewardLine(line))) {
            order.removeOrderline(line);
        }
    },
    /** Points the order's reward lines redeem (what their names say). */
    loyaltyRedeemedPoints(order) {
        const lines = order.getOrderlines().filter((line) => this.isLoyaltyRewardLine(line));
        const kept = lines.find((line) => line.uiState?.loyaltyPoints)?.uiState.loyaltyPoints;
        if (kept) {
            return kept;
        }
        const discount = -lines.reduce((total, line) => total + line.priceIncl, 0);
        return discount > 0 ? Math.round(discount / this.loyaltyProgram.point_value) : 0;
    },
    /**
     * Before payment, split the redeemed points again over the order as it now is (lines added or removed
     * after the points were redeemed), never beyond what the order allows.
     */
    refreshLoyaltyReward(order) {
        const points = this.loyaltyRedeemedPoints(order);
        if (!points || !this.loyaltyMemberOf(order)) {
            return;
        }
        const limits = this.loyaltyRedeemLimits(order);
        const allowed = Math.min(points, limits.max);
        if (allowed < limits.min) {
            this.removeLoyaltyReward(order);
            this.notification.add(_t("The order no longer allows redeeming points: the reward is removed."), {
                type: "warning",
            });
            return;
        }
        this.applyLoyaltyReward(order, allowed);
        if (allowed < points) {
            this.notification.add(
                _t("The reward now redeems %(points)s points: the order allows no more.", { points: allowed }),
                { type: "warning" }
            );
        }
    },
    async pay() {
        const order = this.getOrder();
        if (order && !order.finalized) {
            this.refreshLoyaltyReward(order);
        }
        return super.pay(...arguments);
    },
    applyLoyaltyReward(order, points) {
        const reward = this.loyaltyProgram.reward_product_id;
        this.removeLoyaltyReward(order);
        const values = this.loyaltyRewardLineValues(order, points);
        let lastLine;
        for (const { taxes, priceUnit } of values) {
            lastLine = this.models["pos.order.line"].create({
                order_id: order,
                product_id: reward,
                qty: 1,
                price_unit: priceUnit,
                price_type: "manual",
                tax_ids: taxes.map((tax) => ["link", tax]),
            });
            lastLine.full_product_name = this.loyaltyRewardLineName(points, taxes, values.length > 1);
            lastLine.uiState.loyaltyPoints = points;
        }
        if (lastLine) {
            this.selectOrderLine(order, lastLine);
        }
        return values.length;
    },
    async postSyncAllOrders(orders) {
        await super.postSyncAllOrders(...arguments);
        // The server settled the points in the sync: show its balance, not a guess.
        for (const order of orders || []) {
            const member = order.partner_id;
            if (
                member?.is_registry_member &&
                (order.loyalty_points_earned || order.loyalty_points_redeemed)
            ) {
                member.loyalty_balance = order.loyalty_balance_after;
            }
        }
    },
});
