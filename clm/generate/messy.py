"""``--messy``: real-world faults (docs/bad-input.md#faults) next to the clean extracts, each one listed.

Faults live in ADDITIONAL files (named after what a real pipeline would have produced: a manual import, a
replayed webhook batch...) so the clean files stay byte-identical to a clean run; the only removal is the
"whole entity missing" fault, which deletes one daily folder. Every fault is recorded with the file (relative
to the landing root), the physical 1-based line (header = line 1; None for whole-file faults) and the outcome
ingestion should reach.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

from clm.generate.catalog import HOUR
from clm.generate.layout import DropLayout, epoch, iso
from clm.generate.writers import SPECS

ROW_QUARANTINED = "row_quarantined"
FILE_QUARANTINED = "file_quarantined"
DUPLICATE_FILE = "duplicate_file"
LOADED_WITH_WARNING = "loaded_with_warning"

FAULT_KINDS = (
    "malformed_csv_row",
    "wrong_type",
    "missing_required_column",
    "extra_columns",
    "empty_file",
    "duplicate_file",
    "duplicate_key",
    "non_utf8",
    "negative_amount",
    "absurd_amount",
    "future_timestamp",
    "timestamp_before_2000",
    "unknown_currency",
    "orphan_foreign_key",
    "missing_entity",
    "malformed_json",
)
ORPHAN_CUSTOMER = "cus_0rphanNoSuchCustomer"

FileEntry = tuple[str, str, int]  # (entity, path relative to the root, rows)


class _Injector:
    def __init__(self, out_dir: Path, layout: DropLayout, files: list[FileEntry]) -> None:
        self.out = out_dir
        self.dates = [d.isoformat() for d in layout.load_dates]
        self.layout = layout
        self.files = files
        self.faults: list[dict] = []
        self.extra: list[FileEntry] = []
        self.fresh = 0

    # -- helpers --------------------------------------------------------------------------------------------
    def fault(self, kind: str, file: str, line: int | None, expected: str, detail: str) -> None:
        self.faults.append({"kind": kind, "file": file, "line": line, "expected": expected, "detail": detail})

    def write(self, entity: str, drop: int, tag: str, ext: str, data: bytes, rows: int) -> str:
        spec, load_date = SPECS[entity], self.dates[drop]
        rel = f"{spec.folder(load_date)}/{entity}-{load_date}-{tag}.{ext}"
        path = self.out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        self.extra.append((entity, rel, rows))
        return rel

    def noon(self, drop: int) -> int:
        return epoch(self.layout.load_dates[drop]) + 12 * HOUR

    def first_record(self, entity: str, drop: int | None = None) -> tuple[str, list[str]] | None:
        """(path, raw first data line) of an entity's clean file, or None."""
        for e, rel, rows in self.files:
            if e == entity and rows and (drop is None or f"load_date={self.dates[drop]}/" in rel):
                with open(self.out / rel, encoding="utf-8") as fh:
                    header, first = fh.readline(), fh.readline()
                return rel, [header, first]
        return None

    def fresh_contact(self, drop: int, **overrides: object) -> list[str]:
        self.fresh += 1
        ts = iso(self.noon(drop) - 2 * HOUR, 0)
        row = {
            "contact_id": f"900000{self.fresh:04d}",
            "email": f"import.lead{self.fresh}@example.org",
            "first_name": "Alex",
            "last_name": "Imported",
            "company": "Trade Show Leads",
            "country": "US",
            "segment": "smb",
            "acquisition_channel": "organic",
            "referred_by_contact_id": "",
            "lifecycle_stage": "lead",
            "created_at": ts,
            "updated_at": ts,
            "is_deleted": "false",
        }
        row.update(overrides)
        return [str(row[c]) for c in SPECS["contacts"].columns]

    # -- faults ---------------------------------------------------------------------------------------------
    def contacts_import(self, drop: int) -> None:
        """A manual CSV import with broken rows between good ones."""
        future = iso(self.noon(drop) + 30 * 86_400, -300)
        rows = [
            _csv_line(SPECS["contacts"].columns),
            _csv_line(self.fresh_contact(drop)),
            "9000000999,short.row@example.org,Sam\n",
            _csv_line(self.fresh_contact(drop, created_at="not-a-date")),
            _csv_line(self.fresh_contact(drop, created_at=future, updated_at=future)),
            _csv_line(self.fresh_contact(drop, created_at="1999-06-01T00:00:00+00:00")),
            _csv_line(self.fresh_contact(drop)),
            '9000000998,"unclosed.quote@example.org,Kim,Lee,Quote Inc,US,smb,organic,,lead,'
            "2026-01-01T00:00:00+00:00,2026-01-01T00:00:00+00:00,false\n",
        ]
        rel = self.write("contacts", drop, "manual-import", "csv", "".join(rows).encode(), len(rows) - 1)
        self.fault("malformed_csv_row", rel, 3, ROW_QUARANTINED, "3 fields instead of 13")
        self.fault("wrong_type", rel, 4, ROW_QUARANTINED, "created_at is 'not-a-date'")
        self.fault("future_timestamp", rel, 5, ROW_QUARANTINED, "created_at 30 days after the load date")
        self.fault("timestamp_before_2000", rel, 6, ROW_QUARANTINED, "created_at in 1999")
        self.fault("malformed_csv_row", rel, 8, ROW_QUARANTINED, "unbalanced quote on the last line")

    def contacts_latin1(self, drop: int) -> None:
        good = _csv_line(self.fresh_contact(drop)).encode()
        bad = _csv_line(self.fresh_contact(drop, first_name="José", company="Café Crème SARL")).encode(
            "latin-1"
        )
        data = (
            _csv_line(SPECS["contacts"].columns).encode()
            + good
            + bad
            + _csv_line(self.fresh_contact(drop)).encode()
        )
        rel = self.write("contacts", drop, "latin1-export", "csv", data, 3)
        self.fault("non_utf8", rel, 3, ROW_QUARANTINED, "latin-1 bytes (0xE9) in first_name and company")

    def contacts_missing_column(self, drop: int) -> None:
        columns = [c for c in SPECS["contacts"].columns if c != "email"]
        keep = [SPECS["contacts"].columns.index(c) for c in columns]
        rows = [_csv_line(columns)] + [
            _csv_line([r[k] for k in keep]) for r in (self.fresh_contact(drop), self.fresh_contact(drop))
        ]
        rel = self.write("contacts", drop, "no-email", "csv", "".join(rows).encode(), 2)
        self.fault("missing_required_column", rel, None, FILE_QUARANTINED, "no 'email' column")

    def deals_extra_columns(self, drop: int, contact_ids: list[str]) -> None:
        columns = [*SPECS["deals"].columns, "utm_campaign", "hs_analytics_source_data_1"]
        ts = iso(self.noon(drop), 60)
        rows = [_csv_line(columns)]
        for k, cid in enumerate(contact_ids[:2], start=1):
            rows.append(
                _csv_line(
                    [
                        f"Dmessy-{k}",
                        cid,
                        "Expansion - extra seats",
                        "default",
                        "open",
                        "1200.00",
                        "EUR",
                        ts,
                        "",
                        "spring_promo",
                        "webinar",
                    ]
                )
            )
        rel = self.write("deals", drop, "with-utm", "csv", "".join(rows).encode(), len(rows) - 1)
        self.fault(
            "extra_columns", rel, None, LOADED_WITH_WARNING, "unknown columns utm_campaign, hs_analytics_*"
        )

    def nps_wrong_type(self, drop: int, contact_ids: list[str]) -> None:
        ts = iso(self.noon(drop), 540)
        columns = SPECS["nps_responses"].columns
        rows = [
            _csv_line(columns),
            _csv_line(["nps-messy-1", contact_ids[0], "9", "relationship", ts]),
            _csv_line(["nps-messy-2", contact_ids[0], "abc", "relationship", ts]),
            _csv_line(["nps-messy-3", contact_ids[-1], "6", "relationship", ts]),
        ]
        rel = self.write("nps_responses", drop, "survey-tool", "csv", "".join(rows).encode(), 3)
        self.fault("wrong_type", rel, 3, ROW_QUARANTINED, "score is 'abc'")

    def charges_replay(self, drop: int, customer: str) -> None:
        noon = self.noon(drop)

        def charge(k: int, **overrides: object) -> str:
            rec = {
                "id": f"ch_messyReplay{k:03d}",
                "object": "charge",
                "customer": customer,
                "invoice": None,
                "amount": 2500,
                "amount_refunded": 0,
                "currency": "usd",
                "status": "succeeded",
                "failure_code": None,
                "created": noon,
                "livemode": False,
            }
            rec.update(overrides)
            return json.dumps(rec, separators=(",", ":")) + "\n"

        lines = [
            charge(1, amount=-1500),
            '{"id":"ch_messyReplay002","object":"charge","customer":"' + customer + '","amount":25\n',
            charge(3, amount=20_000_000 * 100),
            charge(4, created="abc"),
            charge(5, created=946_598_400 - 86_400 * 365),  # 1998-12-31
            charge(6, created=noon + 30 * 86_400),
        ]
        rel = self.write("charges", drop, "webhook-replay", "jsonl", "".join(lines).encode(), len(lines))
        self.fault("negative_amount", rel, 1, ROW_QUARANTINED, "amount -1500")
        self.fault("malformed_json", rel, 2, ROW_QUARANTINED, "truncated JSON object")
        self.fault("absurd_amount", rel, 3, ROW_QUARANTINED, "amount 20,000,000 USD")
        self.fault("wrong_type", rel, 4, ROW_QUARANTINED, "created is 'abc'")
        self.fault("timestamp_before_2000", rel, 5, ROW_QUARANTINED, "created in 1998")
        self.fault("future_timestamp", rel, 6, ROW_QUARANTINED, "created 30 days after the load date")

    def invoices_replay(self, drop: int, customer: str) -> None:
        noon = self.noon(drop)

        def invoice(k: int, cus: str, currency: str, amount: int) -> str:
            line = {
                "id": f"il_messyReplay{k:03d}",
                "object": "line_item",
                "type": "invoiceitem",
                "amount": amount,
                "currency": currency,
                "period": {"start": noon, "end": noon},
                "proration": False,
                "quantity": 1,
                "price": {"id": "price_data_export_usd", "recurring": None},
            }
            rec = {
                "id": f"in_messyReplay{k:03d}",
                "object": "invoice",
                "customer": cus,
                "subscription": None,
                "status": "paid",
                "currency": currency,
                "created": noon,
                "status_transitions": {"finalized_at": noon, "paid_at": noon + 600},
                "amount_due": amount,
                "amount_paid": amount,
                "lines": [line],
                "livemode": False,
            }
            return json.dumps(rec, separators=(",", ":")) + "\n"

        lines = [
            invoice(1, customer, "xyz", 4900),
            invoice(2, ORPHAN_CUSTOMER, "usd", 4900),
            invoice(3, customer, "usd", 15_000_000 * 100),
        ]
        rel = self.write("invoices", drop, "webhook-replay", "jsonl", "".join(lines).encode(), len(lines))
        self.fault("unknown_currency", rel, 1, ROW_QUARANTINED, "currency 'xyz'")
        self.fault(
            "orphan_foreign_key", rel, 2, LOADED_WITH_WARNING, f"customer {ORPHAN_CUSTOMER} exists nowhere"
        )
        self.fault("absurd_amount", rel, 3, ROW_QUARANTINED, "amount_due 15,000,000 USD")

    def empty_file(self, drop: int) -> None:
        rel = self.write("tickets", drop, "empty", "csv", b"", 0)
        # Nothing to load and nothing to lose: clm.ingest records it as an empty file, with a message.
        self.fault("empty_file", rel, None, LOADED_WITH_WARNING, "0 bytes")

    def duplicate_file(self, source_drop: int, target_drop: int) -> None:
        found = self.first_record("marketing_spend", source_drop)
        if found is None:
            return
        src = found[0]
        rel = f"{SPECS['marketing_spend'].folder(self.dates[target_drop])}/{Path(src).name}"
        shutil.copyfile(self.out / src, self.out / rel)
        rows = next(n for e, p, n in self.files if p == src)
        self.extra.append(("marketing_spend", rel, rows))
        self.fault("duplicate_file", rel, None, DUPLICATE_FILE, f"byte-identical copy of {src}")

    def duplicate_key(self) -> None:
        """Re-send one contact row in an extra file of the same drop (latest daily drop that has one)."""
        for drop in range(len(self.dates) - 1, -1, -1):
            found = self.first_record("contacts", drop)
            if found is not None:
                _, (header, first) = found
                # A new contact first, so the file never equals the clean one byte for byte (that would be
                # a duplicate file, not a duplicate key).
                data = header + _csv_line(self.fresh_contact(drop)) + first
                rel = self.write("contacts", drop, "resync", "csv", data.encode(), 2)
                detail = "same contact_id as another file of the drop"
                self.fault("duplicate_key", rel, 3, LOADED_WITH_WARNING, detail)
                return

    def missing_entity(self, drop: int) -> None:
        """Delete one daily folder of an entity that has rows in the neighbouring drops."""
        for entity in ("charges", "invoices", "subscriptions", "tickets"):  # tickets: always a CSV file
            folder = SPECS[entity].folder(self.dates[drop])
            if (self.out / folder).is_dir():
                shutil.rmtree(self.out / folder)
                self.files = [f for f in self.files if not f[1].startswith(folder + "/")]
                self.fault(
                    "missing_entity",
                    folder,
                    None,
                    LOADED_WITH_WARNING,
                    f"no {SPECS[entity].source}/{entity} in the {self.dates[drop]} drop",
                )
                return


