"""Extreme values for the ``extreme`` fuzzing profile (``FUZZ_PROFILE=extreme``): what a hostile or
careless client sends at the edges of every type, and what once answered 500 (issue 18 §6).

* dates and timestamps: year 1 and 9999, the edges of the accepted window (1900-01-01 ..
  2199-12-31) and one day past them, zones ±14:00 that push a timestamp past year 9999 in UTC;
* decimals: exponents (``1E-999999``, ``1E+999999``), too many digits or places, values that
  would round to 0, the largest accepted amounts (whose products must still fit);
* texts: 2,000 characters, one unbroken 3,000-character word, NUL, C0 controls,
  right-to-left overrides, zero-width characters, and legitimate scripts next to them.

``install(schema)`` registers the date formats and a body/query hook that swaps generated values
for extreme ones by field name; only the ``extreme`` profile calls it.
"""

from __future__ import annotations

import random
from typing import Any

import schemathesis
from hypothesis import strategies as st
from schemathesis.generation.value import GeneratedValue

DATES = [
    "0001-01-01", "1000-06-15", "1899-12-31", "1900-01-01", "1970-01-01", "2038-01-19",
    "2199-12-31", "2200-01-01", "9999-12-31", "2024-02-29",
]  # fmt: skip
TIMESTAMPS = [
    "0001-01-01T00:00:00+14:00", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59-14:00",
    "9999-12-31T23:59:59.999999Z", "1899-12-31T23:59:59Z", "2199-12-31T23:59:59-12:00",
    "1970-01-01T00:00:00+00:00", "2038-01-19T03:14:08Z",
]  # fmt: skip
DECIMALS = [
    "1E-999999", "1E-3000000", "1E+999999", "-1E-999999", "1e-7", "0.0000001", "0.00001",
    "9999999999999.999999", "10000000000000", "-9999999999999", "9" * 40, "1" + "0" * 4000,
    "0E-30", "-0", "1.5000000000000000000000000000001", "NaN", "-Infinity", "1e5", 10**13, 10**18,
]  # fmt: skip
TEXTS = [
    "Lorem ipsum dolor sit amet, " * 70,  # ~1,900 characters, as the comment that broke a sheet
    "W" * 3000,  # an unbroken word
    "a\x00b", "tab\there\x07bell", "Admin\u202egnp.exe", "zero\u200bwidth\ufeff", "line\u2028sep",
    "张伟 İsmail Şahin Мария محمد", "👩‍💻" * 200, " ", "",
]  # fmt: skip

_DATE_KEYS = ("date", "_on", "as_of", "birthday", "expected_close", "from", "to", "valid_from")
_TIME_KEYS = ("_at",)
_DECIMAL_KEYS = ("amount", "price", "quantity", "percent", "weight", "value", "total")
_TEXT_KEYS = ("name", "comment", "description", "notes", "reason", "title", "summary", "note", "username")


def _pool(key: str) -> list[Any] | None:
    k = key.lower()
    if k.endswith(_TIME_KEYS):
        return TIMESTAMPS
    if any(w in k for w in _DECIMAL_KEYS) and not k.endswith(("_id", "_ids")):
        return DECIMALS
    if any(k == w or k.endswith(w) for w in _DATE_KEYS) or "date" in k:
        return DATES
    if any(w in k for w in _TEXT_KEYS):
        return TEXTS
    return None


def swap(value: Any, rnd: random.Random) -> Any:
    """``value`` with about half of its fields named like dates, timestamps, decimals or texts
    replaced by an extreme value of that kind (recursively, through lists and objects)."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            pool = _pool(str(key))
            if pool is not None and not isinstance(item, (dict, list)) and rnd.random() < 0.5:
                out[key] = rnd.choice(pool)
            else:
                out[key] = swap(item, rnd)
        return out
    if isinstance(value, list):
        return [swap(item, rnd) for item in value]
    return value


def _mapped(strategy):
    def apply(pair):
        generated, rnd = pair
        if isinstance(generated, GeneratedValue):
            # a negative example stays as schemathesis made it invalid
            return generated if generated.meta is not None else generated.map_value(lambda v: swap(v, rnd))
        return swap(generated, rnd)

    return st.tuples(strategy, st.randoms(use_true_random=False)).map(apply)


def install(schema) -> None:
    schemathesis.openapi.format("date", st.sampled_from(DATES))
    schemathesis.openapi.format("date-time", st.sampled_from(TIMESTAMPS))

    @schema.hook
    def before_generate_body(context, strategy):
        return _mapped(strategy)

    @schema.hook
    def before_generate_query(context, strategy):
        return _mapped(strategy)
