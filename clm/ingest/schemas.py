"""What each landed entity must contain (docs/landing-zone.md#entities) and the raw tables it lands in.

This module is the interface between ingestion and dbt staging:

* every entity lands in ``raw.<source>__<entity>`` with one VARCHAR column per field below, holding the
  value as landed (JSON scalars as their text, e.g. ``true``, ``1700000000``), plus the audit columns
  ``AUDIT_COLUMNS``; nested paths are flattened with ``__`` (``metadata.crm_contact_id`` ->
  ``metadata__crm_contact_id``);
* array fields (``items[]``, ``lines[]``) land in child tables ``raw.billing__subscription_items`` and
  ``raw.billing__invoice_lines``, one row per element, carrying the parent key, the element index and the
  parent row's audit columns, so staging can keep the children of the parent's latest version;
* ingestion validates every value against ``kind`` before loading, so staging casts never fail; a record
  with any bad value (its children included) goes to quarantine whole;
* it also checks the faults that one record shows by itself and that dbt tests or the quality gate would
  otherwise find after the fact, blocking the whole run
  (docs/bad-input.md#one-faulty-row-never-blocks-a-publish): counts below their minimum (``Field.minimum``),
  times out of order within the record (``NotBefore``), a refund above its charge (``NotAbove``), a time
  before its parent entity was created where the parent is already loaded (``NotBeforeParent``) and amounts
  that dbt converts at a month's FX rate that its rates lack (``FxCovered``: the seed ``seeds/fx_rates.csv``
  or var fx_rates_relation's relation, clm.ingest.fx). Cross-row invariants stay dbt tests.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Kinds of value. Every raw column is VARCHAR; the kind says what text is valid.
STRING = "string"
INTEGER = "integer"  # optional sign and digits
DECIMAL = "decimal"  # a number in major units (CRM amounts)
MINOR_AMOUNT = "minor_amount"  # integer amount in the currency's minor unit (JPY: yen)
BOOLEAN = "boolean"  # true/false/t/f/1/0/yes/no, any case
ISO_TIMESTAMP = "iso_timestamp"  # ISO-8601; no offset means UTC
UNIX_TIMESTAMP = "unix_timestamp"  # integer seconds since the epoch, UTC
DATE = "date"  # YYYY-MM-DD
CURRENCY = "currency"  # ISO 4217 code, any case; must be in seeds/currencies.csv
COUNTRY = "country"  # ISO 3166-1 alpha-2, any case
ENUM = "enum"  # one of ``values`` (compared lower-cased and trimmed)

AUDIT_COLUMNS: tuple[str, ...] = (
    "_run_id",  # VARCHAR: the run that loaded the row
    "_source_file",  # VARCHAR: path relative to the landing-zone root
    "_load_date",  # DATE: from the load_date= partition
    "_row_number",  # BIGINT: physical line (CSV, JSONL) or 1-based row (Parquet) of the record in its file
    "_loaded_at",  # TIMESTAMP (UTC)
)


@dataclass(frozen=True)
class Field:
    path: str  # dotted path in the record, e.g. "metadata.crm_contact_id"
    kind: str = STRING
    not_null: bool = False  # a null or empty value quarantines the record
    required: bool = True  # False: the column may be absent from a file (then all nulls)
    values: tuple[str, ...] = ()  # allowed values for ENUM
    # Time of a past event: must lie in [2000-01-01, end of the drop's load date]. Forward-looking
    # fields (service period end, trial_end, ...) are only checked for [2000-01-01, 2100-01-01).
    event_time: bool = False
    # Amounts: negative values are rejected unless allow_negative (proration credits are negative).
    allow_negative: bool = False
    # Integers: the smallest and largest valid value (counts cannot be negative, an NPS score is 0..10).
    minimum: int | None = None
    maximum: int | None = None

    @property
    def column(self) -> str:
        return self.path.replace(".", "__")


@dataclass(frozen=True)
class NotBefore:
    """Two times of one record in order: ``later`` may not lie before the earliest set one of ``earlier``.

    The same instant is valid (a ticket created and solved in the same second). Reason: "<later>: before
    <what>".
    """

    later: str
    earlier: tuple[str, ...]
    what: str


@dataclass(frozen=True)
class NotAbove:
    """An amount of one record may not exceed another of the same record (same currency, minor units)."""

    amount: str
    limit: str


@dataclass(frozen=True)
class NotBeforeParent:
    """A time of the record may not lie before a time of its parent entity, when the parent is loaded.

    The parent is the newest version (``Entity.version_by``, then load date, file, row) of the key that
    ``foreign_key`` names, among the rows already in its raw table. A parent not loaded yet is no reason:
    orphans load with a warning (dbt relationships tests). Reason: "<time>: before <what>".
    """

    time: str
    foreign_key: str
    parent: tuple[str, str]  # (source, entity)
    parent_time: str
    what: str


@dataclass(frozen=True)
class FxCovered:
    """dbt converts ``amounts`` to the reporting currency at the FX rate of the month of ``time``.

    ``time`` falls back to ``fallback`` when null; ``from_parent``: ``time`` is a field of the parent record
    (an invoice line is converted at its invoice's creation month). A currency that the FX rates (the seed, or
    the user's relation: clm.ingest.fx) have no rate for, or a month before its first rate (or in a gap),
    would silently become 0 in the marts: the record is quarantined instead. Checked only when one of
    ``amounts`` is set. A month after the rates' last is not a fault of the record (the rates are out of
    date) and is not checked here.
    """

    time: str
    amounts: tuple[str, ...]
    fallback: str | None = None
    from_parent: bool = False
    currency: str = "currency"


@dataclass(frozen=True)
class ChildTable:
    array_path: str  # "items" or "lines"
    table: str  # raw table name without schema
    parent_key_column: str  # column holding the parent's primary key in the child table
    fields: tuple[Field, ...]
    index_column: str = "item_index"  # 0-based position in the array
    order: tuple[NotBefore, ...] = ()
    fx: tuple[FxCovered, ...] = ()


@dataclass(frozen=True)
class Entity:
    source: str
    name: str
    primary_key: tuple[str, ...]
    fields: tuple[Field, ...]
    # Columns that order versions of one key (newest wins), before load date / file / row number.
    version_by: tuple[str, ...] = ()
    children: tuple[ChildTable, ...] = field(default_factory=tuple)
    # Faults one record shows by itself (see the module docstring).
    order: tuple[NotBefore, ...] = ()
    not_above: tuple[NotAbove, ...] = ()
    parents: tuple[NotBeforeParent, ...] = ()
    fx: tuple[FxCovered, ...] = ()

    @property
    def table(self) -> str:
        return f"{self.source}__{self.name}"

    @property
    def required_paths(self) -> tuple[str, ...]:
        return tuple(f.path for f in self.fields if f.required)


# Stripe creates a customer before anything billed to it (docs/landing-zone.md#billing: billing is
# Stripe-like).
_BEFORE_CUSTOMER = NotBeforeParent(
    "created", "customer", ("billing", "customers"), "created", "its customer was created"
)
_STATUS_SUB = ("trialing", "active", "past_due", "unpaid", "canceled", "incomplete", "incomplete_expired")
_SEGMENTS = ("smb", "mid_market", "enterprise")

ENTITIES: tuple[Entity, ...] = (
    Entity(
        "crm",
        "contacts",
        primary_key=("contact_id",),
        version_by=("updated_at",),
        fields=(
            Field("contact_id", not_null=True),
            Field("email"),
            Field("first_name"),
            Field("last_name"),
            Field("company"),
            Field("country", COUNTRY),
            Field("segment", ENUM, values=_SEGMENTS),
            Field("acquisition_channel"),
            Field("referred_by_contact_id"),
            Field("created_at", ISO_TIMESTAMP, not_null=True, event_time=True),
            Field("updated_at", ISO_TIMESTAMP, not_null=True, event_time=True),
            Field("is_deleted", BOOLEAN),
        ),
        order=(NotBefore("updated_at", ("created_at",), "created_at"),),
    ),
    Entity(
        "crm",
        "deals",
        primary_key=("deal_id",),
        version_by=("created_at",),
        fields=(
            Field("deal_id", not_null=True),
            Field("contact_id"),
            Field("deal_stage", ENUM, not_null=True, values=("open", "won", "lost")),
            Field("amount", DECIMAL),
            Field("currency", CURRENCY),
            Field("created_at", ISO_TIMESTAMP, not_null=True, event_time=True),
            Field("closed_at", ISO_TIMESTAMP, event_time=True),
        ),
        order=(NotBefore("closed_at", ("created_at",), "created_at"),),
        # stg_crm__deals: at the rate of the month the deal closed (created, while open).
        fx=(FxCovered("closed_at", ("amount",), fallback="created_at"),),
    ),
    Entity(
        "crm",
        "marketing_spend",
        primary_key=("spend_date", "channel"),
        fields=(
            Field("spend_date", DATE, not_null=True, event_time=True),
            Field("channel", not_null=True),
            Field("amount", DECIMAL, not_null=True),
            Field("currency", CURRENCY, not_null=True),
        ),
        fx=(FxCovered("spend_date", ("amount",)),),
    ),
    Entity(
        "crm",
        "nps_responses",
        primary_key=("response_id",),
        fields=(
            Field("response_id", not_null=True),
            Field("contact_id", not_null=True),
            Field("score", INTEGER, not_null=True, minimum=0, maximum=10),
            Field("responded_at", ISO_TIMESTAMP, not_null=True, event_time=True),
        ),
    ),
    Entity(
        "billing",
        "customers",
        primary_key=("id",),
        version_by=("created",),
        fields=(
            Field("id", not_null=True),
            Field("email"),
            Field("created", UNIX_TIMESTAMP, not_null=True, event_time=True),
            Field("currency", CURRENCY),
            Field("metadata.crm_contact_id", required=False),
        ),
    ),
    Entity(
        "billing",
        "subscriptions",
        primary_key=("id",),
        # No updated_at in Stripe objects: `created` never changes, so the load date decides
        # (docs/landing-zone.md#upserts).
        version_by=("created",),
        fields=(
            Field("id", not_null=True),
            Field("customer", not_null=True),
            Field("status", ENUM, not_null=True, values=_STATUS_SUB),
            Field("created", UNIX_TIMESTAMP, not_null=True, event_time=True),
            Field("start_date", UNIX_TIMESTAMP, event_time=True),
            Field("trial_start", UNIX_TIMESTAMP, event_time=True),
            Field("trial_end", UNIX_TIMESTAMP),
            Field("cancel_at_period_end", BOOLEAN),
            Field("canceled_at", UNIX_TIMESTAMP, event_time=True),
            Field("ended_at", UNIX_TIMESTAMP, event_time=True),
            Field(
                "cancellation_details.reason",
                ENUM,
                values=("cancellation_requested", "payment_failed", "payment_disputed"),
            ),
        ),
        # Stripe's start_date may be backdated before `created`: the subscription began at the earlier one.
        order=(
            NotBefore(
                "canceled_at", ("created", "start_date"), "the subscription began (created, start_date)"
            ),
            NotBefore("ended_at", ("created", "start_date"), "the subscription began (created, start_date)"),
            NotBefore("trial_end", ("trial_start",), "trial_start"),
        ),
        parents=(_BEFORE_CUSTOMER,),
        children=(
            ChildTable(
                "items",
                "billing__subscription_items",
                parent_key_column="subscription_id",
                fields=(
                    Field("id", required=False),
                    Field("price.id"),
                    Field("price.unit_amount", MINOR_AMOUNT),
                    Field("price.currency", CURRENCY),
                    Field("price.recurring.interval", ENUM, values=("day", "week", "month", "year")),
                    Field("price.recurring.interval_count", INTEGER, minimum=1),
                    Field("quantity", INTEGER, minimum=0),
                ),
            ),
        ),
    ),
    Entity(
        "billing",
        "invoices",
        primary_key=("id",),
        version_by=("created",),
        fields=(
            Field("id", not_null=True),
            Field("customer", not_null=True),
            Field("subscription"),
            Field("status", ENUM, not_null=True, values=("draft", "open", "paid", "void", "uncollectible")),
            Field("currency", CURRENCY, not_null=True),
            Field("created", UNIX_TIMESTAMP, not_null=True, event_time=True),
            Field("status_transitions.paid_at", UNIX_TIMESTAMP, event_time=True),
            Field("amount_due", MINOR_AMOUNT),
            Field("amount_paid", MINOR_AMOUNT),
        ),
        order=(NotBefore("status_transitions.paid_at", ("created",), "created"),),
        parents=(_BEFORE_CUSTOMER,),
        # stg_billing__invoices: at the rate of the invoice's creation month.
        fx=(FxCovered("created", ("amount_due", "amount_paid")),),
        children=(
            ChildTable(
                "lines",
                "billing__invoice_lines",
                parent_key_column="invoice_id",
                index_column="line_index",
                fields=(
                    Field("id"),
                    Field("type", ENUM, values=("subscription", "invoiceitem")),
                    Field("amount", MINOR_AMOUNT, allow_negative=True),
                    Field("currency", CURRENCY),
                    Field("period.start", UNIX_TIMESTAMP),
                    Field("period.end", UNIX_TIMESTAMP),
                    Field("proration", BOOLEAN),
                    Field("quantity", INTEGER, minimum=0),
                    Field("price.id", required=False),
                    Field(
                        "price.recurring.interval",
                        ENUM,
                        required=False,
                        values=("day", "week", "month", "year"),
                    ),
                    Field("price.recurring.interval_count", INTEGER, required=False, minimum=1),
                ),
                order=(NotBefore("period.end", ("period.start",), "period.start"),),
                # stg_billing__invoice_lines converts at the invoice's creation month; MRR at the month of
                # every snapshot the service period covers, the first of them in the period's start month.
                fx=(
                    FxCovered("created", ("amount",), from_parent=True),
                    FxCovered("period.start", ("amount",)),
                ),
            ),
        ),
    ),
    Entity(
        "billing",
        "charges",
        primary_key=("id",),
        version_by=("created",),
        fields=(
            Field("id", not_null=True),
            Field("customer", not_null=True),
            Field("invoice"),
            Field("amount", MINOR_AMOUNT, not_null=True),
            Field("amount_refunded", MINOR_AMOUNT),
            Field("currency", CURRENCY, not_null=True),
            Field("status", ENUM, not_null=True, values=("succeeded", "failed", "pending")),
            Field("failure_code"),
            Field("created", UNIX_TIMESTAMP, not_null=True, event_time=True),
        ),
        not_above=(NotAbove("amount_refunded", "amount"),),
        parents=(_BEFORE_CUSTOMER,),
        # stg_billing__charges: at the rate of the charge's month.
        fx=(FxCovered("created", ("amount", "amount_refunded")),),
    ),
    Entity(
        "support",
        "tickets",
        primary_key=("ticket_id",),
        version_by=("updated_at",),
        fields=(
            Field("ticket_id", not_null=True),
            Field("requester_email"),
            Field("created_at", ISO_TIMESTAMP, not_null=True, event_time=True),
            Field("updated_at", ISO_TIMESTAMP, not_null=True, event_time=True),
            Field("first_reply_at", ISO_TIMESTAMP, event_time=True),
            Field("solved_at", ISO_TIMESTAMP, event_time=True),
            Field("status", ENUM, values=("new", "open", "pending", "hold", "solved", "closed")),
            Field("priority"),
            Field("channel"),
            Field("satisfaction_rating", ENUM, values=("good", "bad", "offered", "unoffered")),
            Field("reopens", INTEGER, minimum=0),
        ),
        order=(
            NotBefore("updated_at", ("created_at",), "created_at"),
            NotBefore("first_reply_at", ("created_at",), "created_at"),
            NotBefore("solved_at", ("created_at",), "created_at"),
        ),
    ),
)

ENTITIES_BY_KEY: dict[tuple[str, str], Entity] = {(e.source, e.name): e for e in ENTITIES}

# Amounts above this many major units are "absurd" and quarantined (the absurd_amount argument of
# clm.ingest.load.ingest; no setting changes it yet).
DEFAULT_ABSURD_AMOUNT = 10_000_000


# Every raw table ingestion writes: each entity's, then its child tables (array fields).
RAW_TABLES: tuple[str, ...] = tuple(t for e in ENTITIES for t in (e.table, *(c.table for c in e.children)))


def entity(source: str, name: str) -> Entity:
    try:
        return ENTITIES_BY_KEY[(source, name)]
    except KeyError:
        known = ", ".join(f"{s}/{n}" for s, n in ENTITIES_BY_KEY)
        raise KeyError(f"unknown entity {source}/{name}; the landing zone knows {known}") from None
