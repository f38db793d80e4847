"""Shared PDF rendering (fpdf2) with embedded Unicode fonts: approval sheets, contracts, invoices.

    from crm_common import pdf

    doc = pdf.Document(title="Approval sheet #12")   # fonts found, embedded, fallbacks set
    doc.title("Approval sheet")
    doc.key_values([("Document", "contract 42"), ("Amount", "1250.00 EUR")])
    doc.table(["Step", "User", "Comment"], rows, widths=[30, 40, 0])
    data: bytes = doc.output()

Fonts. The text font is DejaVu Sans (Latin incl. Turkish, Cyrillic incl. Bulgarian, Greek); a CJK
font (Droid Sans Fallback or Noto Sans CJK) is registered as a per-glyph fallback (fpdf2's
``set_fallback_fonts``), so a line mixing Turkish, Bulgarian and Chinese renders every glyph from a
font that has it, without text shaping. Fonts are searched in ``CRM_FONT_DIR`` (a directory, searched
recursively) first, then in the system font directories. On Debian:
``apt-get install fonts-dejavu-core fonts-droid-fallback`` (``deploy/local/ensure_fonts.sh``).
A missing text font raises :class:`FontsMissing` with that hint; a missing CJK font only logs a
warning (CJK characters would then be missing from the document).

Font cache. Parsing a font (character widths, glyph ids of ~30 000 CJK characters) costs ~0.3 s,
so each font file is parsed once per process (:class:`FontCache`). fontTools' subsetting at
``output()`` modifies the parsed font in place, so a document never shares it: each document gets a
fresh copy of the cached metrics and its own freshly opened (lazily loaded) fontTools font.
"""

from __future__ import annotations

import copy
import datetime as dt
import logging
import os
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

FONT_DIR_ENV = "CRM_FONT_DIR"
SYSTEM_FONT_DIRS = (
    "/usr/share/fonts",
    "/usr/local/share/fonts",
    "~/.local/share/fonts",
    "~/.fonts",
    "/Library/Fonts",
    "/System/Library/Fonts",
    "C:/Windows/Fonts",
)

# Font roles → file names, best first.
FONT_FILES: dict[str, tuple[str, ...]] = {
    "regular": ("DejaVuSans.ttf",),
    "bold": ("DejaVuSans-Bold.ttf",),
    "cjk": (
        "DroidSansFallbackFull.ttf",
        "DroidSansFallback.ttf",
        "NotoSansCJKsc-Regular.otf",
        "NotoSansCJK-Regular.ttc",
        "NotoSansSC-Regular.otf",
        "NotoSansSC-Regular.ttf",
        "wqy-microhei.ttc",
    ),
}
INSTALL_HINT = (
    "install the fonts (Debian: apt-get install fonts-dejavu-core fonts-droid-fallback, "
    "or run deploy/local/ensure_fonts.sh) or point CRM_FONT_DIR at a directory holding "
    "DejaVuSans.ttf, DejaVuSans-Bold.ttf and a CJK font (DroidSansFallbackFull.ttf / Noto Sans CJK)"
)

FAMILY = "crm-sans"
CJK_FAMILY = "crm-cjk"


class FontsMissing(RuntimeError):
    """The text font is not installed; the message says how to install it."""


def font_dirs() -> list[Path]:
    dirs: list[Path] = []
    configured = os.environ.get(FONT_DIR_ENV)
    if configured:
        dirs.extend(Path(p).expanduser() for p in configured.split(os.pathsep) if p)
    dirs.extend(Path(p).expanduser() for p in SYSTEM_FONT_DIRS)
    return [d for d in dirs if d.is_dir()]


def find_font(names: Iterable[str], dirs: Sequence[Path] | None = None) -> Path | None:
    """The first of ``names`` found in the font directories (``CRM_FONT_DIR`` first), by name
    preference, then directory order."""
    dirs = font_dirs() if dirs is None else list(dirs)
    wanted = list(names)
    found: dict[str, Path] = {}
    for directory in dirs:
        for root, _subdirs, files in os.walk(directory):
            for name in files:
                if name in wanted and name not in found:
                    found[name] = Path(root) / name
        if wanted and wanted[0] in found:
            break
    for name in wanted:
        if name in found:
            return found[name]
    return None


@dataclass(frozen=True)
class FontSet:
    regular: Path
    bold: Path | None
    cjk: Path | None


_fontset: FontSet | None = None
_fontset_key: str | None = None
_lock = threading.Lock()


