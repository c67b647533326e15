from datetime import timedelta

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
    max_size=8,
)


@tagged("post_install", "-at_install")
class TestLoyaltyLedgerProperties(LoyaltyCommon):
    """Random sequences of earn / redeem / refund / expire / adjust keep the ledger sound."""

    @settings(
        max_examples=12, deadline=None, derandomize=True, database=None, suppress_health_check=[HealthCheck.too_slow]
    )
    @given(steps=STEPS)
    def test_balance_is_the_sum_of_entries_and_never_negative(self, steps):
        member = self.env["res.partner"].create({"name": "Random Member", "is_registry_member": True})
        orders = []
        for kind, first, second in steps:
            if kind == "earn":
                orders.append(self.sync([(self.product_a, first), (self.product_b, second)], member=member))
            elif kind == "redeem":
                try:
                    with self.env.cr.savepoint():
                        self.sync_redeeming([(self.product_a, 5)], first, member=member)
                except UserError:
                    self.assertGreater(first, member.loyalty_balance)
            elif kind == "refund" and orders:
                order = orders[first % len(orders)]
                left = {line.product_id: line.qty - line.refunded_qty for line in order.lines}
                wanted = {product: min(qty, second) for product, qty in left.items() if qty > 0}
                if wanted:
                    self.refund(order, wanted)
            elif kind == "expire":
                self.Entry._expire_points(commit=False, today=fields.Date.today() + timedelta(days=first))
            elif kind == "adjust" and first:
                try:
                    with self.env.cr.savepoint():
                        self.Entry._adjust(member, first, "Random correction")
                except UserError:
                    self.assertLess(member.loyalty_balance + first, 0)
            self.assertLedgerConsistent(member)
