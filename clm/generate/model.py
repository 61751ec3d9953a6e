"""The life of one synthetic customer, simulated from its own RNG.

``simulate_customer(ctx, i)`` returns every record the customer produces in the three source systems, each
with its full version history. Only ``(seed, i)`` seeds the RNG and sign-up times increase with ``i``, so a
customer can be simulated without looking at any other one (a referral points to a smaller index, hence an
earlier contact), and memory does not grow with the number of customers.

Stripe conventions followed: amounts in minor units (JPY whole yen), Unix-second timestamps, lower-case
currencies, ``items``/``lines`` as plain arrays. Upgrades are invoiced at once (``always_invoice``: a negative
credit line for unused time plus a positive line for the remaining time); downgrades leave the same pair of
proration lines pending for the next renewal invoice (``create_prorations``). Proration lines have
``type: invoiceitem``, ``proration: true`` and the plan's recurring price; genuine one-off purchases have
``price.recurring: null``.

Retention and purchasing follow the CLV models of clm.clv with the known parameters in catalog (recorded in
the manifest as ``clv_ground_truth``), as the warehouse measures them (int_clv__subscription_renewals,
int_clv__purchase_histories):

* sBG: a subscriber draws theta ~ Beta(alpha, beta) once; at the end of every paid billing period it churns
  with probability theta. The churn's type is drawn apart: a cancellation requested during the period
  (``cancel_at_period_end``, voluntary) or a renewal invoice that no retry collects (``payment_failed``,
  involuntary: that last period is never paid). Other renewal payments that fail are recovered by dunning,
  so every period survived has a paid invoice. Upgrades and downgrades only add proration lines.
* Renewal-day edge cases (catalog.RENEWAL_EDGE_CASES): a few subscriptions churn in one of the ways that once
  made MRR and the lifecycle disagree (canceled on the renewal day before or after the renewal invoice, a
  renewal voided after payment, the last period refunded), change plan on a renewal day, or have a period end
  exactly at the as-of instant. Each draws from its own RNG, so the rest of the seed's output is unchanged.
* BG/NBD and Gamma-Gamma: one-off buyers (and some USD subscribers, for add-ons) buy at Poisson times with
  a dropout chance after each repeat purchase, each purchase one paid USD invoice on its own UTC day.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from operator import itemgetter
from random import Random

from clm.generate import catalog as cat
from clm.generate.catalog import DAY, HOUR
from clm.generate.layout import DropLayout, Version, add_months, epoch, to_date

BILLING_ONLY_RATE = 0.02  # people who pay through Stripe but never appear in the CRM
UNLINKED_RATE = 0.12  # billing customers created without metadata.crm_contact_id
GROWTH = 2.0  # sign-ups per day grow linearly to (1 + GROWTH) x the first day's rate
TRIAL_DAYS = 14
# The renewal-day edge cases that replace how a voluntary churn happens (catalog.RENEWAL_EDGE_CASES).
CHURN_EDGE_CASES = frozenset(
    {
        "cancel_before_renewal_invoice",
        "cancel_after_renewal_invoice",
        "renewal_voided_after_payment",
        "refund_last_period",
    }
)
_B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_CODE_SPACE = 62**8
_CODE_MULT = 2_654_435_761  # odd and not a multiple of 31: a bijection on [0, 62**8)


def stripe_code(i: int) -> str:
    """Eight base-62 characters, unique per customer index, that look like Stripe's random ids."""
    n = (i * _CODE_MULT + 12_345_678_901) % _CODE_SPACE
    chars = []
    for _ in range(8):
        n, r = divmod(n, 62)
        chars.append(_B62[r])
    return "".join(chars)


def contact_id(i: int) -> str:
    return str(1_000_001 + i)


def is_billing_only(seed: int, i: int) -> bool:
    # The first draw of a customer's RNG decides it, so any other customer can recompute it cheaply.
    return Random(f"{seed}:{i}").random() < BILLING_ONLY_RATE


@dataclass(frozen=True)
class Context:
    seed: int
    customers: int
    layout: DropLayout

    def signup_ts(self, i: int, jitter: float) -> int:
        """Inverse CDF of a linearly growing sign-up rate at (i + jitter) / N: increasing in i.

        Customers i >= N (appended days) continue the curve past ``end``: tau > 1, the rate still growing.
        """
        x = (i + jitter) / self.customers
        # F(tau) = (tau + GROWTH tau^2 / 2) / (1 + GROWTH / 2) on [0, 1); solve F(tau) = x.
        tau = (-1.0 + math.sqrt(1.0 + 2.0 * GROWTH * x * (1.0 + GROWTH / 2))) / GROWTH
        if i < self.customers:
            tau = min(tau, 1.0 - 1e-9)
        span = self.layout.end_horizon - self.layout.start_ts
        return self.layout.start_ts + int(tau * span)


def signup_of(ctx: Context, i: int) -> int:
    """Customer ``i``'s sign-up time, from the first two draws of its RNG, as simulate_customer draws them."""
    rng = Random(f"{ctx.seed}:{i}")
    rng.random()  # billing_only
    return ctx.signup_ts(i, rng.random())


class Rec:
    """One record (a key in one entity) and every version of it."""

    __slots__ = ("entity", "state", "versions")

    def __init__(self, entity: str, ts: int, state: dict) -> None:
        self.entity = entity
        self.state = state
        self.versions: list[Version] = [(ts, state)]

    def update(self, ts: int, **changes: object) -> None:
        self.state = {**self.state, **changes}
        self.versions.append((ts, self.state))

    def sorted_versions(self) -> list[Version]:
        self.versions.sort(key=itemgetter(0))  # stable: same-second changes keep their order
        return self.versions


@dataclass
class Person:
    i: int
    code: str
    contact_id: str | None
    first: str
    last: str
    email: str
    company: str
    country: str
    currency: str
    segment: str
    channel: str
    referrer: str | None
    tz: int
    happiness: float
    signup: int


def _email_variant(email: str, rng: Random, must_differ: bool) -> str:
    """Same mailbox with other case and surrounding whitespace (what identity resolution must undo)."""
    style = rng.random()
    if style < 0.35:
        v = email[0].upper() + email[1:]
    elif style < 0.6:
        v = email.upper()
    elif style < 0.8:
        local, _, domain = email.partition("@")
        v = local.title() + "@" + domain.upper()
    else:
        v = email if not must_differ else email.title()
    pad = rng.random()
    if pad < 0.3:
        v = " " + v
    elif pad < 0.55:
        v = v + "  "
    return v


