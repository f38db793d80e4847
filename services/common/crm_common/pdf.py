"""Shared PDF rendering (fpdf2) with embedded Unicode fonts: approval sheets, contracts, invoices.

    from crm_common import pdf

    doc = pdf.Document(title="Approval sheet #12")   # fonts found, embedded, fallbacks set
    doc.title("Approval sheet")
    doc.key_values([("Document", "contract 42"), ("Amount", "1250.00 EUR")])
    doc.table(["Step", "User", "Comment"], rows, widths=[30, 40, 0])
    data: bytes = doc.output()

A service never lays out a document in its own process: it calls
``render_off_hub(layout_function, *plain_data)``, which runs the function in a document worker
process (:mod:`crm_common.pdf_pool`; a worker's font cache lives as long as the worker).

Fonts. The text font is DejaVu Sans (Latin incl. Turkish, Cyrillic incl. Bulgarian, Greek); a CJK
font (Droid Sans Fallback or Noto Sans CJK) is registered as a per-glyph fallback (fpdf2's
``set_fallback_fonts``), so a line mixing Turkish, Bulgarian and Chinese renders every glyph from a
font that has it, without text shaping. Fonts are searched in ``CRM_FONT_DIR`` (a directory, searched
recursively) first, then in the system font directories. On Debian:
``apt-get install fonts-dejavu-core fonts-droid-fallback`` (``deploy/local/ensure_fonts.sh``).
A missing text font raises :class:`FontsMissing` with that hint; a missing CJK font only logs a
warning (CJK characters would then be missing from the document).

Speed. fontTools' subsetting at ``output()`` dominates a document's cost and grows with the size of
the font it subsets (DejaVu Sans: ~6,000 glyphs, Droid Sans Fallback: ~30,000 glyphs with tables
read in full). So each font is first reduced once to the characters CRM documents use
(:data:`PREPARED_CHARS`: Latin incl. Turkish, Greek, Cyrillic incl. Bulgarian, punctuation,
currency and letterlike symbols; :data:`PREPARED_CJK_CHARS`: CJK punctuation, kana, full-width
forms and the 3,755 common hanzi of GB 2312 level 1) and without the layout tables fpdf2 drops anyway (:func:`prepared_font`; stored
under ``$CRM_DATA_DIR/font-cache`` or the temp directory, keyed by the file's size, mtime and
SHA-256). Documents draw with these small fonts; a character outside them is drawn from the full
font, registered in that document only when such a character occurs (so only then embedded).

Font cache. Parsing a font (character widths, glyph ids) costs up to ~0.3 s, so each font file is
parsed once per process (:class:`FontCache`). fontTools' subsetting at ``output()`` modifies the
parsed font in place, so a document never shares it: each document gets a fresh copy of the
cached metrics and its own freshly opened (lazily loaded) fontTools font.
"""

from __future__ import annotations

import copy
import datetime as dt
import functools
import hashlib
import io
import logging
import os
import tempfile
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
FULL_FAMILY = "crm-sans-full"
CJK_FULL_FAMILY = "crm-cjk-full"
FONT_CACHE_ENV = "CRM_DATA_DIR"


def _gb2312_level1() -> str:
    """The 3,755 common hanzi of GB 2312 level 1 (rows 16-55), from Python's codec."""
    chars = []
    for row in range(0xB0, 0xD8):
        for cell in range(0xA1, 0xFF):
            try:
                chars.append(bytes((row, cell)).decode("gb2312"))
            except UnicodeDecodeError:  # row 55 ends at 0xF9
                continue
    return "".join(chars)


