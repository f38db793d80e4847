"""The console's own texts, read from its locale files, so a browser test can follow the same
flow in every language by the words a user sees (``T("zh", "billing.recordPayment")``)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

WEB = Path(__file__).resolve().parents[2] / "web" / "src"


@cache
def texts(lang: str) -> dict:
    out = json.loads((WEB / "shared" / "i18n" / "locales" / f"{lang}.json").read_text(encoding="utf-8"))
    for path in sorted((WEB / "features").glob(f"*/locales/{lang}.json")):
        out[path.parent.parent.name] = json.loads(path.read_text(encoding="utf-8"))
    return out


def T(lang: str, key: str, **values: object) -> str:
    node: object = texts(lang)
    for part in key.split("."):
        node = node[part]  # type: ignore[index]
    text = str(node)
    for name, value in values.items():
        text = text.replace("{{" + name + "}}", str(value))
    return text
