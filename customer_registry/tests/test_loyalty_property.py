from dataclasses import dataclass, field
from datetime import timedelta
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal

from dateutil.relativedelta import relativedelta
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from odoo import fields
from odoo.exceptions import UserError
from odoo.tests import tagged

from .loyalty_common import LoyaltyCommon

STEPS = st.lists(
    st.one_of(
        st.tuples(st.just("earn"), st.integers(1, 4), st.integers(0, 3)),
        st.tuples(st.just("redeem"), st.integers(1, 400), st.just(0)),
        st.tuples(st.just("refund"), st.integers(0, 5), st.integers(1, 4)),
        st.tuples(st.just("expire"), st.integers(0, 800), st.just(0)),
        st.tuples(st.just("adjust"), st.integers(-300, 300), st.just(0)),
    ),
    min_size=1,
    max_size=6,
)
PRICE_A, PRICE_B, POINT_VALUE, REDEEM_QTY = Decimal(100), Decimal(30), Decimal("0.1"), 5
TIERS = ((Decimal(1000), Decimal(2)), (Decimal(500), Decimal("1.5")))  # the program of LoyaltyCommon
CENT = Decimal("0.01")


def round_cents(amount):
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def round_half_up(amount):
    return int(amount.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def share(points, done, total):
    """Cumulative share of `points` once `done` of `total` is refunded; everything once all is."""
    if total <= 0 or done <= 0:
        return 0
    if done >= total - Decimal("0.005"):
        return points
    return round_half_up(points * done / total)


@dataclass
class OracleOrder:
    """What the oracle knows of one paid order: written from the program rules, not from the code."""

    quantities: dict  # product key ("a", "b") -> quantity sold
    discount: Decimal = Decimal(0)  # redeemed value on the reward line
    redeemed: int = 0
    earned: int = 0
    base: Decimal = Decimal(0)
    refunded: dict = field(default_factory=dict)  # product key -> quantity refunded so far
    reward_refunded: Decimal = Decimal(0)  # share (0..1) of the reward line refunded so far
    reversed: int = 0  # points taken back or recorded as not reversed
    given_back: int = 0


class LoyaltyOracle:
    """Independent model of the program: earn rate 1 point per unit, rounded down; tier multipliers on the
    rolling spend (this order included; refunds count); FIFO expiry after 12 months; refunds reverse the
    cumulative share of what the order earned (half up, the last part takes what is left), never below zero,
    and give back the refunded share of the redeemed points."""

    def __init__(self):
        self.balance = 0
        self.spend = Decimal(0)
        self.expired_cutoffs = set()

    def multiplier(self, spend):
        for threshold, multiplier in TIERS:
            if spend >= threshold:
                return multiplier
        return Decimal(1)

    def tier(self):
        for index, (threshold, _multiplier) in enumerate(TIERS):
            if self.spend >= threshold:
                return ("gold", "silver")[index]
        return None

    def earn(self, quantities, discount=Decimal(0), redeemed=0):
        amount = PRICE_A * quantities.get("a", 0) + PRICE_B * quantities.get("b", 0) - discount
        self.spend += amount
        order = OracleOrder(quantities, discount=discount, redeemed=redeemed, base=round_cents(amount))
        order.earned = max(0, int((order.base * self.multiplier(self.spend)).to_integral_value(ROUND_FLOOR)))
        self.balance += order.earned - redeemed
        return order

    def refund(self, order, quantities, reward_share):
        amount = PRICE_A * quantities.get("a", 0) + PRICE_B * quantities.get("b", 0) - order.discount * reward_share
        self.spend -= amount
        for key, qty in quantities.items():
            order.refunded[key] = order.refunded.get(key, 0) + qty
        order.reward_refunded += reward_share
        refunded_base = round_cents(
            PRICE_A * order.refunded.get("a", 0)
            + PRICE_B * order.refunded.get("b", 0)
            - order.discount * order.reward_refunded
        )
        due = min(share(order.earned, refunded_base, order.base), order.earned) - order.reversed
        if due > 0:
            self.balance -= min(due, self.balance)
            order.reversed += due
        back = share(order.redeemed, order.discount * order.reward_refunded, order.discount) - order.given_back
        if back > 0:
            self.balance += back
            order.given_back += back

    def expire(self, today, cutoff):
        # Every lot of the test is earned today: past the validity, they all expire (FIFO, what is left).
        if cutoff > today and cutoff not in self.expired_cutoffs and self.balance > 0:
            self.expired_cutoffs.add(cutoff)
            self.balance = 0


@tagged("post_install", "-at_install")
class TestLoyaltyLedgerProperties(LoyaltyCommon):
    """Random sequences of earn / redeem / refund / expire / adjust: an oracle predicts every balance and tier."""

    def refund_at_order_prices(self, order, quantities):
        lines = [
            {
                "product": line.product_id,
                "quantity": -quantities[line.product_id],
                "refunded_orderline_id": line.id,
                "price_unit": line.price_unit,
            }
            for line in order.lines
            if quantities.get(line.product_id)
        ]
        data = self.create_ui_order_data(
            [{key: value for key, value in line.items() if key != "price_unit"} for line in lines],
            customer=order.partner_id,
        )
        for (_zero, _id, vals), line in zip(data["lines"], lines, strict=True):
            vals["price_unit"] = line["price_unit"]
            vals.update(
                price_subtotal=line["price_unit"] * vals["qty"], price_subtotal_incl=line["price_unit"] * vals["qty"]
            )
        total = sum(line[2]["price_subtotal_incl"] for line in data["lines"])
        data.update(amount_total=total, amount_paid=total, amount_tax=0)
        data["payment_ids"][0][2]["amount"] = total
        self.env["pos.order"].sync_from_ui([data])

    @settings(max_examples=200, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck))
    @given(steps=STEPS)
    def test_an_oracle_predicts_every_balance(self, steps):
        member = self.env["res.partner"].create({"name": "Random Member", "is_registry_member": True})
        oracle = LoyaltyOracle()
        orders = []  # (pos.order, OracleOrder)
        products = {"a": self.product_a, "b": self.product_b}
        today = fields.Date.context_today(self.env["res.partner"])
        for kind, first, second in steps:
            if kind == "earn":
                order = self.sync([(self.product_a, first), (self.product_b, second)], member=member)
                orders.append((order, oracle.earn({"a": first, "b": second})))
            elif kind == "redeem":
                if first > oracle.balance:
                    with self.assertRaisesRegex(UserError, "the order redeems"), self.env.cr.savepoint():
                        self.sync_redeeming([(self.product_a, REDEEM_QTY)], first, member=member)
                else:
                    order = self.sync_redeeming([(self.product_a, REDEEM_QTY)], first, member=member)
                    orders.append((order, oracle.earn({"a": REDEEM_QTY}, first * POINT_VALUE, first)))
            elif kind == "refund" and orders:
                order, known = orders[first % len(orders)]
                wanted = {
                    key: min(qty - known.refunded.get(key, 0), second)
                    for key, qty in known.quantities.items()
                    if qty - known.refunded.get(key, 0) > 0
                }
                if wanted:
                    quantities = {products[key]: qty for key, qty in wanted.items()}
                    reward_share = Decimal(0)
                    if known.redeemed:  # the till refunds the reward line in the same proportion
                        reward_share = Decimal(wanted["a"]) / REDEEM_QTY
                        quantities[self.reward_product] = float(reward_share)
                    self.refund_at_order_prices(order, quantities)
                    oracle.refund(known, wanted, reward_share)
            elif kind == "expire":
                day = today + timedelta(days=first)
                self.Entry._expire_points(commit=False, today=day)
                oracle.expire(today, day - relativedelta(months=12))
            elif kind == "adjust" and first:
                if oracle.balance + first < 0:
                    with self.assertRaisesRegex(UserError, "cannot be taken"), self.env.cr.savepoint():
                        self.Entry._adjust(member, first, "Random correction")
                else:
                    self.Entry._adjust(member, first, "Random correction")
                    oracle.balance += first
            member.invalidate_recordset()
            self.assertEqual(member.loyalty_balance, oracle.balance, f"after {kind} {first} {second} in {steps}")
            tier = {None: False, "silver": self.silver, "gold": self.gold}[oracle.tier()]
            self.assertEqual(member.loyalty_tier_id, tier or self.env["customer.loyalty.tier"], f"tier in {steps}")
            self.assertLedgerConsistent(member)