def _csv_line(values: list[str] | tuple[str, ...]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow(values)
    return buf.getvalue()


def _existing_ids(inj: _Injector) -> tuple[list[str], str]:
    """Two contact ids and one billing customer id from the backfill drop, for faults that need real keys."""
    contacts: list[str] = []
    for e, rel, rows in inj.files:
        if e == "contacts" and rows:
            with open(inj.out / rel, encoding="utf-8") as fh:
                reader = csv.reader(fh)
                next(reader)
                contacts = [row[0] for _, row in zip(range(2), reader, strict=False)]
            break
    customer = ORPHAN_CUSTOMER
    for e, rel, rows in inj.files:
        if e == "customers" and rows:
            with open(inj.out / rel, encoding="utf-8") as fh:
                customer = json.loads(fh.readline())["id"]
            break
    return contacts or ["9000000001"], customer


def inject_faults(
    out_dir: Path, layout: DropLayout, files: list[FileEntry]
) -> tuple[list[FileEntry], list[FileEntry], list[dict]]:
    """Add every fault kind once or more. Returns (clean files still present, added files, faults).

    Placement is fixed (roughly one daily drop per fault family); only the ids borrowed from the clean files
    depend on the seed.
    """
    inj = _Injector(out_dir, layout, files)
    contact_ids, customer = _existing_ids(inj)
    inj.duplicate_key()  # before the extra contact files, so it copies a clean row
    inj.contacts_import(2)
    inj.contacts_latin1(3)
    inj.contacts_missing_column(4)
    inj.deals_extra_columns(5, contact_ids)
    inj.nps_wrong_type(6, contact_ids)
    inj.missing_entity(7)
    inj.charges_replay(8, customer)
    inj.invoices_replay(9, customer)
    inj.empty_file(10)
    inj.duplicate_file(1, 12)
    faults = sorted(inj.faults, key=lambda f: (f["file"], f["line"] or 0, f["kind"]))
    return inj.files, inj.extra, faults
