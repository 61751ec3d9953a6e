"""Reference data of the synthetic business: plans, prices, markets, channels and names.

Everything here is a constant, so a generated tree depends only on (customers, seed, start, end).
"""

from __future__ import annotations

from bisect import bisect
from itertools import accumulate
from random import Random

DAY = 86_400
HOUR = 3_600

# Stripe zero-decimal currencies carry whole units; the others carry cents.
MINOR_PER_MAJOR = {"usd": 100, "eur": 100, "gbp": 100, "jpy": 1}

# Per-seat monthly list prices in MINOR units (JPY: whole yen, so 5800 means 5,800 yen).
PLAN_MONTHLY: dict[str, dict[str, int]] = {
    "starter": {"usd": 1500, "eur": 1400, "gbp": 1200, "jpy": 2200},
    "growth": {"usd": 3900, "eur": 3600, "gbp": 3200, "jpy": 5800},
    "pro": {"usd": 8900, "eur": 8200, "gbp": 7200, "jpy": 13000},
    "enterprise": {"usd": 14900, "eur": 13900, "gbp": 11900, "jpy": 22000},
}
PLAN_ORDER = ("starter", "growth", "pro", "enterprise")
PLAN_NAMES = {"starter": "Starter", "growth": "Growth", "pro": "Pro", "enterprise": "Enterprise"}

# Billing cadences: (Stripe interval, interval_count, months per period, price factor vs. monthly x months).
CADENCES: dict[str, tuple[str, int, int, float]] = {
    "monthly": ("month", 1, 1, 1.0),
    "quarterly": ("month", 3, 3, 0.95),  # Stripe has no "quarter": month x 3
    "yearly": ("year", 1, 12, 10 / 12),  # two months free
}

# One-off products (invoice items, no recurring price). Each purchase is billed at its own amount (Stripe's
# inline ``price_data``: a one-time price per invoice item), drawn from the Gamma-Gamma spend model below.
ONE_OFF_PRODUCTS: dict[str, str] = {
    "onboarding": "Onboarding package",
    "training": "Training session",
    "credits_pack": "Usage credits",
    "data_export": "Data export",
    "consulting": "Consulting hours",
}
ONE_OFF_PRODUCT_IDS = tuple(ONE_OFF_PRODUCTS)
# One-off products are sold in US dollars (the reporting currency), so spend carries no FX noise.
ONE_OFF_CURRENCY = "usd"

# Ground truth of the CLV models (clm.clv) that the synthetic behaviour follows; written to the manifest.
# sBG (Fader & Hardie 2007): each subscribing customer draws theta ~ Beta(alpha, beta) once and, at the end of
# every paid billing period (a month, a quarter or a year, whatever the plan's cadence), churns with
# probability theta. The time unit is the billing period.
SBG = {"alpha": 1.2, "beta": 6.0}
# BG/NBD (Fader, Hardie & Lee 2005), time in days: lambda ~ Gamma(shape r, rate alpha) per day, dropout
# p ~ Beta(a, b) after each repeat purchase. r / alpha = one purchase per 120 days on average.
BG_NBD = {"r": 0.5, "alpha": 60.0, "a": 0.8, "b": 4.0}
# Gamma-Gamma, USD per transaction: nu ~ Gamma(shape q, rate gamma), z ~ Gamma(shape p, rate nu);
# mean spend p * gamma / (q - 1) = 800 USD.
GAMMA_GAMMA = {"p": 6.0, "q": 4.0, "gamma": 400.0}
# The type of an sBG churn is drawn apart from its timing: this share fails its renewal payment for good.
INVOLUNTARY_SHARE = 0.3
TRIAL_CONVERSION = 0.55  # independent of everything else, so trial converters are a random draw of theta
ADDON_RATE = 0.3  # USD subscribers who start buying one-off add-ons while subscribed

# Keep every invoice far below the "absurd amount" threshold (10M major units) even in yen.
MAX_PERIOD_MAJOR = 5_000_000

