"""Documents e-mails carry, fetched when the e-mail is sent (never when it is queued: a billing run
issuing thousands of invoices does not wait for their PDFs, and the deliveries table keeps a
reference, not the bytes).

A delivery row's ``attachments`` lists references (``domain.email_attachments``):
``{"kind": "invoice_pdf", "invoice_id": 17}`` is the invoice PDF from billing's
``render_invoice_pdf`` RPC (cached there by content), called as notify's system caller through a
standalone RPC proxy (the delivery worker runs outside any Nameko worker) that signs the caller
context like every service-to-service call. An e-mail whose
document cannot be fetched is not sent without it: the attempt fails and is retried with the
delivery's backoff (billing down, a timeout), or fails for good (the invoice does not exist).
A document larger than ``NOTIFY_MAX_ATTACHMENT_BYTES`` (default 10 MiB) is left out, with a
warning in the log: the e-mail's link still leads to it."""

from __future__ import annotations

import base64
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from crm_common.config import amqp_uri
from crm_common.context import CallerContext

from . import channels

log = logging.getLogger(__name__)

DEFAULT_MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
# a refusal that will not change by trying again
PERMANENT_REMOTE_ERRORS = ("NotFound", "ValidationFailed", "PermissionDenied")


class AttachmentError(Exception):
    def __init__(self, message: str, permanent: bool = False):
        super().__init__(message)
        self.message = message
        self.permanent = permanent


Fetch = Callable[[Mapping[str, Any]], channels.Attachment]


class BillingDocuments:
    """``fetch(ref)`` → the :class:`~notify.channels.Attachment` a reference names."""

    def __init__(self, config: Mapping[str, Any]):
        self.amqp_uri = channels.setting(config, "AMQP_URI", amqp_uri())
        self.timeout = float(channels.setting(config, "NOTIFY_ATTACHMENT_TIMEOUT", 30.0))

    def __call__(self, ref: Mapping[str, Any]) -> channels.Attachment:
        if ref.get("kind") != "invoice_pdf":
            raise AttachmentError(f"unknown attachment kind {ref.get('kind')!r}", permanent=True)
        return self.invoice_pdf(ref.get("invoice_id"))

    def invoice_pdf(self, invoice_id: Any) -> channels.Attachment:
        from crm_common.rpc import ClusterRpcProxy  # signs the caller context for each call
        from nameko.exceptions import RemoteError

        context = CallerContext.system("notify").to_context_data()
        try:
            with ClusterRpcProxy(
                {"AMQP_URI": self.amqp_uri}, context_data=context, timeout=self.timeout
            ) as cluster:
                doc = cluster.billing.render_invoice_pdf(invoice_id)
        except RemoteError as exc:
            raise AttachmentError(
                f"billing.render_invoice_pdf({invoice_id}): {exc.exc_type}: {exc.value}",
                permanent=exc.exc_type in PERMANENT_REMOTE_ERRORS,
            ) from exc
        except Exception as exc:  # broker unreachable, no answer in time: try again later
            raise AttachmentError(
                f"billing.render_invoice_pdf({invoice_id}): {type(exc).__name__}: {exc}"
            ) from exc
        return channels.Attachment(
            str(doc.get("filename") or f"invoice-{invoice_id}.pdf"),
            str(doc.get("content_type") or "application/pdf"),
            base64.b64decode(doc["data"]),
        )


def resolve(
    refs: Sequence[Mapping[str, Any]] | None, fetch: Fetch, max_bytes: int
) -> list[channels.Attachment]:
    """The attachments of one e-mail. Raises :class:`AttachmentError` when one cannot be
    fetched; leaves out (and logs) one larger than ``max_bytes``."""
    out: list[channels.Attachment] = []
    for ref in refs or ():
        item = fetch(ref)
        if len(item.data) > max_bytes:
            log.warning(
                "attachment %s (%d bytes) exceeds NOTIFY_MAX_ATTACHMENT_BYTES=%d; sent without it",
                item.filename,
                len(item.data),
                max_bytes,
            )
            continue
        out.append(item)
    return out


def send_email(
    smtp: channels.SmtpSettings, row: Mapping[str, Any], fetch: Fetch, max_bytes: int
) -> channels.Outcome:
    """Send one queued e-mail with the documents it names attached."""
    if not smtp.host:
        return channels.Outcome(False, error="SMTP_HOST is not set", permanent=True)
    try:
        attachments = resolve(row.get("attachments"), fetch, max_bytes)
    except AttachmentError as exc:
        return channels.Outcome(False, error=f"attachment: {exc.message}", permanent=exc.permanent)
    return channels.send_email(
        smtp, row["recipient"], row["subject"] or "", row["body"], row["language"], attachments
    )
