"""Render functions for the document worker tests (module level: a worker process imports them
by name)."""

from __future__ import annotations

import logging
import os
import signal
import time

from crm_common import pdf
from crm_common.errors import ValidationFailed

log = logging.getLogger("tests.pdf_jobs")
_renders = 0


def sheet(title: str, lines: list[str]) -> bytes:
    """A document that logs while it renders (as fontTools does when it subsets)."""
    log.info("rendering %s", title)
    doc = pdf.Document(title=title)
    doc.title(title)
    for line in lines:
        doc.paragraph(line)
    return doc.output()


def pid_and_fonts_parsed() -> tuple[int, int]:
    """The worker's process id and how many fonts its cache has parsed so far."""
    return os.getpid(), len(pdf.font_cache._templates)


def environment(name: str) -> str | None:
    return os.environ.get(name)


def refuse(field: str) -> bytes:
    raise ValidationFailed.field(field, "not allowed")


def crash() -> bytes:
    os.kill(os.getpid(), signal.SIGKILL)
    time.sleep(10)
    return b""


def hang(seconds: float) -> bytes:
    time.sleep(seconds)
    return b""


def counted(seconds: float, label: str) -> tuple[int, int]:
    """(worker pid, how many of these the worker has run), after ``seconds``."""
    global _renders
    _renders += 1
    time.sleep(seconds)
    return os.getpid(), _renders
