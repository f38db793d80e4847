"""Secrets of an installation: how strong a configured key must be, and the key file the embedded
default generates once (mode 0600) in ``CRM_DATA_DIR`` and reuses later.

Used for the gateway's token signing key (``jwt-secret``) and the caller-context key every
process shares (``context-key``, :mod:`crm_common.signing`). No secret value is written in the
repository: a value containing a placeholder word of the examples (``change-me`` …) was copied,
not generated, and is refused where a real key is required.
"""

from __future__ import annotations

import collections
import logging
import math
import os
import re
import secrets
from pathlib import Path

log = logging.getLogger(__name__)

MIN_SECRET_BYTES = 32
# estimated from the secret's own character frequencies: `openssl rand -hex 32` gives ~245
MIN_SECRET_BITS = 128
# words of the placeholders in examples and documentation (deploy/compose/.env.example, docs/):
# a value that contains one was copied, not generated
PLACEHOLDER_WORDS = re.compile(
    r"change[-_ ]?me|change[-_ ]?this|replace[-_ ]?me|placeholder|example|do[-_ ]?not[-_ ]?use|"
    r"your[-_ ]?secret|insecure|development|(.)\1{7}",
    re.IGNORECASE,
)


def secret_problem(secret: str | None) -> str | None:
    """Why ``secret`` must not be used as a signing key (None: it may)."""
    if not secret:
        return "is not set"
    if len(secret.encode()) < MIN_SECRET_BYTES:
        return f"is shorter than {MIN_SECRET_BYTES} bytes"
    if PLACEHOLDER_WORDS.search(secret):
        return "is a placeholder from the examples (it is public)"
    counts = collections.Counter(secret)
    bits = -sum(n * math.log2(n / len(secret)) for n in counts.values())
    steps = sum(abs(ord(a) - ord(b)) <= 1 for a, b in zip(secret, secret[1:], strict=False))
    if bits < MIN_SECRET_BITS or steps > len(secret) // 2:
        return "has too little entropy (repeated or sequential characters)"
    return None


def load_or_create_secret(path: Path, what: str = "signing key", consequence: str = "") -> str:
    """The key kept in ``path``; created (random, mode 0600) when missing. Written to a temporary
    file first and linked into place, so processes starting together agree on one key and none
    reads a half-written file. ``consequence`` tells what deleting the file ends."""
    try:
        secret = path.read_text().strip()
    except FileNotFoundError:
        secret = secrets.token_hex(32)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w") as out:
                out.write(secret + "\n")
                out.flush()
                os.fsync(out.fileno())
            os.link(tmp, path)
            log.info("generated the %s of this installation in %s", what, path)
        except FileExistsError:
            secret = path.read_text().strip()  # another process was first
        finally:
            tmp.unlink(missing_ok=True)
    if path.stat().st_mode & 0o077:
        log.warning("%s was readable by others: setting its mode to 0600", path)
        path.chmod(0o600)
    problem = secret_problem(secret)
    if problem:
        raise RuntimeError(
            f"the {what} in {path} {problem}: delete the file to generate a new one"
            + (f" ({consequence})" if consequence else "")
        )
    return secret
