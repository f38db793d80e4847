"""Invoice PDFs per second: the billing service's invoice through crm_common.pdf against the same
invoice drawn the naive fpdf2 way (not a test; prints figures).

    .venv/bin/python bench/pdf_render.py [--documents 20] [--repeat 3] [--profile]

Renders the invoice the billing service serves (:func:`billing.document.invoice_pdf`, the very
layout code behind ``GET /invoices/{id}/pdf``) for two invoices of 12 lines built from
:mod:`datagen` data:

* ``latin-cyrillic``: in Bulgarian for a Turkish customer (Cyrillic labels, Turkish names and
  addresses, English product names) — only the text fonts are drawn from;
* ``cjk``: in Chinese for a Chinese customer — the CJK fallback font is drawn from too.

Each two ways, alternating in the same process:

* ``document``: :class:`crm_common.pdf.Document` as the service uses it (fonts parsed once per
  process, pre-reduced to the characters CRM documents use);
* ``naive``: the same layout on a plain fpdf2 document that registers the full font files with
  ``add_font`` for every document and the CJK font as ``set_fallback_fonts`` — what a service
  without ``crm_common.pdf`` would do (:class:`NaiveDocument`: only the font set-up differs, the
  layout helpers are the same code).

Prints documents per second, milliseconds and KiB per document (median over the repeats), the
speed-up, and the one-off cost of the first ``document`` render in a process. ``--profile``
prints the top of a cProfile of the ``document`` path. ``make bench`` runs it as the
``pdf.render`` scenario.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import pstats
import random
import statistics
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import datagen
from harness import Context, scenario

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT / "services" / "billing") not in sys.path:
    sys.path.insert(0, str(ROOT / "services" / "billing"))

from billing import document as invoice_layout  # noqa: E402
from crm_common import pdf  # noqa: E402

COMPANY = "Harbor Print Ltd"
PRODUCTS = {
    "latin-cyrillic": [
        ("PRN-4021", "Лазерен принтер HP LaserJet M507 — наем"),
        ("SVC-0100", "Абонаментно обслужване, месечно"),
        ("TNR-0007", "Тонер касета, черна (CF289X)"),
        ("SVC-0200", "Bakım ziyareti — Çağlayan şubesi"),
        ("MFP-0330", "Multifunction printer A3 colour, rental"),
        ("PAP-0500", "Хартия A4, 80 г/м², кашон 5×500 л."),
    ],
    "cjk": [
        ("PRN-4021", "激光打印机 HP LaserJet M507 租赁"),
        ("SVC-0100", "打印机维护服务（每月）"),
        ("TNR-0007", "黑色硒鼓（CF289X）"),
        ("SVC-0200", "上门维修服务，含零部件更换"),
        ("MFP-0330", "A3彩色多功能一体机，月租"),
        ("PAP-0500", "A4复印纸，80克，5包/箱"),
    ],
}
CASES = {"latin-cyrillic": ("bg", "tr"), "cjk": ("zh", "zh")}  # document language, customer's


def invoice_view(case: str, lines: int = 12, seed: int = 1) -> dict[str, Any]:
    """An issued invoice as ``billing.invoices.get_invoice`` returns it (the fields the layout
    reads), its customer and texts from :mod:`datagen`."""
    language, customer_lang = CASES[case]
    rng = random.Random(seed)
    rows = []
    subtotal = tax = Decimal(0)
    for i in range(1, lines + 1):
        sku, description = PRODUCTS[case][(i - 1) % len(PRODUCTS[case])]
        quantity = Decimal(rng.choice((1, 2, 3, 5, 10)))
        price = Decimal(rng.randrange(500, 50_000)) / 100
        discount = Decimal(rng.choice((0, 0, 5, 10)))
        amount = (quantity * price * (100 - discount) / 100).quantize(Decimal("0.01"))
        line_tax = (amount * Decimal("0.20")).quantize(Decimal("0.01"))
        subtotal, tax = subtotal + amount, tax + line_tax
        rows.append(
            {"position": i, "description": description, "sku": sku, "period_start": "2027-01-01",
             "period_end": "2027-01-31", "quantity": str(quantity), "unit_price": f"{price:.2f}",
             "discount_percent": str(discount), "amount": f"{amount:.2f}", "tax_percent": "20",
             "tax_amount": f"{line_tax:.2f}"}
        )  # fmt: skip
    total = subtotal + tax
    return {
        "id": 12, "number": "INV-2027-000012", "status": "issued", "currency": "EUR", "language": language,
        "contract_number": "C-2027-000042", "period_start": "2027-01-01", "period_end": "2027-01-31",
        "issue_date": "2027-01-01", "due_date": "2027-01-31", "subtotal": f"{subtotal:.2f}",
        "tax": f"{tax:.2f}", "total": f"{total:.2f}", "paid": "0.00", "credited": "0.00",
        "balance": f"{total:.2f}", "notes": None, "lines": rows, "credit_notes": [],
        "customer": {"name": datagen.company_name(rng, customer_lang), "code": "C-000042",
                     "address": datagen.address(rng, customer_lang),
                     "tax_id": datagen.tax_id(rng, customer_lang), "language": customer_lang},
    }  # fmt: skip


class NaiveDocument(pdf.Document):
    """:class:`crm_common.pdf.Document`'s layout on a plain fpdf2 document: every document
    parses the full font files (``add_font``) and subsets them whole at ``output()``."""

    def __init__(
        self,
        title: str = "",
        author: str = "CRM",
        footer: str = "",
        fonts: pdf.FontSet | None = None,
        cache: pdf.FontCache | None = None,
        font_size: float = 10,
    ) -> None:
        fonts = fonts or pdf.discover_fonts()
        self.pdf = pdf._fpdf_class()(orientation="P", unit="mm", format="A4")  # for its footer
        self.pdf.footer_text = footer
        self.pdf.set_auto_page_break(True, margin=18)
        self.pdf.set_margins(15, 15, 15)
        if title:
            self.pdf.set_title(title)
        self.pdf.set_author(author)
        self.pdf.set_creation_date(dt.datetime.now(dt.UTC))
        self.pdf.add_font(pdf.FAMILY, "", str(fonts.regular))
        self.pdf.add_font(pdf.FAMILY, "B", str(fonts.bold or fonts.regular))
        if fonts.cjk is not None:
            self.pdf.add_font(pdf.CJK_FAMILY, "", str(fonts.cjk))
            self.pdf.set_fallback_fonts([pdf.CJK_FAMILY], exact_match=False)
        self.font_size = font_size
        self.pdf.add_page()
        self.pdf.set_font(pdf.FAMILY, "", font_size)


@contextmanager
def naive_documents() -> Iterator[None]:
    """While inside, the billing layout draws on :class:`NaiveDocument`."""
    original = invoice_layout.Document
    invoice_layout.Document = NaiveDocument
    try:
        yield
    finally:
        invoice_layout.Document = original


def render(view: dict[str, Any], naive: bool) -> bytes:
    language = invoice_layout.document_language(view)
    if naive:
        with naive_documents():
            return invoice_layout.invoice_pdf(view, language, COMPANY)
    return invoice_layout.invoice_pdf(view, language, COMPANY)


def pages(data: bytes) -> int:
    return data.count(b"/Type /Page") - data.count(b"/Type /Pages")


def timed(view: dict[str, Any], naive: bool, n: int) -> dict[str, float]:
    """Render ``n`` copies; documents per second, ms and KiB per document."""
    started = time.perf_counter()
    size = 0
    for _ in range(n):
        size += len(render(view, naive))
    seconds = time.perf_counter() - started
    return {"docs_per_s": n / seconds, "ms_per_doc": seconds / n * 1000, "kib_per_doc": size / n / 1024}


def check_same_layout(view: dict[str, Any]) -> None:
    """Both ways give a PDF of the same number of pages (the same layout code drew them)."""
    ours, theirs = pages(render(view, False)), pages(render(view, True))
    if ours != theirs or ours < 1:
        raise RuntimeError(f"document has {ours} pages, the naive rendering {theirs}")


def first_render_seconds(view: dict[str, Any]) -> float:
    """The first ``document`` render of the process (parses the prepared fonts once)."""
    started = time.perf_counter()
    render(view, False)
    return time.perf_counter() - started


UNITS = {"docs_per_s": "docs/s", "ms_per_doc": "ms", "kib_per_doc": "KiB"}


@scenario("pdf.render", "invoice PDFs/s, Latin/Cyrillic and CJK: crm_common.pdf vs naive fpdf2")
def bench_pdf(ctx: Context) -> None:
    n = ctx.size(quick=10, full=20)
    views = {case: invoice_view(case) for case in CASES}
    first = first_render_seconds(views["cjk"])
    for case, view in views.items():
        check_same_layout(view)
        runs = ctx.alternate(
            {"document": lambda v=view: timed(v, False, n), "naive": lambda v=view: timed(v, True, n)},
            warm_up=False,  # check_same_layout rendered both ways already
        )
        ctx.record_comparison(
            f"invoice {case} ({view['language']})",
            runs,
            ("docs_per_s", "document", "naive"),
            UNITS,
            note=f"billing invoice of 12 lines, {n} documents per side and repeat, alternating",
        )
    ctx.record(
        "first document in a process",
        {"seconds": first},
        {"seconds": "s"},
        note="one-off: prepared fonts parsed once per process (reduced fonts made once per machine)",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--documents", type=int, default=20, help="documents per run and path")
    parser.add_argument("--repeat", type=int, default=3, help="alternating runs per path")
    parser.add_argument("--profile", action="store_true", help="cProfile the document path")
    args = parser.parse_args()

    fonts = pdf.discover_fonts()
    print(f"fonts: {fonts.regular.name}, {fonts.bold.name if fonts.bold else '-'}, "
          f"{fonts.cjk.name if fonts.cjk else '-'}")  # fmt: skip
    views = {case: invoice_view(case) for case in CASES}
    print(
        f"first document (parse the prepared fonts once per process): {first_render_seconds(views['cjk']):.2f} s"
    )
    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(args.documents):
            for view in views.values():
                render(view, False)
        profiler.disable()
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(35)
        return

    n = args.documents
    print(f"{n} documents per run, median of {args.repeat} alternating runs")
    print(f"{'invoice':<16} {'path':<10} {'docs/s':>8} {'ms/doc':>8} {'KiB/doc':>8}")
    for case, view in views.items():
        check_same_layout(view)
        runs: dict[str, list[dict[str, float]]] = {"naive": [], "document": []}
        for _ in range(args.repeat):
            for label in runs:
                runs[label].append(timed(view, label == "naive", n))

        def med(label: str, k: str, runs: dict[str, list[dict[str, float]]] = runs) -> float:
            return statistics.median(r[k] for r in runs[label])

        for label in runs:
            print(
                f"{case:<16} {label:<10} {med(label, 'docs_per_s'):8.2f} {med(label, 'ms_per_doc'):8.1f} "
                f"{med(label, 'kib_per_doc'):8.1f}"
            )
        print(f"{case:<16} speed-up: {med('document', 'docs_per_s') / med('naive', 'docs_per_s'):.1f}x")


if __name__ == "__main__":
    main()