def make_person(ctx: Context, i: int, rng: Random, billing_only: bool, signup: int) -> Person:
    first = cat.FIRST_NAMES[int(rng.random() * len(cat.FIRST_NAMES))]
    last = cat.LAST_NAMES[int(rng.random() * len(cat.LAST_NAMES))]
    country = cat.COUNTRIES.pick(rng)
    channel = cat.CHANNELS.pick(rng)
    segment = cat.SEGMENT_BY_CHANNEL.get(channel, cat.SEGMENT_DEFAULT).pick(rng)
    word = cat.COMPANY_WORDS[int(rng.random() * len(cat.COMPANY_WORDS))]
    suffix = cat.COMPANY_SUFFIXES[int(rng.random() * len(cat.COMPANY_SUFFIXES))]
    company = f"{word} {suffix}"
    if segment == "smb" and rng.random() < 0.4:
        domain = cat.FREE_MAIL[int(rng.random() * len(cat.FREE_MAIL))]
    else:
        domain = word.lower().replace(" ", "") + f"{i % 97}.example.com"
    # The index makes every mailbox unique.
    email = f"{first.lower()}.{last.lower().replace(' ', '')}{i}@{domain}"
    referrer = None
    if channel == "referral":
        referrer = _pick_referrer(ctx.seed, i, rng)
        if referrer is None:
            channel = "organic"
    offsets = cat.OFFSETS_BY_COUNTRY[country]
    return Person(
        i=i,
        code=stripe_code(i),
        contact_id=None if billing_only else contact_id(i),
        first=first,
        last=last,
        email=email,
        company=company,
        country=country,
        currency=cat.CURRENCY_BY_COUNTRY[country],
        segment=segment,
        channel=channel,
        referrer=referrer,
        tz=offsets[int(rng.random() * len(offsets))],
        happiness=rng.random(),
        signup=signup,
    )


def _pick_referrer(seed: int, i: int, rng: Random) -> str | None:
    """An earlier contact (smaller index = earlier sign-up) that exists in the CRM."""
    for _ in range(4):
        if i == 0:
            return None
        j = int(rng.random() * i)
        if not is_billing_only(seed, j):
            return contact_id(j)
    return None


