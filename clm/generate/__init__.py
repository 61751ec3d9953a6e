"""``clm generate``: deterministic, streaming synthetic extracts in the landing layout
(docs/landing-zone.md#layout, docs/bad-input.md#faults).

Same arguments, byte-identical files, on any machine and any day: every customer's records come from an RNG
seeded with (seed, customer index), the calendar comes from ``start``/``end`` (never the wall clock), and
files are written in a fixed order. Customers are simulated one at a time and each record is written at once
to the open file of its (entity, drop), so memory does not grow with ``customers``.

    from clm.generate import generate
    summary = generate(Path("data/raw"), customers=2000, seed=42, messy=False)
    summary = append_day(Path("data/raw"))  # one more daily drop after the newest, history untouched
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path
from random import Random

from clm.generate import catalog as cat
from clm.generate.catalog import PAID_CHANNELS
from clm.generate.layout import APPEND_LIMIT_DAYS, DropLayout
from clm.generate.messy import inject_faults
from clm.generate.model import GROWTH, Context, signup_of, simulate_customer
from clm.generate.writers import SPECS, DropWriters

__all__ = ["DEFAULT_END", "DEFAULT_START", "MANIFEST_NAME", "AppendError", "append_day", "generate"]

DEFAULT_START = date(2022, 1, 1)
DEFAULT_END = date(2026, 10, 31)
MANIFEST_NAME = "_clm_generate.json"  # root files starting with "_" are ignored by ingestion
# 3: renewal-day edge cases (catalog.RENEWAL_EDGE_CASES); 4: lives simulated past ``end`` (--append-day)
GENERATOR_VERSION = 4


class AppendError(ValueError):
    """A directory that ``append_day`` cannot continue (no manifest, another generator version, ...)."""


def generate(
    out_dir: Path,
    customers: int,
    seed: int,
    start: date | None = None,
    end: date | None = None,
    messy: bool = False,
    progress: Callable[[str], None] | None = None,
) -> dict:
    """Write the extracts under ``out_dir`` and ``out_dir/_clm_generate.json``; return a summary.

    The summary is the manifest (parameters, load dates, rows per entity, faults) with ``files`` as a count.

    ``customers`` counts simulated people (CRM contacts, about half of whom pay, plus a few billing-only
    customers). A directory written by an earlier ``generate`` is cleared of that run's files first; any
    other non-empty directory is refused rather than mixed with foreign data.
    """
    if customers < 1:
        raise ValueError("customers must be at least 1")
    out_dir = Path(out_dir)
    layout = DropLayout(start or DEFAULT_START, end or DEFAULT_END)
    say = progress or (lambda _msg: None)
    _prepare(out_dir)
    ctx = Context(seed=seed, customers=customers, layout=layout)

    writers = DropWriters(out_dir, layout)
    edge_cases = _simulate(ctx, writers, say)
    files = writers.close()

    extra: list[tuple[str, str, int]] = []
    faults: list[dict] = []
    if messy:
        files, extra, faults = inject_faults(out_dir, layout, files)
        say(f"injected {len(faults)} faults in {len(extra)} extra files")

    rows: dict[str, int] = {f"{SPECS[e].source}/{e}": 0 for e in SPECS}
    for entity, _path, n in files:
        rows[f"{SPECS[entity].source}/{entity}"] += n
    manifest = {
        "generator": "clm.generate",
        "generator_version": GENERATOR_VERSION,
        "parameters": {
            "customers": customers,
            "seed": seed,
            "start": layout.start.isoformat(),
            "end": layout.end.isoformat(),
            "messy": messy,
        },
        "load_dates": [d.isoformat() for d in layout.load_dates],
        "rows": rows,
        "files": [_file_entry(e, path, n, False) for e, path, n in files]
        + [_file_entry(e, path, n, True) for e, path, n in extra],
        "faults": faults,
        # subscriptions that show each renewal-day edge case before the horizon (catalog.RENEWAL_EDGE_CASES)
        "renewal_edge_cases": {case: edge_cases[case] for case in cat.RENEWAL_EDGE_CASE_NAMES},
        "clv_ground_truth": clv_ground_truth(),
    }
    (out_dir / MANIFEST_NAME).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    # The summary for callers (the CLI says how many files it wrote): the file list replaced by its length.
    return {**manifest, "files": len(manifest["files"]), "manifest": str(out_dir / MANIFEST_NAME)}


def append_day(out_dir: Path, progress: Callable[[str], None] | None = None) -> dict:
    """Write one more daily drop, for the day after the newest load date of ``out_dir``; return a summary.

    Parameters come from the directory's manifest. No existing file changes: every customer is simulated
    again exactly as before (lives run to ``end`` + APPEND_LIMIT_DAYS whatever is cut), and only the records
    that changed on the new day are written, in their state at its end; new customers keep signing up on the
    growth curve continued past ``end``. Appended days are clean even in a ``--messy`` zone. The manifest
    gains the new load date, files and rows, and ``appended_days``.
    """
    out_dir = Path(out_dir)
    say = progress or (lambda _msg: None)
    manifest = _appendable_manifest(out_dir)
    params = manifest["parameters"]
    appended = manifest.get("appended_days", 0) + 1
    start, end = date.fromisoformat(params["start"]), date.fromisoformat(params["end"])
    layout = DropLayout(start, end, appended)
    new_drop = len(layout.load_dates) - 1
    writers = DropWriters(out_dir, layout, drops=range(new_drop, new_drop + 1))
    taken = [SPECS[e].folder(layout.load_dates[new_drop].isoformat()) for e in SPECS]
    if any((out_dir / folder).exists() for folder in taken):
        raise AppendError(f"{out_dir} already holds a drop for {layout.load_dates[new_drop]}")
    ctx = Context(seed=params["seed"], customers=params["customers"], layout=layout)
    edge_cases = _simulate(ctx, writers, say)
    files = writers.close()

    rows = dict(manifest["rows"])
    for entity, _path, n in files:
        rows[f"{SPECS[entity].source}/{entity}"] += n
    manifest.update(
        load_dates=[d.isoformat() for d in layout.load_dates],
        appended_days=appended,
        rows=rows,
        files=manifest["files"] + [_file_entry(e, path, n, False) for e, path, n in files],
        renewal_edge_cases={case: edge_cases[case] for case in cat.RENEWAL_EDGE_CASE_NAMES},
    )
    path = out_dir / MANIFEST_NAME
    scratch = path.with_name(path.name + ".tmp")
    scratch.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    scratch.replace(path)  # a reader sees the old manifest or the new one, never half of it
    say(f"appended {layout.load_dates[new_drop]} ({sum(n for _e, _p, n in files):,} records) under {out_dir}")
    return {**manifest, "files": len(files), "manifest": str(path)}


def _appendable_manifest(out_dir: Path) -> dict:
    """The manifest of a tree that this generator can continue, or AppendError saying why not."""
    path = out_dir / MANIFEST_NAME
    if not path.is_file():
        raise AppendError(
            f"{out_dir} has no {MANIFEST_NAME}: --append-day continues a tree written by clm generate"
        )
    manifest = json.loads(path.read_text(encoding="utf-8"))
    version = manifest.get("generator_version")
    if manifest.get("generator") != "clm.generate" or not isinstance(version, int):
        raise AppendError(f"{path} was not written by clm generate")
    if version > GENERATOR_VERSION:
        raise AppendError(
            f"{path} was written by a newer clm generate (version {version}, this one is "
            f"{GENERATOR_VERSION}): update clm"
        )
    if version < GENERATOR_VERSION:
        raise AppendError(
            f"{path} was written by clm generate version {version}, whose records this one "
            f"({GENERATOR_VERSION}) cannot continue: generate the tree again"
        )
    appended = manifest.get("appended_days", 0)
    if appended >= APPEND_LIMIT_DAYS:
        raise AppendError(
            f"{out_dir} already has {appended} appended days, the most the simulation covers: generate again "
            "with a later --end"
        )
    return manifest


def _simulate(ctx: Context, writers: DropWriters, say: Callable[[str], None]) -> Counter[str]:
    """Write every customer's records (and the spend) to the drops ``writers`` takes; count edge cases."""
    layout = ctx.layout
    for spend in _marketing_spend(ctx):
        writers.write("marketing_spend", layout.drop_of(spend.pop("_ts")), spend)
    customers = ctx.customers
    step = max(1, customers // 4)  # four progress lines
    edge_cases: Counter[str] = Counter()
    for i in _customer_indices(ctx):
        for rec in simulate_customer(ctx, i, edge_cases):
            for drop, version in layout.place(rec.sorted_versions()):
                writers.write(rec.entity, drop, version)
        if (i + 1) % step == 0 or i + 1 == customers:
            say(f"simulated {i + 1:,}/{customers:,} customers")
    return edge_cases


def _customer_indices(ctx: Context) -> Iterator[int]:
    """0..customers-1, then the customers who sign up after ``end`` (appended days) up to the horizon.

    Sign-up times increase with the index, so the first later customer past the horizon ends the list.
    """
    yield from range(ctx.customers)
    i = ctx.customers
    while signup_of(ctx, i) <= ctx.layout.horizon:
        yield i
        i += 1


def clv_ground_truth() -> dict:
    """The parameters the synthetic behaviour follows, in the units clm.clv fits them in.

    sbg: theta ~ Beta(alpha, beta) per customer, one renewal decision per billing period (the first paid
    subscription's own cadence: month, 3 months or year). bg_nbd: one-off purchase days, lambda per day.
    gamma_gamma: value per one-off transaction in USD (the reporting currency; one-off sales are in USD).
    """
    return {
        "sbg": {**cat.SBG, "time_unit": "billing_period"},
        "bg_nbd": {**cat.BG_NBD, "time_unit": "day"},
        "gamma_gamma": {**cat.GAMMA_GAMMA},
    }


def _file_entry(entity: str, path: str, rows: int, injected: bool) -> dict:
    # rows: records (CSV/JSONL lines after the header, Parquet rows), faulty ones included for injected files.
    return {"path": path, "entity": f"{SPECS[entity].source}/{entity}", "rows": rows, "injected": injected}


def _prepare(out_dir: Path) -> None:
    """Remove what a previous run wrote (listed in its manifest); refuse a tree holding anything else."""
    if not out_dir.exists():
        out_dir.mkdir(parents=True)
        return
    present = {p.relative_to(out_dir).as_posix() for p in out_dir.rglob("*") if p.is_file()}
    ours: set[str] = set()
    manifest = out_dir / MANIFEST_NAME
    if manifest.is_file():
        previous = json.loads(manifest.read_text(encoding="utf-8"))
        ours = {f["path"] for f in previous.get("files", [])} | {
            f["file"] for f in previous.get("faults", [])
        }
        ours.add(MANIFEST_NAME)
    foreign = sorted(present - ours)
    if foreign:
        raise FileExistsError(
            f"{out_dir} holds files that clm generate did not write (e.g. {foreign[0]}): "
            "choose an empty or new directory"
        )
    for rel in sorted(present):
        (out_dir / rel).unlink()
    for folder in sorted((p for p in out_dir.rglob("*") if p.is_dir()), key=lambda p: -len(p.parts)):
        if not any(folder.iterdir()):
            folder.rmdir()


def _marketing_spend(ctx: Context):
    """One row per day per paid channel, scaled to the expected paying sign-ups that day (CAC targets).

    Appended days (after ``end``) continue the growth curve of Context.signup_ts.
    """
    layout = ctx.layout
    days = (layout.end - layout.start).days + 1
    # Expected sign-ups on day k under the linear growth of Context.signup_ts, times an average paying
    # conversion of about one half.
    for k in range(days + layout.appended):
        day = layout.start + timedelta(days=k)
        rng = Random(f"{ctx.seed}:spend:{day.isoformat()}")
        tau = (k + 0.5) / days
        signups = ctx.customers * (1 + GROWTH * tau) / (1 + GROWTH / 2) / days
        for channel in sorted(PAID_CHANNELS):
            share, cac = PAID_CHANNELS[channel]
            noise = 0.6 + 0.8 * rng.random()
            amount = signups * share * 0.5 * cac * noise
            if channel == "outbound" and day.weekday() >= 5:
                amount *= 0.1  # SDRs do not work weekends
            yield {
                "spend_date": day.isoformat(),
                "channel": channel,
                "amount": f"{amount:.2f}",
                "currency": "USD",
                "_ts": layout.end_horizon - (layout.end - day).days * 86_400,  # the day's last second
            }