_TEXT_RANGES = (
    (0x0020, 0x007E),  # Basic Latin
    (0x00A0, 0x024F),  # Latin-1, Latin Extended-A (Turkish ğ ş ı İ) and -B
    (0x02B0, 0x036F),  # spacing modifiers, combining marks (decomposed İ, accents)
    (0x0370, 0x03FF),  # Greek
    (0x0400, 0x052F),  # Cyrillic (Bulgarian) and its supplement
    (0x2000, 0x206F),  # general punctuation (– — ‘ ’ “ ” „ … •)
    (0x20A0, 0x20CF),  # currency symbols (€ ₺ ₽ ₹)
    (0x2100, 0x214F),  # letterlike symbols (№ ™ ℃)
    (0x2190, 0x2193),  # ← ↑ → ↓
    (0x2212, 0x2212),  # minus sign
)
_CJK_RANGES = (
    (0x3000, 0x30FF),  # CJK symbols and punctuation (、。「」), kana
    (0xFF00, 0xFFEF),  # half- and full-width forms (，：（）)
)
# what the text fonts (DejaVu) are reduced to
PREPARED_CHARS: frozenset[int] = frozenset(cp for lo, hi in _TEXT_RANGES for cp in range(lo, hi + 1))
# what the CJK font is reduced to (Latin, Cyrillic … come from the text font before it)
PREPARED_CJK_CHARS: frozenset[int] = frozenset(
    {cp for lo, hi in _CJK_RANGES for cp in range(lo, hi + 1)} | {ord(c) for c in _gb2312_level1()}
)
# part of the prepared file's name (with a digest of the characters): change it when the subset
# options change
PREPARED_VERSION = "3"


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


def font_cache_dir() -> Path:
    """Where prepared fonts are kept: ``$CRM_DATA_DIR/font-cache``, else a per-user directory in
    the system's temp directory."""
    data_dir = os.environ.get(FONT_CACHE_ENV)
    if data_dir:
        return Path(data_dir).expanduser() / "font-cache"
    uid = os.getuid() if hasattr(os, "getuid") else "user"
    return Path(tempfile.gettempdir()) / f"crm-font-cache-{uid}"


def _file_digest(path: Path) -> str:
    stat = path.stat()
    digest = hashlib.sha256(f"{stat.st_size}:{stat.st_mtime_ns}:".encode())
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:20]


def _subset_options() -> Any:
    from fontTools import subset

    options = subset.Options(notdef_outline=True, recommended_glyphs=True)
    options.layout_features = []  # fpdf2 draws without shaping and drops GSUB/GPOS/GDEF anyway
    options.drop_tables += ["FFTM", "GDEF", "GPOS", "GSUB", "MATH", "hdmx", "meta", "morx", "kerx"]
    options.drop_tables += ["vhea", "vmtx", "VORG"]  # horizontal text only
    options.glyph_names = True
    options.hinting = False  # PDF viewers rasterise without TrueType hinting
    return options


def _chars_digest(chars: frozenset[int]) -> str:
    return hashlib.sha256(",".join(map(str, sorted(chars))).encode()).hexdigest()[:8]


def prepared_font(path: Path, cache_dir: Path | None = None, chars: frozenset[int] = PREPARED_CHARS) -> Path:
    """``path`` reduced to ``chars`` (a TrueType file), made once per machine, font file version
    and character set; fonts in collections or with CFF outlines are returned unchanged."""
    path = Path(path)
    if path.suffix.lower() not in (".ttf",):
        return path
    directory = cache_dir or font_cache_dir()
    name = f"{path.stem}-{_file_digest(path)}-{_chars_digest(chars)}-v{PREPARED_VERSION}.ttf"
    target = directory / name
    if target.is_file():
        return target
    from fontTools import subset, ttLib

    font = ttLib.TTFont(str(path), recalcTimestamp=False, lazy=True)
    if "glyf" not in font:
        return path
    cmap = font.getBestCmap() or {}
    wanted = [cp for cp in cmap if cp in chars]
    subsetter = subset.Subsetter(_subset_options())
    subsetter.populate(unicodes=wanted)
    subsetter.subset(font)
    # glyph names stored in the file (post format 2): without them fontTools derives every
    # name from the cmap each time a document opens the font
    font["post"].formatType = 2.0
    font["post"].extraNames = []
    font["post"].mapping = {}
    directory.mkdir(parents=True, exist_ok=True)
    partial = directory / f".{target.name}.{os.getpid()}.{threading.get_ident()}.tmp"
    font.save(str(partial))
    os.replace(partial, target)  # atomic: concurrent processes never read a partial file
    log.info("prepared %s: %d of %d characters → %s", path.name, len(wanted), len(cmap), target)
    return target