_price_cache: dict[tuple[str, str, str], dict] = {}


def recurring_price(plan: str, cadence: str, currency: str) -> dict:
    """The Stripe price object of a plan; shared (read-only) by every record that references it."""
    key = (plan, cadence, currency)
    price = _price_cache.get(key)
    if price is None:
        interval, count, months, factor = CADENCES[cadence]
        unit = round(PLAN_MONTHLY[plan][currency] * months * factor)
        price = {
            "id": f"price_{plan}_{cadence}_{currency}",
            "object": "price",
            "active": True,
            "currency": currency,
            "nickname": f"{PLAN_NAMES[plan]} {cadence}",
            "product": f"prod_{plan}",
            "recurring": {"interval": interval, "interval_count": count, "usage_type": "licensed"},
            "type": "recurring",
            "unit_amount": unit,
        }
        _price_cache[key] = price
    return price


def one_off_price(price_id: str, product: str, amount: int) -> dict:
    """An inline one-time price (Stripe ``price_data``) for one invoice item of ``amount`` minor units."""
    return {
        "id": price_id,
        "object": "price",
        "active": False,
        "currency": ONE_OFF_CURRENCY,
        "nickname": ONE_OFF_PRODUCTS[product],
        "product": f"prod_{product}",
        "recurring": None,
        "type": "one_time",
        "unit_amount": amount,
    }


