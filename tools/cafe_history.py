"""Two years of sales history for the demo café, so the reports and the dashboard show real shapes.

Run inside `odoo shell` on the demo database (tools/cafe_demo.py does it):
`cafe_history.build(env)`.  Members enrol over two years (more each year, peaks
in summer and December), buy at their own pace (one-off visitors, occasional
guests, regulars), lapse after a while, and a few orders are refunded (one of
them rung up without the member, as happens at a busy till).

What goes through the application, what does not, and why:
- members are enrolled with the ORM (card codes, identities and the vault's
  rules as for any member);
- orders, their lines (products and taxes of the café) and cash payments are
  created with the ORM, paid, and the loyalty ledger is settled through the
  order's own settlement (`_loyalty_settle`, what a paid till order runs):
  points, tiers and refunds' reversals are what the till would have posted;
- each month is one session of the café's register; a finished month's
  session is then marked closed and its orders posted *in SQL*: closing a
  session through the ORM posts its accounting entries, which would add
  minutes to the demo's build for journal entries no report reads.  The
  demo's past months therefore have no accounting entries.
"""

import math
import random
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

MONTHS = 24
MEMBERS = 240
SEED = 2026
# Postal areas around the café (Bergen 50-53), a few from Oslo (01) and Stavanger (40).
POSTAL_CODES = [("5003", 6), ("5012", 5), ("5036", 4), ("5089", 3), ("5141", 3), ("5221", 2), ("5305", 1)]
POSTAL_CODES += [("0150", 1), ("4006", 1)]
# A member's pace: share of members, visits per month, mean months before lapsing.
KINDS = [("one_off", 0.30, 0.0, 1), ("occasional", 0.45, 0.6, 8), ("regular", 0.25, 2.0, 12)]
# More guests in summer (tourists) and December, fewer after Christmas.
SEASON = {1: 0.8, 2: 0.85, 3: 0.95, 4: 1.0, 5: 1.05, 6: 1.25, 7: 1.35, 8: 1.2, 9: 1.0, 10: 0.95, 11: 1.0, 12: 1.4}
GREETINGS = [
    "Anne", "Ingrid", "Kristin", "Marit", "Ida", "Nora", "Emma", "Sofie", "Hanne", "Silje",
    "Jan", "Per", "Bjørn", "Lars", "Knut", "Erik", "Ole", "Jonas", "Magnus", "Sindre",
]  # fmt: skip
DRINKS = ["product_cafe_kaffe", "product_cafe_cappuccino", "product_cafe_caffe_latte", "product_cafe_te"]
DRINKS += ["product_cafe_kakao"]
FOOD = ["product_cafe_skolebolle", "product_cafe_kanelbolle", "product_cafe_vaffel", "product_cafe_rundstykke"]
FOOD += ["product_cafe_gulrotkake"]
MERCH = "product_cafe_termokrus"
REFUND_SHARE = 0.01