class FontCache:
    """Parsed fonts, once per process; :meth:`add_to` gives a document its own fresh copy.
    :meth:`prepared` gives the reduced version of a font file (see :func:`prepared_font`)."""

    def __init__(self, prepare: bool = True, cache_dir: Path | None = None) -> None:
        self._templates: dict[Path, Any] = {}
        self._prepared: dict[tuple[Path, frozenset[int]], Path] = {}
        self._cmaps: dict[Path, frozenset[int]] = {}
        # prepared fonts are small: held in memory, so documents never read them from a cache
        # directory that may be cleaned meanwhile
        self._blobs: dict[Path, bytes] = {}
        self._lock = threading.Lock()
        self._prepare_lock = threading.Lock()
        self.prepare = prepare
        self.cache_dir = cache_dir

    def prepared(self, path: Path, chars: frozenset[int] = PREPARED_CHARS) -> Path:
        """The reduced font for ``path`` (``path`` itself when preparing is off or fails)."""
        if not self.prepare:
            return path
        with self._prepare_lock:
            result = self._prepared.get((path, chars))
            if result is None:
                try:
                    result = prepared_font(path, self.cache_dir, chars)
                    if result != path:
                        self._blobs[result] = result.read_bytes()
                except Exception:  # unwritable cache, unusual font: documents use the full font
                    log.warning("could not prepare a reduced copy of %s", path, exc_info=True)
                    result = path
                self._prepared[(path, chars)] = result
            return result

    def has_char(self, path: Path, char: str) -> bool:
        """Whether the font file maps ``char`` (its cmap is read once per process)."""
        with self._lock:
            cmap = self._cmaps.get(path)
        if cmap is None:
            from fontTools import ttLib

            font = ttLib.TTFont(str(path), lazy=True, fontNumber=0)
            cmap = frozenset(font.getBestCmap() or ())
            font.close()
            with self._lock:
                self._cmaps[path] = cmap
        return ord(char) in cmap

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
            font = self._fresh_copy(self._template(path), doc, fontkey, style, self._blobs.get(path))
        except Exception:  # an fpdf2 internal changed: parse the file for this document
            log.warning("font cache unusable with this fpdf2 version; parsing %s", path, exc_info=True)
            doc.add_font(family, style, str(path))
            return
        doc.fonts[fontkey] = font
        if font.is_cff and font.is_cid_keyed:
            doc._set_min_pdf_version("1.6")

    @staticmethod
    def _fresh_copy(template: Any, doc: Any, fontkey: str, style: str, blob: bytes | None = None) -> Any:
        from fontTools import ttLib
        from fpdf.fonts import SubsetMap, TextEmphasis

        font = copy.copy(template)
        font.i = len(doc.fonts) + 1
        font.fontkey = fontkey
        font.emphasis = TextEmphasis.coerce(style)
        # the part subsetting modifies: a fresh, lazily loaded fontTools font per document
        font.ttfont = ttLib.TTFont(
            template.ttffile if blob is None else io.BytesIO(blob),
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
            self._cmaps.clear()
        with self._prepare_lock:
            self._prepared.clear()
            self._blobs.clear()


font_cache = FontCache()


# --------------------------------------------------------------------------------------
# Documents
# --------------------------------------------------------------------------------------


@functools.cache
def _fpdf_class() -> type:
    from fpdf import FPDF
    from fpdf.fonts import TextEmphasis

    class _Fpdf(FPDF):
        footer_text: str = ""
        # (family, style, font file, cache): full fonts behind the prepared ones, added on demand
        full_fonts: tuple[tuple[str, str, Path, FontCache], ...] = ()

        def get_fallback_font(self, char: str, style: str = "") -> str | None:
            found = super().get_fallback_font(char, style)
            if not self.full_fonts:
                return found
            wanted = "B" if "B" in style else ""
            if found is not None and self.fonts[found].emphasis == TextEmphasis.coerce(style):
                return found
            # not in a prepared font of this style: register the full font that has it (so it is
            # embedded only in documents that use such a character), the same style first
            for family, font_style, path, cache in sorted(self.full_fonts, key=lambda f: f[1] != wanted):
                fontkey = f"{family.lower()}{font_style.upper()}"
                if fontkey in self.fonts or (found is not None and font_style != wanted):
                    continue
                if cache.has_char(path, char):
                    cache.add_to(self, family, font_style, path)
                    self._fallback_font_ids.append(fontkey)
                    return super().get_fallback_font(char, style)
            return found

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
        bold = fonts.bold or fonts.regular
        # the prepared (reduced) fonts draw; each full font stands behind its prepared one
        full: list[tuple[str, str, Path, FontCache]] = []
        for style, path in (("", fonts.regular), ("B", bold)):
            prepared = cache.prepared(path)
            cache.add_to(self.pdf, FAMILY, style, prepared)
            if prepared != path:
                full.append((FULL_FAMILY, style, path, cache))
        fallbacks = []
        if fonts.cjk is not None:
            prepared = cache.prepared(fonts.cjk, PREPARED_CJK_CHARS)
            cache.add_to(self.pdf, CJK_FAMILY, "", prepared)
            fallbacks.append(CJK_FAMILY)
            if prepared != fonts.cjk:
                full.append((CJK_FULL_FAMILY, "", fonts.cjk, cache))
        self.pdf.full_fonts = tuple(full)
        if not fallbacks and self.pdf.full_fonts:
            # fpdf2 looks for fallbacks only when there are some: without a CJK font, the text
            # family itself stands first, so a character outside it still reaches the full font
            fallbacks.append(FAMILY)
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
        rows = [piece for row in rows for piece in self._fit_row(row, col_widths)]
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

    def _wrapped(self, text: str, width: float) -> list[str]:
        """``text`` as the lines it wraps to in a cell ``width`` mm wide (an unbroken word longer
        than the width is cut between characters)."""
        lines = self.pdf.multi_cell(
            max(width - 2 * self.pdf.c_margin, 2.0),
            self.font_size * 0.5,
            text,
            dry_run=True,
            output="LINES",
            wrapmode="WORD",
        )
        return list(lines) or [""]

    def _fit_row(self, row: Sequence[str], col_widths: Sequence[float]) -> list[list[str]]:
        """A row whose cells fit on one page, or the same row split over several (continued
        text in the following rows): fpdf2 cannot draw a row taller than a page."""
        max_lines = max(1, int(self.pdf.eph * 0.6 / (self.font_size * 0.5)))
        if sum(len(c) for c in row) < 400:  # cannot fill a page in any column width used
            return [list(row)]
        wrapped = [self._wrapped(c, w) if c else [""] for c, w in zip(row, col_widths, strict=False)]
        pieces = max(1, -(-max(len(w) for w in wrapped) // max_lines))
        if pieces == 1:
            return [list(row)]
        return [["\n".join(w[i * max_lines : (i + 1) * max_lines]) for w in wrapped] for i in range(pieces)]

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
    "font_cache_dir",
    "font_dirs",
    "prepared_font",
    "render_off_hub",
]


def render_off_hub(render: Any, *args: Any, **kwargs: Any) -> Any:
    """``render(*args, **kwargs)`` (a document layout ending in ``output()``) in a document worker
    process (:mod:`crm_common.pdf_pool`), never in the service's process: font subsetting neither
    stops the service's other workers nor touches its (green) locks. ``render`` must be a
    module-level function and its arguments picklable (plain data: dicts, strings, decimals,
    dates). A worker that dies or overruns ``CRM_PDF_TIMEOUT_SECONDS`` gives
    :class:`~crm_common.errors.Unavailable` (HTTP 503); ``render``'s own exceptions come through."""
    from .pdf_pool import render as render_in_worker

    return render_in_worker(render, *args, **kwargs)
