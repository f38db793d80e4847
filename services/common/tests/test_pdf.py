"""crm_common.pdf: Chinese, Turkish, Bulgarian and English text ends up in the PDF as glyphs of
embedded fonts (read back from the PDF's embedded font programs), fonts are found through
CRM_FONT_DIR, and the font cache never lets one document's subsetting damage the next."""

from __future__ import annotations

import io
import re
import zlib
from pathlib import Path

import pytest
from crm_common import pdf
from fontTools.ttLib import TTFont

ZH = "审批通过，请尽快发货。王伟"
TR = "Ayşe Yılmaz: İyi görünüyor, ĞÜŞİÖÇ ğüşıöç"
BG = "Борис: Отхвърлено — цената е твърде висока, Щ Ъ Ю Я"
EN = "Approved by finance"


def embedded_fonts(data: bytes) -> dict[str, set[int]]:
    """The font programs embedded in a PDF: full name → code points their cmap maps."""
    fonts: dict[str, set[int]] = {}
    for match in re.finditer(rb"stream\r?\n", data):
        start = match.end()
        raw = data[start : data.find(b"endstream", start)]
        try:
            body = zlib.decompress(raw)
        except zlib.error:
            body = raw
        if body[:4] not in (b"\x00\x01\x00\x00", b"true", b"OTTO"):
            continue
        font = TTFont(io.BytesIO(body))
        name = font["name"].getBestFullName()
        fonts.setdefault(name, set()).update((font.getBestCmap() or {}).keys())
    return fonts


def chars(text: str) -> set[int]:
    return {ord(c) for c in text if not c.isspace()}


def test_zh_tr_bg_en_text_is_drawn_with_embedded_glyphs():
    doc = pdf.Document(title="Approval sheet")
    doc.title("Onay formu — Лист за одобрение — 审批单")
    doc.key_values([("Summary", EN), ("Submitter", "王伟")])
    doc.table(["Step", "User", "Comment"], [["1", "Ayşe", TR], ["2", "Борис", BG], ["3", "王伟", ZH]])
    data = doc.output()

    assert data.startswith(b"%PDF-")
    fonts = embedded_fonts(data)
    dejavu = set().union(*(cps for name, cps in fonts.items() if "DejaVu" in name))
    everything = set().union(*fonts.values())
    # Latin, Turkish and Cyrillic from DejaVu; every Chinese character from the CJK fallback
    assert chars(TR + BG + EN) <= dejavu
    assert chars(ZH) - {ord("，"), ord("。")} <= everything - dejavu
    assert chars(ZH + TR + BG + EN) <= everything
    # only what the document uses is embedded (subsets), not whole fonts
    assert all(len(cps) < 500 for cps in fonts.values())


def test_each_document_gets_a_fresh_copy_of_the_cached_fonts():
    cache = pdf.FontCache()
    first = pdf.Document(cache=cache)
    first.paragraph("同意 Ayşe")
    first_fonts = embedded_fonts(first.output())
    # the second document uses characters the first did not: had subsetting of the first
    # modified a shared font, they would be missing from the second
    second = pdf.Document(cache=cache)
    second.paragraph("发货 Щастие ğ")
    second_fonts = embedded_fonts(second.output())

    assert chars("同意 Ayşe") <= set().union(*first_fonts.values())
    assert chars("发货 Щастие ğ") <= set().union(*second_fonts.values())
    assert ord("发") not in set().union(*first_fonts.values())
    assert len(cache._templates) == 3  # regular, bold, CJK parsed once for both documents


def test_fonts_are_found_through_crm_font_dir_first(tmp_path, monkeypatch):
    system = pdf.find_font(["DejaVuSans.ttf"])
    assert system is not None, pdf.INSTALL_HINT
    own = tmp_path / "fonts" / "nested"
    own.mkdir(parents=True)
    (own / "DejaVuSans.ttf").write_bytes(system.read_bytes())
    monkeypatch.setenv(pdf.FONT_DIR_ENV, str(tmp_path / "fonts"))

    fonts = pdf.discover_fonts(refresh=True)
    assert fonts.regular == own / "DejaVuSans.ttf"
    data = pdf.Document(fonts=fonts, cache=pdf.FontCache()).output()
    assert data.startswith(b"%PDF-")


def test_a_missing_text_font_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv(pdf.FONT_DIR_ENV, str(tmp_path))
    monkeypatch.setattr(pdf, "SYSTEM_FONT_DIRS", ())
    with pytest.raises(pdf.FontsMissing, match="fonts-dejavu-core"):
        pdf.discover_fonts(refresh=True)
    monkeypatch.undo()
    assert isinstance(pdf.discover_fonts(refresh=True).regular, Path)
