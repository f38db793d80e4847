"""Unicode helpers: comparison keys that treat ``İstanbul`` and ``istanbul``, full-width and
half-width forms, and differently composed accents as the same text."""

from __future__ import annotations

import re
import unicodedata

_SPACE = re.compile(r"\s+")
_PUNCT_CATEGORIES = ("P", "S")


def fold(text: str | None) -> str:
    """A search key: NFKC (full-width → half-width, composed forms), case folded, with the
    Turkish dotted capital I (U+0130) and dotless i treated as plain i, combining marks kept
    only where they carry meaning (dot above is dropped), spaces collapsed."""
    if not text:
        return ""
    s = unicodedata.normalize("NFKC", text)
    s = s.replace("\u0130", "I").replace("\u0131", "i")
    s = s.casefold()
    s = unicodedata.normalize("NFD", s).replace("\u0307", "")
    s = unicodedata.normalize("NFC", s)
    return _SPACE.sub(" ", s).strip()


def name_key(text: str | None) -> str:
    """A duplicate-detection key for a name: :func:`fold` without punctuation or spaces."""
    s = fold(text)
    return "".join(
        ch for ch in s if not ch.isspace() and unicodedata.category(ch)[0] not in _PUNCT_CATEGORIES
    )


def email_key(email: str | None) -> str:
    return fold(email).replace(" ", "")


def phone_key(phone: str | None) -> str:
    """Digits only (any script's digits, as ASCII); a leading 00 is read as +."""
    if not phone:
        return ""
    digits = "".join(str(unicodedata.digit(ch)) for ch in phone if unicodedata.digit(ch, None) is not None)
    if digits.startswith("00"):
        digits = digits[2:]
    return digits