def max_quantity(price: dict) -> int:
    per_major = MINOR_PER_MAJOR[price["currency"]]
    return max(1, MAX_PERIOD_MAJOR * per_major // price["unit_amount"])


class Weighted:
    """A fixed weighted choice; bisect on cumulative weights is much cheaper than Random.choices."""

    __slots__ = ("values", "cum", "total")

    def __init__(self, pairs: tuple[tuple[object, float], ...]) -> None:
        self.values = tuple(v for v, _ in pairs)
        self.cum = tuple(accumulate(w for _, w in pairs))
        self.total = self.cum[-1]

    def pick(self, rng: Random):
        return self.values[bisect(self.cum, rng.random() * self.total)]


# Countries: (alpha-2, billing currency, CRM export offsets seen for contacts there).
COUNTRIES = Weighted(
    (
        ("US", 40),
        ("GB", 12),
        ("DE", 10),
        ("JP", 9),
        ("FR", 7),
        ("CA", 6),
        ("NL", 5),
        ("AU", 5),
        ("ES", 4),
        ("IE", 2),
    )
)
# fmt: off
CURRENCY_BY_COUNTRY = {
    "US": "usd", "CA": "usd", "AU": "usd", "GB": "gbp", "JP": "jpy",
    "DE": "eur", "FR": "eur", "NL": "eur", "ES": "eur", "IE": "eur",
}
# Offsets in minutes. Many CRM integrations export in UTC, so UTC is common everywhere.
OFFSETS_BY_COUNTRY = {
    "US": (0, -300, -480), "CA": (0, -300), "AU": (0, 600), "GB": (0, 60), "JP": (0, 540),
    "DE": (0, 60), "FR": (0, 60), "NL": (0, 60), "ES": (0, 60), "IE": (0, 60),
}
# fmt: on

CHANNELS = Weighted(
    (
        ("organic", 28),
        ("paid_search", 22),
        ("paid_social", 15),
        ("referral", 10),
        ("partner", 9),
        ("outbound", 16),
    )
)
# Paid channels get a marketing_spend row every day: (share of signups, target cost per paying customer USD).
PAID_CHANNELS: dict[str, tuple[float, float]] = {
    "paid_search": (0.22, 320.0),
    "paid_social": (0.15, 240.0),
    "partner": (0.09, 450.0),
    "outbound": (0.16, 1900.0),
}

SEGMENT_BY_CHANNEL = {
    "outbound": Weighted((("smb", 15), ("mid_market", 45), ("enterprise", 40))),
    "partner": Weighted((("smb", 45), ("mid_market", 40), ("enterprise", 15))),
}
SEGMENT_DEFAULT = Weighted((("smb", 76), ("mid_market", 19), ("enterprise", 5)))

# Journeys: lead (never buys), trial (converts or lapses), direct (buys self-serve),
# sales (CRM deal won or lost), oneoff (buys one-off products only, repeatedly).
JOURNEYS = {
    "smb": Weighted((("lead", 25), ("trial", 34), ("direct", 15), ("oneoff", 22), ("sales", 4))),
    "mid_market": Weighted((("lead", 24), ("trial", 24), ("direct", 8), ("oneoff", 12), ("sales", 32))),
    "enterprise": Weighted((("lead", 26), ("trial", 6), ("sales", 68))),
}
BILLING_ONLY_JOURNEYS = Weighted((("direct", 60), ("oneoff", 40)))

PLANS_BY_SEGMENT = {
    "smb": Weighted((("starter", 60), ("growth", 40))),
    "mid_market": Weighted((("growth", 50), ("pro", 50))),
    "enterprise": Weighted((("pro", 40), ("enterprise", 60))),
}
CADENCE_BY_SEGMENT = {
    "smb": Weighted((("monthly", 75), ("quarterly", 8), ("yearly", 17))),
    "mid_market": Weighted((("monthly", 50), ("quarterly", 15), ("yearly", 35))),
    "enterprise": Weighted((("monthly", 10), ("quarterly", 10), ("yearly", 80))),
}
SEATS_BY_SEGMENT = {"smb": (1, 5), "mid_market": (5, 40), "enterprise": (25, 300)}

# Per-invoice chance that the first charge fails, by segment. Dunning recovers every renewal payment that is
# not an involuntary churn (the churn itself is decided by the sBG draw); a FIRST invoice that dunning does
# not recover means the customer never paid, before the sBG process starts.
PAYMENT_FAILURE = {"smb": 0.09, "mid_market": 0.06, "enterprise": 0.03}
DUNNING_RECOVERY = 0.6
# Monthly hazards of plan changes while a subscription runs.
UPGRADE_HAZARD = 0.03
DOWNGRADE_HAZARD = 0.012
REACTIVATION = 0.18
DUNNING_RETRY_DAYS = (3, 7, 14, 21)  # Stripe custom retry schedule: four retries within three weeks

# Renewal-day edge cases (issue 13): timings around a renewal that real billing data holds and that MRR and
# the lifecycle must read alike. A subscription draws at most one, with these weights, from an RNG of its own
# (never the customer's main one, so the rest of what a seed produces stays as it was). A case shows only when
# the moment it needs comes before the horizon (a voluntary churn for the four cancellation cases, a renewal
# paid on its own day for the plan change, a live subscription at the end for the as-of instant), so the
# share of subscriptions that show each case is a fraction of its weight: about 0.2-1% each (the manifest
# counts them under renewal_edge_cases).
#   cancel_before_renewal_invoice  canceled on the renewal day, before the renewal invoice: no renewal
#   cancel_after_renewal_invoice   the renewal is invoiced and paid, then canceled the same day (no refund)
#   renewal_voided_after_payment   the renewal is paid, then 1-5 days later refunded, voided and canceled
#   refund_last_period             canceled during a paid period with its charge refunded in full
#   plan_change_on_renewal_day     an upgrade or downgrade, with proration lines, hours after a paid renewal
#   period_end_at_as_of            anchored at midnight UTC so that a period ends exactly at ``end`` 00:00:00
RENEWAL_EDGE_CASES = Weighted(
    (
        (None, 0.893),
        ("cancel_before_renewal_invoice", 0.018),
        ("cancel_after_renewal_invoice", 0.018),
        ("renewal_voided_after_payment", 0.018),
        ("refund_last_period", 0.018),
        ("plan_change_on_renewal_day", 0.01),
        ("period_end_at_as_of", 0.025),
    )
)
RENEWAL_EDGE_CASE_NAMES = tuple(v for v in RENEWAL_EDGE_CASES.values if v is not None)

FAILURE_CODES = Weighted(
    (
        (("card_declined", "Your card was declined."), 50),
        (("insufficient_funds", "Your card has insufficient funds."), 30),
        (("expired_card", "Your card has expired."), 12),
        (("processing_error", "An error occurred while processing your card."), 8),
    )
)
CANCEL_FEEDBACK = Weighted(
    (
        ("too_expensive", 30),
        ("missing_features", 20),
        ("switched_service", 18),
        ("unused", 22),
        ("other", 10),
    )
)
COUPONS = (
    {
        "id": "WELCOME20",
        "object": "coupon",
        "percent_off": 20.0,
        "duration": "repeating",
        "duration_in_months": 3,
    },
    {
        "id": "PARTNER10",
        "object": "coupon",
        "percent_off": 10.0,
        "duration": "forever",
        "duration_in_months": None,
    },
)
# "Comped" accounts: a paying subscription given 100% off some months after it started paying, for a few
# months or forever (revenue policy revenue_free_subscriptions decides whether it stays an active customer).
# COMP_RATE: the share of subscriptions comped; its months: first comped after COMP_AFTER_MONTHS of paying
# (uniform), then forever with COMP_FOREVER_SHARE, else for COMP_MONTHS months (uniform).
COMP_COUPON = {
    "id": "COMPED100",
    "object": "coupon",
    "percent_off": 100.0,
    "duration": "forever",
    "duration_in_months": None,
}
COMP_RATE = 0.005
COMP_AFTER_MONTHS = (2, 9)
COMP_FOREVER_SHARE = 0.35
COMP_MONTHS = (1, 6)

TICKET_PRIORITY = Weighted((("low", 25), ("normal", 55), ("high", 15), ("urgent", 5)))
TICKET_CHANNEL = Weighted((("email", 45), ("web", 30), ("chat", 18), ("api", 4), ("voice", 3)))
TICKET_SUBJECTS = (
    "Cannot log in",
    "Invoice question",
    "How do I add a seat?",
    "Export is slow",
    "Feature request: SSO",
    "Card was charged twice",
    "Integration error",
    "Change billing email",
    "Data import failed",
    "Question about pricing",
)
TICKET_TYPES = Weighted((("question", 50), ("incident", 25), ("problem", 15), ("task", 10)))

# fmt: off
FIRST_NAMES = (
    "James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David", "Elizabeth",
    "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah", "Charles", "Karen",
    "Oliver", "Amelia", "Harry", "Isla", "Lukas", "Emma", "Noah", "Mia", "Hugo", "Lea", "Sofia", "Mateo",
    "Haruto", "Yui", "Sota", "Hina", "Daan", "Julia", "Liam", "Chloe",
)
LAST_NAMES = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Martin", "Wilson",
    "Taylor", "Clark", "Lewis", "Walker", "Hall", "Young", "King", "Wright", "Scott", "Green",
    "Muller", "Schmidt", "Schneider", "Fischer", "Dubois", "Bernard", "Moreau", "Laurent", "Sato", "Suzuki",
    "Takahashi", "Tanaka", "de Jong", "Jansen", "Murphy", "Kelly", "Lopez", "Martinez", "Evans", "Thomas",
)
COMPANY_WORDS = (
    "Acme", "Globex", "Initech", "Umbrella", "Stark", "Wayne", "Hooli", "Vandelay", "Soylent", "Tyrell",
    "Cyberdyne", "Wonka", "Aperture", "Massive", "Blue Sun", "Oscorp", "Gringotts", "Monarch", "Nakatomi",
    "Pied Piper", "Dunder", "Prestige", "Sterling", "Bluth", "Kaiju", "Nimbus", "Quantum", "Vertex",
)
COMPANY_SUFFIXES = ("Inc", "LLC", "Ltd", "GmbH", "SAS", "BV", "KK", "Labs", "Group", "Systems")
FREE_MAIL = ("gmail.com", "outlook.com", "yahoo.com", "proton.me")
# fmt: on