def _month_start(day, shift=0):
    index = day.year * 12 + day.month - 1 + shift
    return date(index // 12, index % 12 + 1, 1)


def _poisson(rng, mean):
    # Knuth: fine for the small means here.
    limit, k, p = math.exp(-mean), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


class _History:
    def __init__(self, env, members, months, seed):
        self.env = env
        self.rng = random.Random(seed)
        self.company = env.ref("base.main_company")
        self.cafe = env.ref("customer_registry.pos_config_cafe")
        self.tz = ZoneInfo(self.company.partner_id.tz or "UTC")
        self.today = datetime.now(self.tz).date()
        self.first_month = _month_start(self.today, -(months - 1))
        self.months = [_month_start(self.first_month, shift) for shift in range(months)]
        self.members_wanted = members
        self.products = {xmlid: env.ref(f"customer_registry.{xmlid}") for xmlid in DRINKS + FOOD + [MERCH]}
        self.cash = self.cafe.payment_method_ids.filtered(lambda method: method.is_cash_count)[:1]
        self.cash = self.cash or self.cafe.payment_method_ids[:1]
        self.prices = {}

    def _season(self, month):
        """The month's share of guests: its season, and only the days gone by for the current month."""
        share = SEASON[month.month]
        if month == _month_start(self.today):
            days = (_month_start(month, 1) - month).days
            share *= max(self.today.day - 1, 1) / days
        return share

    def _when(self, month):
        """A random opening hour (7:00-18:00 local) of the month, never in the future."""
        last_day = (_month_start(month, 1) - timedelta(days=1)).day
        if month == _month_start(self.today):
            last_day = max(1, self.today.day - 1) if self.today.day > 1 else 1
        day = date(month.year, month.month, self.rng.randint(1, last_day))
        local = datetime.combine(day, time(self.rng.randint(7, 17), self.rng.randint(0, 59)), tzinfo=self.tz)
        return local.astimezone(UTC).replace(tzinfo=None)

    def _basket(self):
        rng = self.rng
        names = [rng.choice(DRINKS)]
        if rng.random() < 0.55:
            names.append(rng.choice(FOOD))
        if rng.random() < 0.03:
            names.append(MERCH)
        return [self.products[name] for name in names]

    def members(self):
        """Enrol the members; return [(member, join month index, visits per month, active months)]."""
        rng = self.rng
        weights = [(1 + index / 12) * self._season(month) for index, month in enumerate(self.months)]
        codes, code_weights = zip(*POSTAL_CODES, strict=True)
        plans, values = [], []
        for number in range(1, self.members_wanted + 1):
            kind = rng.choices(KINDS, weights=[share for _name, share, _rate, _life in KINDS])[0]
            _name, _share, rate, mean_life = kind
            rate *= rng.lognormvariate(0, 0.4)
            life = max(1, round(rng.expovariate(1 / mean_life))) if rate else 1
            plans.append((rng.choices(range(len(self.months)), weights=weights)[0], rate, life))
            values.append(
                {
                    "name": f"Demomedlem {number:03d}",
                    "registry_greeting_name": rng.choice(GREETINGS),
                    "is_registry_member": True,
                    "zip": rng.choices(codes, weights=code_weights)[0],
                    "city": "Bergen",
                    "country_id": self.env.ref("base.no").id,
                    "company_id": self.company.id,
                }
            )
        members = self.env["res.partner"].create(values)
        # The two members of the demo data are regulars since the first months.
        demo = self.env.ref("customer_registry.demo_member_kari") | self.env.ref("customer_registry.demo_member_ola")
        plans += [(1, 4.0, len(self.months)), (3, 1.0, len(self.months))]
        return list(zip(members | demo, plans, strict=True))

    def visits(self, plans):
        """{month index: [(member, when)]}: the first purchase in the join month, then a paced, seasonal rhythm."""
        rng = self.rng
        by_month = {index: [] for index in range(len(self.months))}
        for member, (joined, rate, life) in plans:
            for index in range(joined, min(joined + life, len(self.months))):
                month = self.months[index]
                count = _poisson(rng, rate * self._season(month))
                if index == joined:
                    count = max(count, 1)
                by_month[index] += [(member, self._when(month)) for _visit in range(count)]
        return by_month

    def _price(self, product):
        """(name, unit price, taxes, subtotal, subtotal with taxes) of one unit, computed once per product."""
        if product.id not in self.prices:
            taxes = product.taxes_id.filtered(lambda tax: tax.company_id == self.company)
            computed = taxes.compute_all(product.lst_price, product=product)
            self.prices[product.id] = (
                product.display_name,
                product.lst_price,
                taxes,
                computed["total_excluded"],
                computed["total_included"],
            )
        return self.prices[product.id]

    def _order_values(self, session, member, when, products, refund_of=None):
        lines, total, tax_total = [], 0.0, 0.0
        sign = -1 if refund_of else 1
        for position, product in enumerate(products):
            name, price, taxes, subtotal, subtotal_incl = self._price(product)
            line = {
                "product_id": product.id,
                "full_product_name": name,
                "qty": sign,
                "price_unit": price,
                "price_subtotal": sign * subtotal,
                "price_subtotal_incl": sign * subtotal_incl,
                "tax_ids": [(6, 0, taxes.ids)],
            }
            if refund_of:
                line["refunded_orderline_id"] = refund_of[position].id
            lines.append((0, 0, line))
            total += sign * subtotal_incl
            tax_total += sign * (subtotal_incl - subtotal)
        total = round(total, 2)
        return {
            "session_id": session.id,
            "company_id": self.company.id,
            "partner_id": member.id if member else False,
            "date_order": when,
            "lines": lines,
            "amount_total": total,
            "amount_tax": round(tax_total, 2),
            "amount_paid": total,
            "amount_return": 0.0,
            "state": "paid",
            "payment_ids": [(0, 0, {"payment_method_id": self.cash.id, "amount": total, "payment_date": when})],
        }

    def build(self, log=print):
        env = self.env
        plans = self.members()
        by_month = self.visits(plans)
        Order = env["pos.order"].with_company(self.company)
        sessions = env["pos.session"]
        order_count = refund_count = 0
        without_member = False
        for index, month in enumerate(self.months):
            visits = sorted(by_month[index], key=lambda visit: visit[1])
            if not visits:
                continue
            session = env["pos.session"].create({"config_id": self.cafe.id})
            values = [self._order_values(session, member, when, self._basket()) for member, when in visits]
            orders = Order.create(values)
            refunds = []
            for order in orders:
                if self.rng.random() < REFUND_SHARE:
                    when = min(order.date_order + timedelta(days=self.rng.randint(0, 3)), visits[-1][1])
                    # One refund rung up without the member: the ledger still charges the buyer.
                    member = order.partner_id if without_member else env["res.partner"]
                    without_member = True
                    products = [line.product_id for line in order.lines]
                    when = max(when, order.date_order)
                    refunds.append(self._order_values(session, member, when, products, refund_of=order.lines))
            orders |= Order.create(refunds) if refunds else Order
            orders.sorted("date_order")._loyalty_settle()
            order_count += len(visits)
            refund_count += len(refunds)
            sessions |= session
            self._close(session, month)
            log(f"history: {month:%Y-%m} {len(visits)} orders, {len(refunds)} refunds")
        return {"members": len(plans), "orders": order_count, "refunds": refund_count, "sessions": len(sessions)}

    def _close(self, session, month):
        """Mark the month's session closed and its orders posted, without its accounting entries (see above)."""
        self.env.flush_all()
        start = datetime.combine(month, time(6), tzinfo=self.tz).astimezone(UTC).replace(tzinfo=None)
        stop = min(
            datetime.combine(_month_start(month, 1) - timedelta(days=1), time(19), tzinfo=self.tz),
            datetime.now(self.tz) - timedelta(hours=1),
        )
        stop = stop.astimezone(UTC).replace(tzinfo=None)
        self.env.cr.execute(
            "UPDATE pos_order SET state = 'done' WHERE session_id = %s AND state = 'paid'", [session.id]
        )
        self.env.cr.execute(
            "UPDATE pos_session SET state = 'closed', start_at = %s, stop_at = %s WHERE id = %s",
            [start, stop, session.id],
        )
        self.env.invalidate_all()


def build(env, members=MEMBERS, months=MONTHS, seed=SEED, log=print):
    """Build the history; return what was made: {'members', 'orders', 'refunds', 'sessions'}."""
    return _History(env, members, months, seed).build(log=log)
