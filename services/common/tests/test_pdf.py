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


def font_programs(data: bytes) -> list[tuple[str, set[int]]]:
    """Each font program embedded in a PDF: (full name, code points its cmap maps)."""
    programs: list[tuple[str, set[int]]] = []
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
        programs.append((font["name"].getBestFullName(), set((font.getBestCmap() or {}).keys())))
    return programs


def embedded_fonts(data: bytes) -> dict[str, set[int]]:
    """The font programs embedded in a PDF: full name → code points their cmap maps."""
    fonts: dict[str, set[int]] = {}
    for name, cps in font_programs(data):
        fonts.setdefault(name, set()).update(cps)
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
    data = pdf.Document(fonts=fonts, cache=pdf.FontCache(cache_dir=tmp_path / "prepared")).output()
    assert data.startswith(b"%PDF-")


def test_a_missing_text_font_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv(pdf.FONT_DIR_ENV, str(tmp_path))
    monkeypatch.setattr(pdf, "SYSTEM_FONT_DIRS", ())
    with pytest.raises(pdf.FontsMissing, match="fonts-dejavu-core"):
        pdf.discover_fonts(refresh=True)
    monkeypatch.undo()
    assert isinstance(pdf.discover_fonts(refresh=True).regular, Path)


# -- prepared (reduced) fonts ----------------------------------------------------------

RARE_CJK = "鑫堃龘"  # in Droid Sans Fallback, outside GB 2312 level 1
RARE_TEXT = "∑ █ ♥"  # in DejaVu Sans, outside the prepared text characters


def pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


@pytest.fixture(scope="module")
def prepared_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("prepared")


@pytest.fixture
def cache(prepared_dir):
    """A fresh font cache (nothing parsed) whose prepared fonts are made once for the module."""
    return pdf.FontCache(cache_dir=prepared_dir)


def test_prepared_sets_hold_what_crm_documents_need():
    for text in (TR, BG, EN, "€ ₺ № – „“ … ΑΒΓ ßéñ"):
        assert chars(text) <= pdf.PREPARED_CHARS, text
    assert chars("，。、：（）「」") <= pdf.PREPARED_CJK_CHARS
    assert chars(ZH.replace("，", "").replace("。", "")) <= pdf.PREPARED_CJK_CHARS
    assert len(pdf.PREPARED_CJK_CHARS & set(range(0x4E00, 0xA000))) == 3755  # GB 2312 level 1
    assert not chars(RARE_CJK) & pdf.PREPARED_CJK_CHARS
    assert not chars(RARE_TEXT) & pdf.PREPARED_CHARS


def test_text_of_every_script_comes_back_out_of_the_pdf(cache):
    doc = pdf.Document(title="Invoice", cache=cache)
    doc.title("Fatura — Фактура — 发票")
    doc.key_values([("Müşteri", "İstanbul Makine Sanayi A.Ş."), ("Клиент", "София Сервиз ЕООД")])
    doc.table(["#", "Text"], [["1", ZH], ["2", TR], ["3", BG], ["4", EN]])
    data = doc.output()

    text = pdf_text(data)
    for expected in (ZH, TR, BG, EN, "İstanbul Makine Sanayi A.Ş.", "София Сервиз ЕООД", "发票"):
        assert expected in text, expected
    programs = font_programs(data)
    # only the prepared fonts: no full font was needed
    assert len(programs) == 3, [name for name, _ in programs]
    assert all(cps - {0} <= pdf.PREPARED_CHARS | pdf.PREPARED_CJK_CHARS for _, cps in programs)
    assert all(path.parent == cache.cache_dir for path in cache._templates)


def test_a_character_outside_the_prepared_fonts_is_drawn_from_the_full_font(cache):
    doc = pdf.Document(cache=cache)
    doc.paragraph(f"北京{RARE_CJK}科技有限公司 {RARE_TEXT} Ayşe")
    doc.title(f"Bold {RARE_TEXT} {RARE_CJK}")
    data = doc.output()

    text = pdf_text(data)
    assert f"北京{RARE_CJK}科技有限公司" in text
    assert text.count("∑") == 2 and text.count("♥") == 2 and text.count("鑫") == 2
    programs = font_programs(data)
    # prepared regular, bold, CJK + the full regular, bold and CJK fonts for the rare characters
    assert len(programs) == 6, [name for name, _ in programs]
    full = [cps for _, cps in programs if cps & (chars(RARE_CJK) | chars(RARE_TEXT))]
    assert len(full) == 3 and chars(RARE_CJK + RARE_TEXT) <= set().union(*full)

    # the next document without rare characters embeds no full font again
    plain = pdf.Document(cache=cache)
    plain.paragraph("北京科技有限公司 Ayşe")
    assert len(font_programs(plain.output())) == 3


def test_prepared_fonts_are_made_once_and_remade_when_the_font_file_changes(tmp_path):
    system = pdf.find_font(["DejaVuSans.ttf"])
    assert system is not None, pdf.INSTALL_HINT
    source = tmp_path / "DejaVuSans.ttf"
    source.write_bytes(system.read_bytes())
    cache_dir = tmp_path / "prepared"

    first = pdf.prepared_font(source, cache_dir)
    assert first.parent == cache_dir and first.stat().st_size < source.stat().st_size / 3
    made = first.stat().st_mtime_ns
    again = pdf.prepared_font(source, cache_dir)  # another process: the file is reused
    assert again == first and again.stat().st_mtime_ns == made
    assert (
        set(TTFont(str(first)).getBestCmap()) == set(TTFont(str(source)).getBestCmap()) & pdf.PREPARED_CHARS
    )

    source.write_bytes(system.read_bytes() + b"\0")  # another version of the font file
    changed = pdf.prepared_font(source, cache_dir)
    assert changed != first and changed.is_file()
    assert pdf.prepared_font(source, cache_dir, pdf.PREPARED_CJK_CHARS) not in (first, changed)


def test_an_unwritable_cache_falls_back_to_the_full_fonts(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    cache = pdf.FontCache(cache_dir=blocker / "prepared")
    fonts = pdf.discover_fonts()
    assert cache.prepared(fonts.regular) == fonts.regular
    doc = pdf.Document(cache=cache)
    doc.paragraph(f"{TR} {ZH} {RARE_TEXT}")
    text = pdf_text(doc.output())
    assert TR in text and ZH in text and "∑" in text