def beta_cdf(x: float, a: float, b: float) -> float:
    """The regularized incomplete beta function I_x(a, b), by Lentz's continued fraction (Numerical Recipes
    6.4): the CDF of Beta(a, b) at x, accurate to about 1e-12 (scipy would add ~20 MB to every run)."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    front = math.exp(
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    )
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _beta_continued_fraction(a, b, x) / a
    return 1.0 - front * _beta_continued_fraction(b, a, 1.0 - x) / b


def _beta_continued_fraction(a: float, b: float, x: float) -> float:
    tiny = 1e-300
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1.0)
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 300):
        m2 = 2 * m
        for num in (
            m * (b - m) * x / ((a - 1.0 + m2) * (a + m2)),
            -(a + m) * (a + b + m) * x / ((a + m2) * (a + 1.0 + m2)),
        ):
            d = 1.0 + num * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + num / c
            c = c if abs(c) > tiny else tiny
            h *= d * c
        if abs(d * c - 1.0) < 1e-13:
            break
    return h


def _uniform(rng: Random, lo: float, hi: float) -> int:
    return int(lo + rng.random() * (hi - lo))


class Billing:
    """Stripe-side records of one person: customer, subscriptions, invoices, charges."""

    def __init__(self, ctx: Context, rng: Random, p: Person) -> None:
        self.ctx, self.rng, self.p = ctx, rng, p
        self.customer: Rec | None = None
        self.recs: list[Rec] = []
        self.n_sub = self.n_inv = self.n_line = self.n_ch = 0
        self.first_paid_at: int | None = None
        self.active_spans: list[tuple[int, int]] = []  # paying periods, for tickets and NPS
        self.churns: list[tuple[int, str]] = []
        self.final_fail_at = 0
        self.theta: float | None = None  # sBG churn probability per billing period, once per person
        self.edge_cases: list[str] = []  # renewal-day edge cases that happened before the horizon

    # -- customer -------------------------------------------------------------------------------------------
    def ensure_customer(self, ts: int) -> str:
        p = self.p
        if self.customer is None:
            metadata: dict[str, str] = {}
            email = p.email
            if p.contact_id is not None:
                if self.rng.random() >= UNLINKED_RATE:
                    metadata["crm_contact_id"] = p.contact_id
                else:  # no link: identity resolution must match on the normalized email
                    email = _email_variant(p.email, self.rng, must_differ=True)
            self.customer = Rec(
                "customers",
                ts,
                {
                    "id": f"cus_{p.code}",
                    "object": "customer",
                    "address": {"country": p.country},
                    "balance": 0,
                    "created": ts,
                    "currency": p.currency,
                    "delinquent": False,
                    "email": email,
                    "invoice_prefix": p.code[:6].upper(),
                    "livemode": False,
                    "metadata": metadata,
                    "name": f"{p.first} {p.last}",
                    "preferred_locales": [],
                    "tax_exempt": "none",
                },
            )
        return self.customer.state["id"]

    # -- invoices and payments ------------------------------------------------------------------------------
    def _line(
        self,
        ts_start: int,
        ts_end: int,
        price: dict,
        qty: int,
        amount: int,
        *,
        kind: str,
        proration: bool,
        sub_id: str | None,
        discount: int = 0,
        description: str = "",
    ) -> dict:
        self.n_line += 1
        return {
            "id": f"il_{self.p.code}{self.n_line:05d}",
            "object": "line_item",
            "type": kind,
            "amount": amount,
            "amount_excluding_tax": amount,
            "currency": price["currency"],
            "description": description,
            "discount_amounts": [{"amount": discount, "discount": f"di_{self.p.code}"}] if discount else [],
            "discountable": not proration,
            "livemode": False,
            "period": {"start": ts_start, "end": ts_end},
            "price": price,
            "proration": proration,
            "quantity": qty,
            "subscription": sub_id,
        }

    def new_invoice(self, ts: int, sub_id: str | None, lines: list[dict], reason: str) -> Rec:
        cus = self.ensure_customer(ts)
        self.n_inv += 1
        amount = sum(line["amount"] for line in lines)
        discount = sum(d["amount"] for line in lines for d in line["discount_amounts"])
        rec = Rec(
            "invoices",
            ts,
            {
                "id": f"in_{self.p.code}{self.n_inv:04d}",
                "object": "invoice",
                "customer": cus,
                "subscription": sub_id,
                "status": "draft",
                "billing_reason": reason,
                "collection_method": "charge_automatically",
                "currency": self.p.currency,
                "created": ts,
                "number": f"{self.p.code[:6].upper()}-{self.n_inv:04d}",
                "livemode": False,
                "attempt_count": 0,
                "attempted": False,
                "paid": False,
                "charge": None,
                "subtotal": amount + discount,
                "total_discount_amounts": [{"amount": discount, "discount": f"di_{self.p.code}"}]
                if discount
                else [],
                "total": amount,
                "tax": None,
                # As in Stripe: a credit (negative total, e.g. a downgrade's proration) goes to the customer's
                # balance and the invoice is due 0, never a negative amount.
                "amount_due": max(amount, 0),
                "amount_paid": 0,
                "amount_remaining": max(amount, 0),
                "status_transitions": _transitions(None, None, None, None),
                "lines": lines,
            },
        )
        self.recs.append(rec)
        return rec

    def _charge(self, ts: int, inv: Rec, ok: bool) -> str:
        self.n_ch += 1
        rng = self.rng
        amount = inv.state["amount_due"]
        failure = None if ok else cat.FAILURE_CODES.pick(rng)
        rec = Rec(
            "charges",
            ts,
            {
                "id": f"ch_{self.p.code}{self.n_ch:04d}",
                "object": "charge",
                "customer": inv.state["customer"],
                "invoice": inv.state["id"],
                "amount": amount,
                "amount_captured": amount if ok else 0,
                "amount_refunded": 0,
                "refunded": False,
                "captured": ok,
                "paid": ok,
                "currency": inv.state["currency"],
                "status": "succeeded" if ok else "failed",
                "failure_code": None if ok else failure[0],
                "failure_message": None if ok else failure[1],
                "outcome": {
                    "type": "authorized" if ok else "issuer_declined",
                    "network_status": "approved_by_network" if ok else "declined_by_network",
                },
                "payment_method_details": {"type": "card"},
                "created": ts,
                "livemode": False,
            },
        )
        if ok and rng.random() < 0.025:  # refunds: full or partial, a few days later
            refunded = amount if rng.random() < 0.6 else max(1, amount // (2 + int(rng.random() * 3)))
            rec.update(
                ts + _uniform(rng, DAY, 20 * DAY), amount_refunded=refunded, refunded=refunded == amount
            )
        self.recs.append(rec)
        return rec.state["id"]

    def collect(
        self, inv: Rec, ts: int, fail_p: float, sub: Rec | None, recovery: float = cat.DUNNING_RECOVERY
    ) -> int | None:
        """Finalize and charge an invoice, with dunning. Returns when it was paid, None if uncollectible.

        The first charge fails with probability ``fail_p``; dunning then recovers it with probability
        ``recovery`` (1.0: a renewal that will be paid; fail_p = 1.0, recovery = 0.0: an involuntary churn).
        """
        rng = self.rng
        fin = ts + HOUR  # Stripe finalizes automatic invoices about an hour after creating them
        inv.update(fin, status="open", status_transitions=_transitions(fin, None, None, None))
        if inv.state["amount_due"] <= 0:
            inv.update(fin, status="paid", paid=True, status_transitions=_transitions(fin, fin, None, None))
            return fin
        at = fin + _uniform(rng, 60, 900)
        if rng.random() >= fail_p:
            return self._paid(inv, at, 1, sub=None)
        attempts = 1
        charge = self._charge(at, inv, ok=False)
        inv.update(at, attempt_count=1, attempted=True, charge=charge)
        if sub is not None:
            sub.update(at, status="past_due")
        success = int(rng.random() * len(cat.DUNNING_RETRY_DAYS)) if rng.random() < recovery else -1
        t = at
        for k, days in enumerate(cat.DUNNING_RETRY_DAYS):
            t = at + days * DAY + _uniform(rng, 0, 4 * HOUR)
            attempts += 1
            if k == success:
                return self._paid(inv, t, attempts, sub)
            charge = self._charge(t, inv, ok=False)
            inv.update(t, attempt_count=attempts, charge=charge)
        self.final_fail_at = t + HOUR
        inv.update(
            t + HOUR,
            status="uncollectible",
            status_transitions=_transitions(fin, None, t + HOUR, None),
        )
        return None

    def _paid(self, inv: Rec, at: int, attempts: int, sub: Rec | None) -> int:
        charge = self._charge(at, inv, ok=True)
        due = inv.state["amount_due"]
        fin = inv.state["status_transitions"]["finalized_at"]
        inv.update(
            at,
            status="paid",
            paid=True,
            attempted=True,
            attempt_count=attempts,
            charge=charge,
            amount_paid=due,
            amount_remaining=0,
            status_transitions=_transitions(fin, at, None, None),
        )
        if sub is not None:
            sub.update(at, status="active")
        if self.first_paid_at is None:
            self.first_paid_at = at
        return at

    # -- renewal-day edge cases -----------------------------------------------------------------------------
    @contextmanager
    def _drawing_from(self, rng: Random) -> Iterator[None]:
        """collect and _charge draw from an edge case's own RNG: the customer's main stream is untouched."""
        main, self.rng = self.rng, rng
        try:
            yield
        finally:
            self.rng = main

    def _happened(self, case: str, ts: int) -> None:
        if ts <= self.ctx.layout.horizon:  # counted where the drops are cut
            self.edge_cases.append(case)

    def _charge_rec(self, charge_id: str | None) -> Rec | None:
        for rec in reversed(self.recs):
            if rec.entity == "charges" and rec.state["id"] == charge_id:
                return rec
        return None

    def _refund_in_full(self, charge: Rec, ts: int) -> int:
        """Refund ``charge`` in full at ``ts``, or just after its latest version (a random partial refund may
        come later than ``ts``: the full refund must stay the newest version). Returns the refund time."""
        at = max(ts, charge.versions[-1][0] + 60)
        charge.update(at, amount_refunded=charge.state["amount"], refunded=True)
        return at

    def _cancel_now(self, sub: Rec, ts: int, reason: dict) -> None:
        sub.update(ts, status="canceled", canceled_at=ts, ended_at=ts, cancellation_details=reason)

    def _period_line(self, ps: int, pe: int, price: dict, qty: int, pct: float, sid: str) -> dict:
        """The subscription line for the service period [ps, pe), after a percent-off discount."""
        gross = price["unit_amount"] * qty
        off = round(gross * pct)
        return self._line(
            ps,
            pe,
            price,
            qty,
            gross - off,
            kind="subscription",
            proration=False,
            sub_id=sid,
            discount=off,
            description=f"{qty} × {price['nickname']}",
        )

    def _renew_once(
        self, sub: Rec, sid: str, ps: int, pe: int, price: dict, qty: int, pct: float, pending: list[dict]
    ) -> tuple[Rec, int]:
        """Invoice and collect the renewal period [ps, pe) at once (its first charge succeeds)."""
        line = self._period_line(ps, pe, price, qty, pct, sid)
        inv = self.new_invoice(ps, sid, [line, *pending], "subscription_cycle")
        sub.update(
            ps,
            status="active",
            current_period_start=ps,
            current_period_end=pe,
            latest_invoice=inv.state["id"],
        )
        paid = self.collect(inv, ps, 0.0, sub)
        assert paid is not None  # fail_p 0: the first charge succeeds
        return inv, paid

    def _edge_churn(
        self,
        case: str,
        erng: Random,
        sub: Rec,
        sid: str,
        inv: Rec,
        paid_at: int,
        u: int,
        ps: int,
        pe: int,
        next_pe: int,
        price: dict,
        qty: int,
        next_pct: float,
        pending: list[dict],
        reason: dict,
    ) -> int | None:
        """A voluntary churn at the end of the paid period [ps, pe) that happens as ``case`` says. Returns
        when the subscription ended, or None when the case cannot happen here (then the usual cancel at period
        end)."""
        end_horizon = self.ctx.layout.end_horizon  # a parameter: the same wherever the drops are cut
        day_start = pe - pe % DAY
        if case == "cancel_before_renewal_invoice":
            # on the renewal day, before the renewal invoice (due at pe): no renewal is ever invoiced
            t = max(pe - int(erng.random() * (pe - day_start)), paid_at + HOUR)
            if t > pe:
                return None
            self._cancel_now(sub, t, reason)
            self._happened(case, t)
            return t
        if case == "refund_last_period":
            # canceled during the paid period, its charge refunded in full; the invoice stays paid
            charge = self._charge_rec(inv.state["charge"])
            if charge is None or max(u, charge.versions[-1][0] + 60) >= pe - HOUR:
                return None
            t = self._refund_in_full(charge, u)
            self._cancel_now(sub, t, reason)
            self._happened(case, t)
            return t
        # the other two renew first: the renewal must be paid on its own UTC day, before ``end``'s horizon
        if pe % DAY > 20 * HOUR or pe > end_horizon:
            return None
        with self._drawing_from(erng):
            renewal, paid = self._renew_once(sub, sid, pe, next_pe, price, qty, next_pct, pending)
            if case == "cancel_after_renewal_invoice":
                # the renewal invoiced and paid, then canceled the same day (the case found at 100k customers)
                t = min(paid + _uniform(erng, 10 * 60, 3 * HOUR), day_start + DAY - 1)
            else:  # renewal_voided_after_payment: refunded, voided and canceled 1-5 days later
                t = paid + _uniform(erng, DAY, 5 * DAY)
                charge = self._charge_rec(renewal.state["charge"])
                if charge is not None:
                    t = self._refund_in_full(charge, t)
                fin = renewal.state["status_transitions"]["finalized_at"]
                renewal.update(
                    t, status="void", amount_remaining=0, status_transitions=_transitions(fin, paid, None, t)
                )
        self._cancel_now(sub, t, reason)
        self._happened(case, t)
        return t

    def _renewal_day_plan_change(
        self,
        erng: Random,
        sub: Rec,
        sid: str,
        item: dict,
        paid_at: int,
        ps: int,
        pe: int,
        price: dict,
        qty: int,
        pct: float,
        cadence: str,
    ) -> tuple[dict, int, dict] | None:
        """An upgrade or downgrade with proration lines a few hours after the renewal of [ps, pe) was paid,
        on the renewal's UTC day, invoiced at once (``always_invoice``, a downgrade too: its negative total
        goes to the customer's balance). Returns (price, quantity, item), or None when it cannot happen in
        this period (paid on a later day, no other plan)."""
        u = paid_at + _uniform(erng, 10 * 60, 2 * HOUR)
        if to_date(u) != to_date(ps) or u >= pe - DAY:
            return None
        up = erng.random() < 0.7
        new_price, new_qty = _change_plan(erng, price, qty, self.p.currency, cadence, up)
        if new_price is price and new_qty == qty:
            up = not up
            new_price, new_qty = _change_plan(erng, price, qty, self.p.currency, cadence, up)
            if new_price is price and new_qty == qty:
                return None
        credit, debit = self._prorations(u, ps, pe, price, qty, new_price, new_qty, sid, pct)
        item = {**item, "price": new_price, "quantity": new_qty}
        sub.update(u, items=[item], quantity=new_qty)
        with self._drawing_from(erng):
            self.collect(self.new_invoice(u, sid, [credit, debit], "subscription_update"), u, 0.0, None)
        self._happened("plan_change_on_renewal_day", u)
        return new_price, new_qty, item

    # -- purchases ------------------------------------------------------------------------------------------
    def churn_probability(self) -> float:
        """The sBG theta of this person, drawn from Beta(alpha, beta) at its first subscription.

        Nothing that decides who subscribes depends on it, so subscribers' theta is exactly Beta(alpha, beta).
        The person's happiness becomes 1 - F(theta) (F the Beta CDF): still uniform, and now happier
        customers churn less and also score higher in NPS and CSAT and open fewer tickets.
        """
        if self.theta is None:
            alpha, beta = cat.SBG["alpha"], cat.SBG["beta"]
            self.theta = self.rng.betavariate(alpha, beta)
            self.p.happiness = 1.0 - beta_cdf(self.theta, alpha, beta)
        return self.theta

    def one_off(self, paid: int, amount: int) -> None:
        """A one-off purchase of ``amount`` US cents paid at ``paid`` (a purchase time of the BG/NBD process).

        The invoice is created and finalized shortly before; sometimes the first card is declined and the
        buyer pays with another one minutes later, and now and then a mistaken duplicate is voided. Either
        way exactly one paid invoice carries the purchase, on the day it happened.
        """
        rng = self.rng
        failed = rng.random() < cat.PAYMENT_FAILURE[self.p.segment] / 2
        declined = paid - _uniform(rng, 10 * 60, HOUR) if failed else paid
        fin = declined - _uniform(rng, 60, 900)
        created = fin - HOUR
        if rng.random() < 0.02:  # a duplicate issued by mistake and voided the next day
            dup = self.new_invoice(created, None, self._one_off_lines(created, amount), "manual")
            dup.update(fin, status="open", status_transitions=_transitions(fin, None, None, None))
            dup.update(
                fin + DAY,
                status="void",
                amount_remaining=0,
                status_transitions=_transitions(fin, None, None, fin + DAY),
            )
        inv = self.new_invoice(created, None, self._one_off_lines(created, amount), "manual")
        inv.update(fin, status="open", status_transitions=_transitions(fin, None, None, None))
        attempts = 1
        if failed:
            charge = self._charge(declined, inv, ok=False)
            inv.update(declined, attempt_count=1, attempted=True, charge=charge)
            attempts = 2
        self._paid(inv, paid, attempts, sub=None)

    def _one_off_lines(self, ts: int, amount: int) -> list[dict]:
        """One or two invoice items summing to ``amount``, each with its inline one-time price."""
        rng = self.rng
        parts = [amount]
        if amount >= 200 and rng.random() < 0.3:
            first = int(amount * (0.2 + 0.6 * rng.random()))
            parts = [first, amount - first]
        lines = []
        for part in parts:
            product = cat.ONE_OFF_PRODUCT_IDS[int(rng.random() * len(cat.ONE_OFF_PRODUCT_IDS))]
            price = cat.one_off_price(f"price_{self.p.code}{self.n_line + 1:05d}", product, part)
            lines.append(
                self._line(
                    ts,
                    ts,
                    price,
                    1,
                    part,
                    kind="invoiceitem",
                    proration=False,
                    sub_id=None,
                    description=price["nickname"],
                )
            )
        return lines

    def subscribe(
        self, start: int, *, trial: bool, lapse: bool, plan: str | None = None, seats: int | None = None
    ) -> tuple[int | None, str | None]:
        """Run one subscription to its end or the simulation's horizon. Returns (end time, churn kind) or
        (None, None)."""
        ctx, rng, p = self.ctx, self.rng, self.p
        horizon = ctx.layout.sim_horizon
        seg = p.segment
        plan = plan or cat.PLANS_BY_SEGMENT[seg].pick(rng)
        cadence = cat.CADENCE_BY_SEGMENT[seg].pick(rng)
        if p.currency == "jpy" and cadence == "yearly" and seg == "enterprise":
            cadence = "quarterly"  # keeps yen invoices well below the absurd-amount threshold
        price = cat.recurring_price(plan, cadence, p.currency)
        months = cat.CADENCES[cadence][2]
        qty = min(seats or _seats(rng, seg), cat.max_quantity(price))
        cus = self.ensure_customer(start)
        self.n_sub += 1
        sid = f"sub_{p.code}{self.n_sub:02d}"
        # its renewal-day edge case, if any, from an RNG of its own (catalog.RENEWAL_EDGE_CASES)
        erng = Random(f"{ctx.seed}:{p.i}:{self.n_sub}:renewal_edge")
        edge = cat.RENEWAL_EDGE_CASES.pick(erng)
        as_of_instant = epoch(ctx.layout.end)
        if edge == "period_end_at_as_of":
            lead = TRIAL_DAYS * DAY if trial else 0
            snapped = _anchor_ending_at(as_of_instant, start + lead, months)
            if snapped is None:
                edge = None
            else:
                start = snapped - lead
        comp = _comp_periods(Random(f"{ctx.seed}:{p.i}:{self.n_sub}:comp"), months)
        coupon = None
        if rng.random() < (0.35 if p.channel == "partner" else 0.12):
            coupon = cat.COUPONS[1] if p.channel == "partner" else cat.COUPONS[0]
        trial_end = start + TRIAL_DAYS * DAY if trial else None
        anchor = trial_end or start
        discount_end = None
        if coupon is not None and coupon["duration"] == "repeating":
            discount_end = add_months(anchor, coupon["duration_in_months"])
        discount = None
        if coupon is not None:
            discount = {
                "id": f"di_{p.code}",
                "object": "discount",
                "coupon": coupon,
                "start": start,
                "end": discount_end,
                "subscription": sid,
            }
        item = {
            "id": f"si_{p.code}{self.n_sub:02d}",
            "object": "subscription_item",
            "created": start,
            "price": price,
            "quantity": qty,
        }
        sub = Rec(
            "subscriptions",
            start,
            {
                "id": sid,
                "object": "subscription",
                "customer": cus,
                "status": "trialing" if trial else "active",
                "created": start,
                "start_date": start,
                "billing_cycle_anchor": anchor,
                "trial_start": start if trial else None,
                "trial_end": trial_end,
                "cancel_at_period_end": False,
                "cancel_at": None,
                "canceled_at": None,
                "ended_at": None,
                "cancellation_details": _cancellation(None, None),
                "collection_method": "charge_automatically",
                "currency": p.currency,
                "current_period_start": start,
                "current_period_end": trial_end or add_months(anchor, months),
                "discount": discount,
                "items": [item],
                "latest_invoice": None,
                "livemode": False,
                "metadata": {},
                "quantity": qty,
            },
        )
        self.recs.append(sub)
        if trial and lapse:  # no payment method at the end of the trial: Stripe cancels it
            sub.update(trial_end, status="canceled", canceled_at=trial_end, ended_at=trial_end)
            return trial_end, "trial_lapsed"
        fail_p = cat.PAYMENT_FAILURE[seg]
        theta = self.churn_probability()
        pending: list[dict] = []
        n = 0
        paid_from: int | None = None
        involuntary_next = False  # the sBG draw at the end of the last period: churn by failed payment
        while True:
            ps, pe = add_months(anchor, n * months), add_months(anchor, (n + 1) * months)
            if ps > horizon:
                self._span(paid_from, horizon)
                return None, None
            # a period that ends exactly at the as-of instant, whichever subscription it is
            if pe == as_of_instant:
                self._happened("period_end_at_as_of", pe)
            pct = 0.0
            if discount is not None:
                if discount_end is not None and ps >= discount_end:
                    discount = None
                else:
                    pct = coupon["percent_off"] / 100
            regular_pct = pct
            period_discount = discount
            if comp is not None and _comped(comp, n):
                # 100% off instead of any other coupon: a $0 line, "paid" with nothing due and no charge
                pct = 1.0
                period_discount = {
                    "id": f"di_{p.code}",
                    "object": "discount",
                    "coupon": cat.COMP_COUPON,
                    "start": add_months(anchor, comp[0] * months),
                    "end": None if comp[1] is None else add_months(anchor, comp[1] * months),
                    "subscription": sid,
                }
            line = self._period_line(ps, pe, price, qty, pct, sid)
            inv = self.new_invoice(
                ps,
                sid,
                [line, *pending],
                "subscription_create" if n == 0 and not trial else "subscription_cycle",
            )
            pending = []
            if n > 0 or trial:
                sub.update(
                    ps,
                    status="active",
                    current_period_start=ps,
                    current_period_end=pe,
                    discount=period_discount,
                    latest_invoice=inv.state["id"],
                )
            else:
                sub.update(ps, latest_invoice=inv.state["id"])
            if involuntary_next:  # every retry fails: the period is never paid
                paid_at = self.collect(inv, ps, 1.0, sub, recovery=0.0)
            else:  # a renewal (n > 0) that fails at first is always recovered by dunning
                paid_at = self.collect(inv, ps, fail_p, sub, recovery=cat.DUNNING_RECOVERY if n == 0 else 1.0)
            if paid_at is None:
                end = self._involuntary(sub)
                self._span(paid_from, end)
                return end, "involuntary"
            if paid_from is None:
                paid_from = ps
            if edge == "plan_change_on_renewal_day" and n > 0:
                changed = self._renewal_day_plan_change(
                    erng, sub, sid, item, paid_at, ps, pe, price, qty, pct, cadence
                )
                if changed is not None:
                    price, qty, item = changed
                    edge = None
            # The sBG renewal decision at the end of this paid period: churn with probability theta; its type
            # (a cancellation during the period, or a renewal payment that fails for good) is drawn apart.
            churn = rng.random() < theta
            voluntary = churn and rng.random() >= cat.INVOLUNTARY_SHARE
            involuntary_next = churn and not voluntary
            free_from = paid_at + DAY
            u = _uniform(rng, free_from, max(free_from + HOUR, pe - DAY))
            if voluntary:
                reason = _cancellation("cancellation_requested", cat.CANCEL_FEEDBACK.pick(rng))
                end = None
                if edge in CHURN_EDGE_CASES:
                    next_pe = add_months(anchor, (n + 2) * months)
                    next_pct = (
                        regular_pct
                        if discount is not None and (discount_end is None or pe < discount_end)
                        else 0.0
                    )
                    if _comped(comp, n + 1):
                        next_pct = 1.0
                    end = self._edge_churn(
                        edge,
                        erng,
                        sub,
                        sid,
                        inv,
                        paid_at,
                        u,
                        ps,
                        pe,
                        next_pe,
                        price,
                        qty,
                        next_pct,
                        pending,
                        reason,
                    )
                if end is None:
                    sub.update(
                        u, cancel_at_period_end=True, cancel_at=pe, canceled_at=u, cancellation_details=reason
                    )
                    sub.update(pe, status="canceled", ended_at=pe)
                    end = pe
                self._span(paid_from, end)
                return end, "voluntary"
            if u < pe - DAY:
                r = rng.random()
                p_up = 1 - (1 - cat.UPGRADE_HAZARD) ** months
                p_down = 1 - (1 - cat.DOWNGRADE_HAZARD) ** months
                if r < p_up + p_down:
                    up = r < p_up
                    new_price, new_qty = _change_plan(rng, price, qty, p.currency, cadence, up)
                    if new_price is not price or new_qty != qty:
                        credit, debit = self._prorations(u, ps, pe, price, qty, new_price, new_qty, sid, pct)
                        price, qty = new_price, new_qty
                        item = {**item, "price": price, "quantity": qty}
                        sub.update(u, items=[item], quantity=qty)
                        if up:  # always_invoice: billed now
                            inv = self.new_invoice(u, sid, [credit, debit], "subscription_update")
                            self.collect(inv, u, 0.0, None)
                        else:  # create_prorations: waits for the next renewal invoice
                            pending = [credit, debit]
            n += 1

    def _prorations(
        self, u: int, ps: int, pe: int, old: dict, old_qty: int, new: dict, new_qty: int, sid: str, pct: float
    ) -> tuple[dict, dict]:
        frac = (pe - u) / (pe - ps)
        credit = round(old["unit_amount"] * old_qty * frac * (1 - pct))
        debit = round(new["unit_amount"] * new_qty * frac * (1 - pct))
        return (
            self._line(
                u,
                pe,
                old,
                old_qty,
                -credit,
                kind="invoiceitem",
                proration=True,
                sub_id=sid,
                description=f"Unused time on {old_qty} × {old['nickname']}",
            ),
            self._line(
                u,
                pe,
                new,
                new_qty,
                debit,
                kind="invoiceitem",
                proration=True,
                sub_id=sid,
                description=f"Remaining time on {new_qty} × {new['nickname']}",
            ),
        )

    def _involuntary(self, sub: Rec) -> int:
        t = self.final_fail_at
        reason = _cancellation("payment_failed", None)
        if self.rng.random() < 0.7:
            sub.update(t, status="canceled", canceled_at=t, ended_at=t, cancellation_details=reason)
            return t
        # Stripe "mark as unpaid" setting: the subscription stays unpaid, and half the time someone
        # cancels it by hand weeks later.
        sub.update(t, status="unpaid")
        if self.rng.random() < 0.5:
            t2 = t + _uniform(self.rng, 20 * DAY, 40 * DAY)
            sub.update(t2, status="canceled", canceled_at=t2, ended_at=t2, cancellation_details=reason)
        return t

    def _span(self, start: int | None, end: int) -> None:
        if start is not None:
            self.active_spans.append((start, min(end, self.ctx.layout.sim_horizon)))


def _comp_periods(crng: Random, months: int) -> tuple[int, int | None] | None:
    """Whether a subscription is comped (100% off, catalog.COMP_*), drawn from its own RNG so that no other
    draw changes: None, or the periods [first, end) it is comped for (period n = the n-th paid period from the
    billing anchor; end None = forever). The first comped period starts at least COMP_AFTER_MONTHS[0] months
    after the subscription started paying (and never before its second period)."""
    if crng.random() >= cat.COMP_RATE:
        return None
    after = crng.randint(*cat.COMP_AFTER_MONTHS)
    first = max(1, math.ceil(after / months))
    if crng.random() < cat.COMP_FOREVER_SHARE:
        return first, None
    return first, first + max(1, math.ceil(crng.randint(*cat.COMP_MONTHS) / months))


def _comped(comp: tuple[int, int | None] | None, n: int) -> bool:
    """Period n is inside the comped periods."""
    return comp is not None and comp[0] <= n and (comp[1] is None or n < comp[1])


def _anchor_ending_at(instant: int, earliest: int, months: int, max_shift: int = 62 * DAY) -> int | None:
    """The earliest billing anchor at or after ``earliest`` (and at most ``max_shift`` later) from which whole
    periods of ``months`` end exactly at ``instant`` (a midnight: the anchor is one too), or None.

    Stripe anchors clamp to the month's end (Jan 31 + 1 month = Feb 29) but keep the anchor's day, so only
    anchors whose k-th period end is ``instant`` itself qualify: walk back one period at a time.
    """
    found = None
    k = 1
    while True:
        anchor = add_months(instant, -k * months)
        if anchor < earliest:
            break
        if add_months(anchor, k * months) == instant:
            found = anchor
        k += 1
    if found is None or found - earliest > max_shift:
        return None
    return found


def _seats(rng: Random, segment: str) -> int:
    lo, hi = cat.SEATS_BY_SEGMENT[segment]
    return lo + int((rng.random() ** 2) * (hi - lo + 1))  # skewed towards small teams


def _change_plan(
    rng: Random, price: dict, qty: int, currency: str, cadence: str, up: bool
) -> tuple[dict, int]:
    plan = price["id"].split("_")[1]
    idx = cat.PLAN_ORDER.index(plan)
    if rng.random() < 0.5 and (idx < 3 if up else idx > 0):
        new = cat.recurring_price(cat.PLAN_ORDER[idx + (1 if up else -1)], cadence, currency)
        if not up and new["unit_amount"] * 2 < price["unit_amount"]:
            return price, qty  # keep next invoices positive: never more than halve
        return new, min(qty, cat.max_quantity(new))
    if up:
        return price, min(qty + 1 + int(qty * rng.random()), cat.max_quantity(price))
    return price, max(1, qty - max(1, int(qty * 0.4 * rng.random())), (qty + 1) // 2)


def _transitions(
    finalized: int | None, paid: int | None, uncollectible: int | None, voided: int | None
) -> dict:
    return {
        "finalized_at": finalized,
        "paid_at": paid,
        "marked_uncollectible_at": uncollectible,
        "voided_at": voided,
    }


def _cancellation(reason: str | None, feedback: str | None) -> dict:
    return {"comment": None, "feedback": feedback, "reason": reason}


# -- one customer across CRM, billing and support ------------------------------------------------------------
def simulate_customer(ctx: Context, i: int, edge_cases: Counter[str] | None = None) -> list[Rec]:
    """Every record customer ``i`` produces, with its versions (CRM first, then billing, then support).

    ``edge_cases``, when given, counts the renewal-day edge cases that happened before the horizon.
    The life is simulated to ``layout.sim_horizon``, never to the cut ``layout.horizon``: the records (and
    every RNG draw) do not depend on how many days are appended after ``end``.
    """
    rng = Random(f"{ctx.seed}:{i}")
    billing_only = rng.random() < BILLING_ONLY_RATE  # must stay the first draw: see is_billing_only
    signup = ctx.signup_ts(i, rng.random())
    p = make_person(ctx, i, rng, billing_only, signup)
    horizon = ctx.layout.sim_horizon
    b = Billing(ctx, rng, p)
    journey = (cat.BILLING_ONLY_JOURNEYS if billing_only else cat.JOURNEYS[p.segment]).pick(rng)
    deals: list[Rec] = []
    lead_touch = signup  # when the person last talked to us before buying (for pre-sales tickets)
    if journey == "sales":
        plan = cat.PLANS_BY_SEGMENT[p.segment].pick(rng)
        # Same cap as the subscription will apply, so the deal amount stays below the absurd threshold.
        seats = min(_seats(rng, p.segment), cat.max_quantity(cat.recurring_price(plan, "yearly", p.currency)))
        created = signup + _uniform(rng, HOUR, 20 * DAY)
        close = created + _uniform(rng, 14 * DAY, 120 * DAY)
        won = rng.random() < 0.5
        acv = cat.PLAN_MONTHLY[plan][p.currency] * seats * 12
        deals.append(_deal(p, 1, created, close, won, acv))
        lead_touch = close
        if won:
            _subscriptions(b, close, trial=False, lapse=False, plan=plan, seats=seats)
    elif journey == "trial":
        start = signup + _uniform(rng, 600, 5 * DAY)
        converts = rng.random() < cat.TRIAL_CONVERSION
        _subscriptions(b, start, trial=True, lapse=not converts)
        lead_touch = start
    elif journey == "direct":
        _subscriptions(b, signup + _uniform(rng, 600, 45 * DAY), trial=False, lapse=False)
    elif journey == "oneoff":
        p.currency = cat.ONE_OFF_CURRENCY
        _purchases(b, signup + _uniform(rng, 3 * HOUR, 60 * DAY), span=True)
    elif p.segment != "smb" and rng.random() < 0.5:  # a lead that got a deal, lost or still open
        created = signup + _uniform(rng, DAY, 30 * DAY)
        acv = cat.PLAN_MONTHLY["pro"][p.currency] * 10 * 12
        deals.append(_deal(p, 1, created, created + _uniform(rng, 20 * DAY, 150 * DAY), False, acv))
    if journey != "oneoff" and b.active_spans and rng.random() < cat.ADDON_RATE:
        # Add-ons: a subscriber's first one-off purchase falls while it pays; the BG/NBD process goes on
        # from there, whatever becomes of the subscription. Sold in USD only.
        s, e = b.active_spans[0]
        t = s + _uniform(rng, 30 * DAY, 400 * DAY)
        if t < e and p.currency == cat.ONE_OFF_CURRENCY:
            _purchases(b, t, span=False)
    recs: list[Rec] = []
    if p.contact_id is not None:
        recs.append(_contact(p, rng, b, journey, horizon))
    recs.extend(deals)
    recs.extend(_nps(p, rng, b))
    if b.customer is not None:
        recs.append(b.customer)
    recs.extend(b.recs)
    recs.extend(_tickets(p, rng, b, lead_touch))
    if edge_cases is not None:
        edge_cases.update(b.edge_cases)
    return recs


def _subscriptions(
    b: Billing, start: int, *, trial: bool, lapse: bool, plan: str | None = None, seats: int | None = None
) -> None:
    """A subscription and, after churn, possibly a reactivation (a new subscription months later)."""
    end, kind = b.subscribe(start, trial=trial, lapse=lapse, plan=plan, seats=seats)
    for _ in range(2):
        if end is None or kind == "trial_lapsed":
            return
        b.churns.append((end, kind))
        if b.rng.random() >= cat.REACTIVATION:
            return
        start = end + _uniform(b.rng, 30 * DAY, 400 * DAY)
        if start > b.ctx.layout.sim_horizon:
            return
        end, kind = b.subscribe(start, trial=False, lapse=False)


def _purchases(b: Billing, first: int, *, span: bool) -> None:
    """One-off purchases by BG/NBD with Gamma-Gamma spend (catalog.BG_NBD, catalog.GAMMA_GAMMA).

    The first purchase at ``first``; then purchases at Poisson(lambda per day) times, dropping out with
    probability p after each repeat purchase, observed until the simulation's horizon. Each transaction is
    worth z ~ Gamma(p, rate nu) USD. lambda, p and nu are drawn once for the customer, apart from everything
    else.

    The warehouse counts purchase days (same-day purchases are one transaction), so a purchase that falls
    on the day of the previous one is paid the next day instead: every purchase of the process stays one
    transaction, at most a day late, which keeps the day-level summary true to the continuous-time model
    (merging them would bias lambda's estimates by a few percent).
    """
    rng, horizon = b.rng, b.ctx.layout.sim_horizon
    if first > horizon:
        return
    bg, gg = cat.BG_NBD, cat.GAMMA_GAMMA
    rate = rng.gammavariate(bg["r"], 1.0 / bg["alpha"]) / DAY  # per second
    p_drop = rng.betavariate(bg["a"], bg["b"])
    nu = rng.gammavariate(gg["q"], 1.0 / gg["gamma"])
    clock = paid = first  # the model's time, and when the latest purchase was paid
    while True:
        b.one_off(paid, max(1, round(rng.gammavariate(gg["p"], 1.0 / nu) * 100)))
        if paid != first and rng.random() < p_drop:
            break
        if rate <= 0.0:
            break
        clock += max(1, int(rng.expovariate(rate)))
        next_day = (paid // DAY + 1) * DAY
        at = clock if clock >= next_day else next_day + clock % DAY
        if at > horizon:
            break
        paid = at
    if span:
        b.active_spans.append((first, paid))


def _contact(p: Person, rng: Random, b: Billing, journey: str, horizon: int) -> Rec:
    rec = Rec(
        "contacts",
        p.signup,
        {
            "contact_id": p.contact_id,
            "email": p.email,
            "first_name": p.first,
            "last_name": p.last,
            "company": p.company,
            "country": p.country,
            "segment": p.segment,
            "acquisition_channel": p.channel,
            "referred_by_contact_id": p.referrer,
            "created_at": p.signup,
            "updated_at": p.signup,
            "is_deleted": False,
            "lifecycle_stage": "lead",
            "_tz": p.tz,
        },
    )
    changes: list[tuple[int, dict]] = []
    if b.first_paid_at is not None:
        changes.append((b.first_paid_at + _uniform(rng, 60, 2 * HOUR), {"lifecycle_stage": "customer"}))
    for end, _ in b.churns:
        changes.append((end + _uniform(rng, HOUR, 3 * DAY), {"lifecycle_stage": "former_customer"}))
    if rng.random() < 0.3:  # a profile edit: new company name after a rebrand or a job change
        suffix = cat.COMPANY_SUFFIXES[int(rng.random() * len(cat.COMPANY_SUFFIXES))]
        changes.append(
            (p.signup + _uniform(rng, DAY, 500 * DAY), {"company": f"{p.company.split()[0]} {suffix}"})
        )
    if journey == "lead" and rng.random() < 0.03:  # erasure request: the CRM keeps a tombstone
        changes.append((p.signup + _uniform(rng, 30 * DAY, 600 * DAY), {"is_deleted": True}))
    changes.sort(key=itemgetter(0))
    for ts, change in changes:
        if ts > horizon:
            break
        rec.update(ts, updated_at=ts, **change)
    return rec


def _deal(p: Person, n: int, created: int, close: int, won: bool, acv_minor: int) -> Rec:
    per_major = cat.MINOR_PER_MAJOR[p.currency]
    amount = f"{acv_minor // per_major}" if per_major == 1 else f"{acv_minor / per_major:.2f}"
    rec = Rec(
        "deals",
        created,
        {
            "deal_id": f"D{p.contact_id}-{n}",
            "contact_id": p.contact_id,
            "deal_name": f"{p.company} - new business",
            "pipeline": "default",
            "deal_stage": "open",
            "amount": amount,
            "currency": p.currency.upper(),  # CRMs use upper-case ISO codes
            "created_at": created,
            "closed_at": None,
            "_tz": p.tz,
        },
    )
    rec.update(close, deal_stage="won" if won else "lost", closed_at=close)
    return rec


def _nps(p: Person, rng: Random, b: Billing) -> list[Rec]:
    """Surveys every ~6 months while paying; about 40% answer, happier customers score higher."""
    out: list[Rec] = []
    if p.contact_id is None:
        return out
    for s, e in b.active_spans:
        t = s + _uniform(rng, 20 * DAY, 60 * DAY)
        while t < e:
            if rng.random() < 0.4:
                score = int(round(2 + 8.5 * p.happiness + (rng.random() - 0.5) * 4))
                ts = t + _uniform(rng, HOUR, 5 * DAY)
                rid = f"nps-{p.contact_id}-{len(out) + 1}"
                out.append(
                    Rec(
                        "nps_responses",
                        ts,
                        {
                            "response_id": rid,
                            "contact_id": p.contact_id,
                            "score": min(10, max(0, score)),
                            "responded_at": ts,
                            "survey": "relationship",
                            "_tz": p.tz,
                        },
                    )
                )
            t += _uniform(rng, 150 * DAY, 210 * DAY)
    return out


def _tickets(p: Person, rng: Random, b: Billing, lead_touch: int) -> list[Rec]:
    times: list[int] = []
    if rng.random() < 0.12:  # a pre-sales question
        times.append(lead_touch + _uniform(rng, HOUR, 10 * DAY))
    rate = {"smb": 0.2, "mid_market": 0.4, "enterprise": 0.8}[p.segment] * (1.5 - p.happiness) / (30 * DAY)
    for s, e in b.active_spans:
        t = s
        while True:
            t += int(-math.log(1.0 - rng.random()) / rate) + HOUR
            if t >= e:
                break
            times.append(t)
    email = b.customer.state["email"] if p.contact_id is None and b.customer else p.email
    return [_ticket(p, rng, k, ts, email) for k, ts in enumerate(times[:99])]


def _ticket(p: Person, rng: Random, k: int, ts: int, email: str) -> Rec:
    priority = cat.TICKET_PRIORITY.pick(rng)
    requester = email if rng.random() < 0.7 else _email_variant(email, rng, must_differ=False)
    rec = Rec(
        "tickets",
        ts,
        {
            "ticket_id": str((p.i + 1) * 100 + k),
            "requester_email": requester,
            "subject": cat.TICKET_SUBJECTS[int(rng.random() * len(cat.TICKET_SUBJECTS))],
            "type": cat.TICKET_TYPES.pick(rng),
            "created_at": ts,
            "updated_at": ts,
            "first_reply_at": None,
            "solved_at": None,
            "status": "new",
            "priority": priority,
            "channel": cat.TICKET_CHANNEL.pick(rng),
            "satisfaction_rating": "unoffered",
            "reopens": 0,
        },
    )
    scale = 0.25 if priority in ("high", "urgent") else 1.0
    t = ts + _uniform(rng, 10 * 60, scale * 30 * HOUR)
    rec.update(t, status="open", first_reply_at=t, updated_at=t)
    if rng.random() < 0.3:
        t += _uniform(rng, HOUR, 6 * HOUR)
        rec.update(t, status="pending", updated_at=t)
    for reopen in range(3):
        t += _uniform(rng, HOUR, scale * 5 * DAY)
        rec.update(t, status="solved", solved_at=t, updated_at=t, satisfaction_rating="offered")
        if rng.random() < 0.55:  # the customer answers the CSAT survey
            t += _uniform(rng, 10 * 60, 2 * DAY)
            good = rng.random() < 0.3 + 0.65 * p.happiness
            rec.update(t, satisfaction_rating="good" if good else "bad", updated_at=t)
        if reopen == 2 or rng.random() >= 0.12:
            break
        t += _uniform(rng, HOUR, 3 * DAY)
        rec.update(t, status="open", solved_at=None, reopens=reopen + 1, updated_at=t)
    t += 4 * DAY  # Zendesk closes solved tickets after four days
    rec.update(t, status="closed", updated_at=t)
    return rec