def discover_fonts(refresh: bool = False) -> FontSet:
    """The fonts to use (cached per ``CRM_FONT_DIR`` value); :class:`FontsMissing` without a text
    font."""
    global _fontset, _fontset_key
    key = os.environ.get(FONT_DIR_ENV, "")
    with _lock:
        if _fontset is not None and _fontset_key == key and not refresh:
            return _fontset
        dirs = font_dirs()
        regular = find_font(FONT_FILES["regular"], dirs)
        if regular is None:
            raise FontsMissing(f"No Unicode text font (DejaVu Sans) found: {INSTALL_HINT}")
        bold = find_font(FONT_FILES["bold"], dirs)
        cjk = find_font(FONT_FILES["cjk"], dirs)
        if cjk is None:
            log.warning("No CJK font found; Chinese text will be missing from PDFs: %s", INSTALL_HINT)
        _fontset, _fontset_key = FontSet(regular, bold, cjk), key
        return _fontset


class FontCache:
    """Parsed fonts, once per process; :meth:`add_to` gives a document its own fresh copy."""

    def __init__(self) -> None:
        self._templates: dict[Path, Any] = {}
        self._lock = threading.Lock()

    def _template(self, path: Path) -> Any:
        with self._lock:
            template = self._templates.get(path)
            if template is None:
                from fpdf import FPDF

                scratch = FPDF()
                scratch.add_font("template", "", str(path))
                template = scratch.fonts["template"]
                self._templates[path] = template
            return template

    def add_to(self, doc: Any, family: str, style: str, path: Path) -> None:
        """Register ``path`` as ``family``/``style`` in the FPDF ``doc`` from the cache."""
        fontkey = f"{family.lower()}{style.upper()}"
        if fontkey in doc.fonts:
            return
        try:
            font = self._fresh_copy(self._template(path), doc, fontkey, style)
        except Exception:  # an fpdf2 internal changed: parse the file for this document
            log.warning("font cache unusable with this fpdf2 version; parsing %s", path, exc_info=True)
            doc.add_font(family, style, str(path))
            return
        doc.fonts[fontkey] = font
        if font.is_cff and font.is_cid_keyed:
            doc._set_min_pdf_version("1.6")

    @staticmethod
    def _fresh_copy(template: Any, doc: Any, fontkey: str, style: str) -> Any:
        from fontTools import ttLib
        from fpdf.fonts import SubsetMap, TextEmphasis

        font = copy.copy(template)
        font.i = len(doc.fonts) + 1
        font.fontkey = fontkey
        font.emphasis = TextEmphasis.coerce(style)
        # the part subsetting modifies: a fresh, lazily loaded fontTools font per document
        font.ttfont = ttLib.TTFont(
            template.ttffile,
            recalcTimestamp=False,
            fontNumber=template.collection_font_number,
            lazy=True,
        )
        font.cw = copy.copy(template.cw)  # a defaultdict: lookups of unknown chars insert
        font.glyph_ids = dict(template.glyph_ids)
        font.missing_glyphs = []
        font.biggest_size_pt = 0
        font._hbfont = None
        font.color_font = None
        font.subset = SubsetMap(font)
        return font

    def clear(self) -> None:
        with self._lock:
            self._templates.clear()


font_cache = FontCache()


# --------------------------------------------------------------------------------------
# Documents
# --------------------------------------------------------------------------------------


def _fpdf_class() -> type:
    from fpdf import FPDF

    class _Fpdf(FPDF):
        footer_text: str = ""

        def footer(self) -> None:
            self.set_y(-12)
            self.set_font(FAMILY, "", 8)
            self.set_text_color(110, 110, 110)
            left = self.footer_text
            self.cell(0, 6, f"{left}    {self.page_no()}/{{nb}}".strip(), align="R")
            self.set_text_color(0, 0, 0)

    return _Fpdf


