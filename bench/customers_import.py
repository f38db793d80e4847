"""CSV import of customers at scale, with duplicate detection (not a test; prints figures).

    .venv/bin/python bench/customers_import.py [--rows 100000] [--existing N] [--seed 1]
        [--pg postgresql://postgres@127.0.0.1:5432/postgres]

In a fresh customers database — an SQLite file in a temporary directory, or, with ``--pg`` (a
server URL whose user may create databases), a throwaway PostgreSQL database dropped afterwards:

1. seeds ``--existing`` customers (default: a tenth of ``--rows``) directly, as the service
   stores them (:func:`customers.usecases.new_customer_row`, codes from the counter);
2. writes a UTF-8 CSV (with a BOM, headers like ``Tax Id``) of ``--rows`` multilingual rows
   (:mod:`datagen`: Chinese, Turkish, Bulgarian, English companies and people) in which a known
   share is planted: 5 % repeat a duplicate key (name, e-mail, phone or tax id) of an earlier
   row of the file, 2 % repeat the name, e-mail or phone of an existing customer, 1 % carry the
   tax id of an existing customer (an update, not a duplicate) — each as a variant the
   service's rules (:mod:`crm_common.text`) must see through: other case, Turkish dotted and
   dotless I, decomposed accents, full-width letters and digits, other spacing and punctuation,
   ``00`` for ``+``;
3. imports it as the gateway does — the file cut into batches of 1000 rows by the gateway's own
   :class:`gateway.imports.CsvBatcher` — through the use-case functions the RPC methods call:
   ``start_import`` (mode ``skip_bad``), ``import_batch`` per batch, ``finish_import``;
4. checks that the import flagged exactly the planted duplicate lines (each naming the planted
   field), created every other row and updated the planted updates; anything else fails loudly.

Prints rows, seconds to receive and stage the rows, seconds to finish (validate + apply),
rows/s, the process's peak memory and the duplicates found. ``make bench`` runs it as the
``customers.import`` scenario (10,000 rows quick, 100,000 full).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import random
import sys
import tempfile
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import datagen
from harness import Context, peak_rss_mib, scenario
from pg_scratch import pg_database

ROOT = Path(__file__).resolve().parents[1]
for extra in (ROOT / "services" / "customers", ROOT / "gateway"):
    if str(extra) not in sys.path:
        sys.path.insert(0, str(extra))

from crm_common.db import DatabaseHandle, WorkerDatabase, utcnow  # noqa: E402
from crm_common.testing import new_caller  # noqa: E402
from crm_common.text import email_key, name_key, phone_key  # noqa: E402
from customers import domain, importer  # noqa: E402
from customers import models as m  # noqa: E402
from customers.usecases import allocate_codes, new_customer_row  # noqa: E402
from gateway.imports import CsvBatcher  # noqa: E402
from sqlalchemy import func, insert, select  # noqa: E402

ADMIN = new_caller("admin", user_id=1)
IN_FILE_SHARE = 0.05  # rows repeating a key of an earlier row of the file
EXISTING_SHARE = 0.02  # rows repeating the name / e-mail / phone of an existing customer
UPDATE_SHARE = 0.01  # rows carrying the tax id of an existing customer (updates)
SEED_CHUNK = 1000
KEY_OF = {"name": name_key, "tax_id": domain.tax_key, "email": email_key, "phone": phone_key}


class BenchFailure(RuntimeError):
    """The import did not do what the planted data says it must."""


# -- variants that the duplicate rules must see through -----------------------------------------


def _full_width(text: str) -> str:
    """ASCII letters and digits as their full-width forms (NFKC folds them back)."""
    return "".join(chr(ord(c) + 0xFEE0) if c.isascii() and c.isalnum() else c for c in text)


def name_variant(name: str, rng: random.Random) -> str:
    """The same name as someone else would type it: other case (``İ``/``ı`` included), accents
    decomposed, full-width letters, punctuation and spacing changed."""
    choices: list[Callable[[str], str]] = [
        str.upper,
        str.lower,
        lambda s: unicodedata.normalize("NFD", s),
        lambda s: "  ".join(s.split()) + " .",
        lambda s: "".join(ch for ch in s if unicodedata.category(ch)[0] not in "PS"),
        _full_width,
        lambda s: " ".join(s) if datagen.guess_lang(s) == "zh" else s,  # 北京华通 → 北 京 华 通
    ]
    return _variant(name, rng, choices, name_key)


def email_variant(email: str, rng: random.Random) -> str:
    return _variant(email, rng, [str.upper, lambda s: s[:1].upper() + s[1:], str.title], email_key)


def phone_variant(number: str, rng: random.Random) -> str:
    """``+90 532 123 45 67`` → ``0090 (532) 1234567`` / full-width digits / other grouping."""

    def double_zero(s: str) -> str:
        digits = phone_key(s)
        return f"00{digits[:3]} ({digits[3:6]}) {digits[6:]}"

    def full_width_digits(s: str) -> str:
        return "".join(chr(ord(c) + 0xFEE0) if c.isdigit() else c for c in s)

    def regroup(s: str) -> str:
        digits = phone_key(s)
        return "+" + "-".join(digits[i : i + 3] for i in range(0, len(digits), 3))

    return _variant(number, rng, [double_zero, full_width_digits, regroup], phone_key)


def tax_variant(tax_id: str, rng: random.Random) -> str:
    def dotted(s: str) -> str:
        compact = s.replace(" ", "")
        return ".".join(compact[i : i + 3] for i in range(0, len(compact), 3))

    return _variant(tax_id, rng, [str.lower, dotted, lambda s: f" {s.replace(' ', '')} "], domain.tax_key)


def _variant(
    text: str, rng: random.Random, choices: list[Callable[[str], str]], key: Callable[[str], str]
) -> str:
    """A spelling of ``text`` with the same duplicate key, different from ``text`` when any of
    ``choices`` gives one."""
    for fn in rng.sample(choices, len(choices)):
        candidate = fn(text)
        if candidate.strip() != text and key(candidate) == key(text):
            return candidate
    return text


VARIANTS = {"name": name_variant, "email": email_variant, "phone": phone_variant, "tax_id": tax_variant}


# -- the data -----------------------------------------------------------------------------------


@dataclass
class Plan:
    """The CSV rows and what the import must make of them (lines are file lines: header = 1)."""

    rows: list[dict[str, str]]
    existing: list[dict[str, str]]
    duplicates: dict[int, str] = field(default_factory=dict)  # line → the planted field
    updates: set[int] = field(default_factory=set)

    @property
    def creates(self) -> int:
        return len(self.rows) - len(self.duplicates) - len(self.updates)


class UniqueRows:
    """``datagen.customer_row``s whose duplicate keys no earlier row has (a redraw otherwise)."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.taken: dict[str, set[str]] = {f: set() for f in KEY_OF}

    def keys(self, row: dict[str, str]) -> dict[str, str]:
        return {f: KEY_OF[f](row[f]) for f in KEY_OF if row[f]}

    def take(self, row: dict[str, str]) -> None:
        for f, k in self.keys(row).items():
            self.taken[f].add(k)

    def fresh(self) -> dict[str, str]:
        for _ in range(1000):
            row = datagen.customer_row(self.rng)
            keys = self.keys(row)
            if not any(k in self.taken[f] for f, k in keys.items()):
                self.take(row)
                return row
        raise BenchFailure("the data generator ran out of distinct customers")


