"""PDF rendering rate of crm_common.pdf against plain fpdf2 (not a test; prints figures).

    .venv/bin/python bench/pdf_render.py [--documents 50] [--repeat 3] [--profile]

Renders N invoice-like documents (a bold title, key/values, a 10-row table; English, Chinese,
Turkish and Bulgarian text) in one process, two ways, alternating per repeat:

* ``naive``: a fresh ``fpdf.FPDF`` per document with ``add_font`` of the same font files
  (regular, bold, CJK) and ``set_fallback_fonts`` — what a service without ``crm_common.pdf``
  would do;
* ``document``: :class:`crm_common.pdf.Document` (parsed and pre-subset fonts reused).

The first ``document`` render (one-off font preparation per process) is timed separately.
Prints documents per second and milliseconds per document (median over the repeats) and the
speed-up. ``--profile`` prints the top of a cProfile of the ``document`` path instead.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "services" / "common"))

from crm_common import pdf  # noqa: E402

TITLE = "Invoice INV-2027-000012 — Фактура — 发票 — Fatura"
PAIRS = [
    ("Customer", "上海精密仪器有限公司"),
    ("Müşteri", "İstanbul Makine Sanayi A.Ş., Büyükdere Cd. 185, Şişli"),
    ("Клиент", "София Сервиз ЕООД, бул. „Витоша“ 15"),
    ("Issue date", "2027-01-15"),
    ("Due date", "2027-02-14"),
    ("Total", "1 234,56 EUR"),
]
HEADER = ["#", "Description", "Qty", "Unit price", "Net", "Tax"]
DESCRIPTIONS = [
    "Laser printer maintenance, monthly",
    "打印机维护服务（每月）",
    "Yazıcı bakım hizmeti — ğüşıöç",
    "Абонаментно обслужване на принтер",
    "Toner cartridge, black",
]
ROWS = [[str(i + 1), DESCRIPTIONS[i % len(DESCRIPTIONS)], "2", "45.00", "90.00", "18.00"] for i in range(10)]
WIDTHS = [8, 0, 14, 24, 24, 20]


def render_naive(fonts: pdf.FontSet) -> bytes:
    """A fresh FPDF with the font files added and a CJK fallback, then the same layout."""
    from fpdf import FPDF
    from fpdf.fonts import FontFace

    doc = FPDF(orientation="P", unit="mm", format="A4")
    doc.add_font("sans", "", str(fonts.regular))
    doc.add_font("sans", "B", str(fonts.bold or fonts.regular))
    if fonts.cjk is not None:
        doc.add_font("cjk", "", str(fonts.cjk))
        doc.set_fallback_fonts(["cjk"], exact_match=False)
    doc.set_margins(15, 15, 15)
    doc.add_page()
    doc.set_font("sans", "B", 16)
    doc.multi_cell(0, 8, TITLE, new_x="LMARGIN", new_y="NEXT")
    doc.set_font("sans", "", 10)
    with doc.table(col_widths=[45, doc.epw - 45], first_row_as_headings=False, line_height=5) as table:
        for key, value in PAIRS:
            row = table.row()
            row.cell(key, style=FontFace(emphasis="BOLD"))
            row.cell(value)
    doc.ln(2)
    rest = doc.epw - sum(WIDTHS)
    widths = [w or rest for w in WIDTHS]
    with doc.table(col_widths=widths, line_height=5) as table:
        table.row(HEADER)
        for cells in ROWS:
            table.row(cells)
    return bytes(doc.output())


def render_document(fonts: pdf.FontSet) -> bytes:
    """The same content through crm_common.pdf.Document."""
    doc = pdf.Document(title=TITLE, fonts=fonts, footer="INV-2027-000012")
    doc.title(TITLE)
    doc.key_values(PAIRS)
    doc.table(HEADER, ROWS, widths=WIDTHS)
    return doc.output()


def timed(render, fonts: pdf.FontSet, n: int) -> tuple[float, int]:
    started = time.perf_counter()
    size = 0
    for _ in range(n):
        size += len(render(fonts))
    return time.perf_counter() - started, size // n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--documents", type=int, default=50, help="documents per run and path")
    parser.add_argument("--repeat", type=int, default=3, help="alternating runs per path")
    parser.add_argument("--profile", action="store_true", help="cProfile the document path")
    args = parser.parse_args()

    fonts = pdf.discover_fonts()
    print(f"fonts: {fonts.regular.name}, {fonts.bold.name if fonts.bold else '-'}, "
          f"{fonts.cjk.name if fonts.cjk else '-'}")  # fmt: skip
    started = time.perf_counter()
    render_document(fonts)
    print(f"first document (parse / prepare fonts once per process): {time.perf_counter() - started:.2f} s")
    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(args.documents):
            render_document(fonts)
        profiler.disable()
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(35)
        return

    naive: list[float] = []
    ours: list[float] = []
    sizes: dict[str, int] = {}
    for _ in range(args.repeat):
        seconds, sizes["naive"] = timed(render_naive, fonts, args.documents)
        naive.append(seconds)
        seconds, sizes["document"] = timed(render_document, fonts, args.documents)
        ours.append(seconds)
    n = args.documents
    print(f"{args.documents} documents per run, median of {args.repeat} alternating runs")
    print(f"{'path':<10} {'docs/s':>8} {'ms/doc':>8} {'KiB/doc':>8}")
    for label, runs in (("naive", naive), ("document", ours)):
        median = statistics.median(runs)
        print(f"{label:<10} {n / median:8.2f} {median / n * 1000:8.1f} {sizes[label] / 1024:8.1f}")
    print(f"speed-up: {statistics.median(naive) / statistics.median(ours):.1f}x")


if __name__ == "__main__":
    main()