class Document:
    """An A4 document with the CRM fonts embedded and a few layout helpers."""

    def __init__(
        self,
        title: str = "",
        author: str = "CRM",
        footer: str = "",
        fonts: FontSet | None = None,
        cache: FontCache | None = None,
        font_size: float = 10,
    ) -> None:
        fonts = fonts or discover_fonts()
        cache = cache or font_cache
        self.pdf = _fpdf_class()(orientation="P", unit="mm", format="A4")
        self.pdf.footer_text = footer
        self.pdf.set_auto_page_break(True, margin=18)
        self.pdf.set_margins(15, 15, 15)
        if title:
            self.pdf.set_title(title)
        self.pdf.set_author(author)
        self.pdf.set_creation_date(dt.datetime.now(dt.UTC))
        cache.add_to(self.pdf, FAMILY, "", fonts.regular)
        cache.add_to(self.pdf, FAMILY, "B", fonts.bold or fonts.regular)
        fallbacks = []
        if fonts.cjk is not None:
            cache.add_to(self.pdf, CJK_FAMILY, "", fonts.cjk)
            fallbacks.append(CJK_FAMILY)
        if fallbacks:
            # exact_match=False: bold text falls back to the regular CJK face
            self.pdf.set_fallback_fonts(fallbacks, exact_match=False)
        self.font_size = font_size
        self.pdf.add_page()
        self.pdf.set_font(FAMILY, "", font_size)

    # -- layout helpers ---------------------------------------------------------------
    @property
    def width(self) -> float:
        return self.pdf.epw

    def title(self, text: str, size: float = 16) -> None:
        self.pdf.set_font(FAMILY, "B", size)
        self.pdf.multi_cell(0, size * 0.5, text, new_x="LMARGIN", new_y="NEXT")
        self.pdf.ln(2)
        self.pdf.set_font(FAMILY, "", self.font_size)

    def heading(self, text: str, size: float = 12) -> None:
        self.pdf.ln(2)
        self.pdf.set_font(FAMILY, "B", size)
        self.pdf.multi_cell(0, size * 0.5, text, new_x="LMARGIN", new_y="NEXT")
        self.pdf.ln(1)
        self.pdf.set_font(FAMILY, "", self.font_size)

    def paragraph(self, text: str) -> None:
        self.pdf.set_font(FAMILY, "", self.font_size)
        self.pdf.multi_cell(0, self.font_size * 0.5, text, new_x="LMARGIN", new_y="NEXT")
        self.pdf.ln(1)

    def key_values(self, pairs: Iterable[tuple[str, Any]], key_width: float = 45) -> None:
        """A two-column table: bold keys, wrapping values."""
        self.table(
            None, [(k, "" if v is None else str(v)) for k, v in pairs], widths=[key_width, 0], bold_first=True
        )

    def table(
        self,
        header: Sequence[str] | None,
        rows: Iterable[Sequence[Any]],
        widths: Sequence[float] | None = None,
        bold_first: bool = False,
    ) -> None:
        """A bordered table whose cells wrap; ``widths`` in mm, a 0 takes the remaining width."""
        rows = [["" if c is None else str(c) for c in row] for row in rows]
        ncols = len(header) if header else (len(rows[0]) if rows else 0)
        if not ncols:
            return
        col_widths = self._widths(ncols, widths)
        first_col = ("B", "") if bold_first else None
        with self.pdf.table(
            col_widths=col_widths,
            width=sum(col_widths),
            align="LEFT",
            first_row_as_headings=bool(header),
            line_height=self.font_size * 0.5,
            text_align="LEFT",
        ) as table:
            if header:
                table.row([str(h) for h in header])
            for row in rows:
                r = table.row()
                for i, cell in enumerate(row):
                    if first_col and i == 0:
                        from fpdf.fonts import FontFace

                        r.cell(cell, style=FontFace(emphasis="BOLD"))
                    else:
                        r.cell(cell)
        self.pdf.ln(2)

    def _widths(self, ncols: int, widths: Sequence[float] | None) -> list[float]:
        if not widths:
            return [self.width / ncols] * ncols
        fixed = [float(w) for w in widths]
        free = [i for i, w in enumerate(fixed) if w <= 0]
        rest = max(self.width - sum(w for w in fixed if w > 0), 10.0)
        for i in free:
            fixed[i] = rest / len(free)
        return fixed

    def output(self) -> bytes:
        return bytes(self.pdf.output())


__all__ = [
    "Document",
    "FontCache",
    "FontSet",
    "FontsMissing",
    "discover_fonts",
    "find_font",
    "font_cache",
    "font_dirs",
]


def render_off_hub(render: Any, *args: Any, **kwargs: Any) -> Any:
    """Run ``render(*args, **kwargs)`` (a document layout ending in ``output()``) in a real OS
    thread when the process runs under eventlet, so the ~1 s of font subsetting of a document
    does not stop every other worker of the service meanwhile; a plain call otherwise."""
    try:
        from eventlet import patcher, tpool
    except ImportError:  # pragma: no cover - services always have eventlet
        return render(*args, **kwargs)
    if not patcher.is_monkey_patched("thread"):
        return render(*args, **kwargs)
    return tpool.execute(render, *args, **kwargs)