def make_plan(n: int, existing: int, seed: int) -> Plan:
    rng = random.Random(seed)
    unique = UniqueRows(rng)
    known = [unique.fresh() for _ in range(existing)]
    plan = Plan(rows=[], existing=known)
    n_in_file = round(n * IN_FILE_SHARE)
    n_existing = round(n * EXISTING_SHARE) if known else 0
    n_updates = min(round(n * UPDATE_SHARE), sum(1 for c in known if c["tax_id"])) if known else 0
    kinds = ["in_file"] * n_in_file + ["existing"] * n_existing + ["update"] * n_updates
    kinds += ["clean"] * (n - len(kinds))
    rng.shuffle(kinds)
    # the first row is a clean one: an "in_file" row needs an earlier clean row to repeat
    if kinds and kinds[0] != "clean" and "clean" in kinds:
        swap = kinds.index("clean")
        kinds[0], kinds[swap] = kinds[swap], kinds[0]
    clean_rows: list[dict[str, str]] = []
    updatable = [c for c in known if c["tax_id"]]
    rng.shuffle(updatable)
    for i, kind in enumerate(kinds):
        line = i + 2
        row = unique.fresh()
        if kind == "in_file":
            fld, source = _pick_field(rng, clean_rows, ("name", "email", "phone", "tax_id"))
            row[fld] = VARIANTS[fld](source[fld], rng)
            plan.duplicates[line] = fld
        elif kind == "existing":
            fld, source = _pick_field(rng, known, ("name", "email", "phone"))
            row[fld] = VARIANTS[fld](source[fld], rng)
            plan.duplicates[line] = fld
        elif kind == "update":
            row["tax_id"] = tax_variant(updatable.pop()["tax_id"], rng)
            plan.updates.add(line)
        else:
            clean_rows.append(row)
        plan.rows.append(row)
    return plan


def _pick_field(
    rng: random.Random, sources: list[dict[str, str]], fields: tuple[str, ...]
) -> tuple[str, dict[str, str]]:
    source = rng.choice(sources)
    return rng.choice([f for f in fields if source[f]]), source


def csv_bytes(rows: list[dict[str, str]]) -> bytes:
    """The rows as a spreadsheet would export them: UTF-8 with a BOM, ``Tax Id`` style headers."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([c.replace("_", " ").title() for c in domain.IMPORT_COLUMNS])
    for row in rows:
        writer.writerow([row[c] for c in domain.IMPORT_COLUMNS])
    return out.getvalue().encode("utf-8-sig")


# -- the run ------------------------------------------------------------------------------------


def seed_existing(db: DatabaseHandle, customers: list[dict[str, str]]) -> None:
    """The existing customers, stored as the service stores a created customer."""
    today = dt.date.today()
    now = utcnow()
    with db.transaction(ADMIN) as uow:
        s = uow.session
        for start in range(0, len(customers), SEED_CHUNK):
            chunk = customers[start : start + SEED_CHUNK]
            codes = allocate_codes(s, len(chunk))
            rows = []
            for raw, code in zip(chunk, codes, strict=True):
                parsed = domain.parse_import_row(0, raw, today)
                if not parsed.ok:
                    raise BenchFailure(f"generated customer not valid: {parsed.errors} {raw}")
                values = {**parsed.values, "owner_id": ADMIN.user_id}
                rows.append(new_customer_row(values, code, now, ADMIN.actor))
            s.execute(insert(m.customers), rows)


def import_csv(db: DatabaseHandle, data: bytes) -> tuple[dict[str, Any], float, float]:
    """The gateway's way: batches of 1000 rows to ``import_batch``; then ``finish_import``.
    Returns the result, the seconds to receive and stage, the seconds to finish."""
    worker_db = WorkerDatabase(db, ADMIN, None)
    started = time.perf_counter()
    job = importer.start_import(worker_db, ADMIN, "skip_bad", "customers.csv")
    batcher = CsvBatcher()
    for offset in range(0, len(data), 64 * 1024):
        for batch in batcher.feed(data[offset : offset + 64 * 1024]):
            importer.import_batch(worker_db, ADMIN, job["job_id"], batch)
    for batch in batcher.close():
        importer.import_batch(worker_db, ADMIN, job["job_id"], batch)
    staged = time.perf_counter()
    result = importer.finish_import(worker_db, ADMIN, job["job_id"])
    return result, staged - started, time.perf_counter() - staged


def check(db: DatabaseHandle, plan: Plan, result: dict[str, Any]) -> int:
    """The import did exactly what the plan says; returns the duplicate lines it found."""
    problems = []
    if result["status"] != "done":
        problems.append(f"status {result['status']}")
    if result["created"] != plan.creates:
        problems.append(f"created {result['created']}, expected {plan.creates}")
    if result["updated"] != len(plan.updates):
        problems.append(f"updated {result['updated']}, expected {len(plan.updates)}")
    by_line: dict[int, list[dict]] = {}
    for e in result["errors"]:
        by_line.setdefault(e["line"], []).append(e)
    unexpected = sorted(set(by_line) - set(plan.duplicates))
    missed = sorted(set(plan.duplicates) - set(by_line))
    wrong_field = sorted(
        line
        for line, fld in plan.duplicates.items()
        if line in by_line and fld not in {e["field"] for e in by_line[line]}
    )
    if unexpected:
        problems.append(
            f"{len(unexpected)} rows flagged that were not planted, e.g. {by_line[unexpected[0]]}"
        )
    if missed:
        line = missed[0]
        problems.append(
            f"{len(missed)} planted duplicates not found, e.g. line {line} "
            f"({plan.duplicates[line]}: {plan.rows[line - 2][plan.duplicates[line]]!r})"
        )
    if wrong_field:
        problems.append(
            f"{len(wrong_field)} duplicates reported on another field, e.g. {by_line[wrong_field[0]]}"
        )
    with db.read() as s:
        count = s.execute(select(func.count()).select_from(m.customers)).scalar_one()
    if count != len(plan.existing) + plan.creates:
        problems.append(f"{count} customers in the database, expected {len(plan.existing) + plan.creates}")
    if problems:
        raise BenchFailure("; ".join(problems))
    return len(by_line)


def run(url: str, plan: Plan, data: bytes) -> dict[str, float]:
    db = DatabaseHandle("customers", m.metadata, url)
    db.create_all()
    try:
        seed_existing(db, plan.existing)
        result, t_stage, t_finish = import_csv(db, data)
        found = check(db, plan, result)
    finally:
        db.dispose()
    rows = len(plan.rows)
    return {
        "stage_s": t_stage,
        "finish_s": t_finish,
        "rows_per_s": rows / (t_stage + t_finish),
        "duplicates_found": found,
        "peak_mib": peak_rss_mib(),
    }


UNITS = {"stage_s": "s", "finish_s": "s", "rows_per_s": "rows/s", "duplicates_found": "", "peak_mib": "MiB"}


@scenario("customers.import", "CSV import of customers (10k quick / 100k full) with planted duplicates")
def bench_import(ctx: Context) -> None:
    n = ctx.size(quick=10_000, full=100_000)
    repeat = ctx.size(quick=ctx.repeat, full=3)
    plan = make_plan(n, n // 10, seed=1)
    data = csv_bytes(plan.rows)
    ctx.log(
        f"{n} rows ({len(data) / 2**20:.1f} MiB), {len(plan.existing)} existing customers, "
        f"{len(plan.duplicates)} planted duplicates, {len(plan.updates)} updates"
    )
    samples: dict[str, list[float]] = {}
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as tmp:
            for k, v in run(f"sqlite:///{tmp}/customers.db", plan, data).items():
                samples.setdefault(k, []).append(v)
    ctx.record(
        f"{n:,} rows, SQLite",
        samples,
        UNITS,
        note=f"{len(plan.existing):,} existing customers, {len(plan.duplicates):,} planted duplicates "
        f"({IN_FILE_SHARE:.0%} in the file, {EXISTING_SHARE:.0%} of existing), {len(plan.updates):,} updates; "
        "peak = the process so far, data generation included",
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--existing", type=int, default=None, help="customers already there (rows/10)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--pg", help="PostgreSQL server URL (a throwaway database is made on it)")
    args = parser.parse_args()
    existing = args.rows // 10 if args.existing is None else args.existing
    started = time.perf_counter()
    plan = make_plan(args.rows, existing, args.seed)
    data = csv_bytes(plan.rows)
    print(
        f"generated {args.rows} rows ({len(data) / 2**20:.1f} MiB CSV) and {existing} existing customers "
        f"in {time.perf_counter() - started:.1f} s: {len(plan.duplicates)} planted duplicates, "
        f"{len(plan.updates)} updates, {plan.creates} new customers expected"
    )
    if args.pg:
        url, drop = pg_database(args.pg)
        print(f"PostgreSQL ({url.rsplit('/', 1)[-1]})")
        try:
            figures = run(url, plan, data)
        finally:
            drop()
    else:
        with tempfile.TemporaryDirectory() as tmp:
            print(f"SQLite ({tmp}/customers.db)")
            figures = run(f"sqlite:///{tmp}/customers.db", plan, data)
    print(f"receive + stage {args.rows} rows (batches of 1000)  {figures['stage_s']:8.2f} s")
    print(f"finish (validate + apply)                {figures['finish_s']:8.2f} s")
    print(f"rows/s overall                           {figures['rows_per_s']:8.0f}")
    print(f"duplicates found (all planted)           {figures['duplicates_found']:8.0f}")
    print(f"peak RSS                                 {figures['peak_mib']:8.0f} MiB")


if __name__ == "__main__":
    main()
