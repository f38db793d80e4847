"""Portal invitations: staff invite a customer's person by e-mail. The portal user is created
inactive and bound to the customer; the e-mail (sent by the ``notify`` service, in the user's
language) carries a one-time link to set the password (``POST /api/v1/auth/invitations/accept``),
valid ``CRM_INVITATION_DAYS`` days. The link is built from configuration only
(``CRM_PORTAL_ACCEPT_URL``, else ``CRM_PUBLIC_URL`` + ``/portal/accept``), never from the
request's ``Host`` header. Whoever invites does not get the link: it goes to the invitee's
mailbox only. Only when the e-mail could not be queued at all (``email.status`` ``not_sent``)
does an administrator's answer carry it (``accept_url``), to pass on by other means; everyone
else gets ``accept_url: null`` and asks an administrator to resend.

The portal username is the e-mail address unless an administrator chooses another, and every
username that cannot be invited (anyone else's, staff or portal) gets the same 409: a sales rep
cannot probe staff usernames through invitations.

Who: administrators and sales managers for any customer, sales reps for customers they own (the
``customers`` service decides, from the inviter's own context: 403/404 otherwise). Reps list and
revoke the invitations they sent."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Annotated, Any

from crm_common.context import CallerContext
from fastapi import APIRouter, Depends, Query
from starlette.concurrency import run_in_threadpool

from .. import invitations
from ..deps import CurrentUser, Pagination, Rpc, State, require_roles
from ..errors import forbidden, from_rpc_error
from ..listing import sortable
from ..rpc import RpcError
from ..schemas import MAX_ID, ErrorBody
from ..schemas_portal import InvitationCreate, InvitationStatus
from ..views_portal import PortalInvitationPage, PortalInvitationPublic, PortalInvitationSent
from .contract_progress import int_id

log = logging.getLogger(__name__)

INVITERS = ("admin", "sales_manager", "sales_rep")
SEE_ALL = ("admin", "sales_manager")

router = APIRouter(
    prefix="/portal-invitations",
    tags=["portal"],
    dependencies=[Depends(require_roles(*INVITERS))],
    responses={403: {"model": ErrorBody}, 404: {"model": ErrorBody}, 409: {"model": ErrorBody}},
)


def accept_url(settings, token: str) -> str:
    """The link, from configuration only (a forged ``Host`` header must not send the token to
    another site)."""
    base = settings.crm_portal_accept_url or settings.public_url + "/portal/accept"
    # in the fragment: browsers never send it to a server, so it stays out of access logs
    return f"{base}#token={token}"


async def send(state, user, invitation: dict[str, Any], token: str, customer: dict) -> dict:
    """Queue the e-mail with the ``notify`` service (as the gateway: only it may send these).
    The answer carries the link only for an administrator and only when no e-mail was queued."""
    url = accept_url(state.settings, token)
    data = {
        "email": invitation["email"],
        "full_name": invitation.get("full_name"),
        "customer_name": customer.get("name"),
        "language": invitation.get("language") or "en",
        "accept_url": url,
        "expires_at": invitation["expires_at"],
    }
    try:
        sent = await state.rpc.call(
            "notify", "send_portal_invitation", data, caller=CallerContext.system("gateway")
        )
        await run_in_threadpool(invitations.set_delivery, state.db, invitation["id"], sent.get("delivery_id"))
        email = {"status": sent.get("status", "queued"), "delivery_id": sent.get("delivery_id")}
    except RpcError as exc:
        err = from_rpc_error(exc)
        log.warning("invitation %s: e-mail not queued: %s", invitation["id"], err.message)
        email = {"status": "not_sent", "error": err.message}
    shown = url if email["status"] == "not_sent" and user.has_any(("admin",)) else None
    return {**invitation, "accept_url": shown, "email": email}


@router.post("", status_code=201, responses={201: {"model": PortalInvitationSent}})
async def create_portal_invitation(body: InvitationCreate, state: State, rpc: Rpc, user: CurrentUser) -> Any:
    """Invite ``email`` to the portal of ``customer_id``. Inviting a username that was invited
    but never accepted sends a new link (the old one stops working); any other taken username
    → 409."""
    data = body.data()
    chosen = data.get("username")
    if chosen is not None and chosen != data["email"] and not user.has_any(("admin",)):
        raise forbidden(
            "Only administrators choose a portal username: leave it out (it is the e-mail address)",
            {"username": ["administrators only"]},
        )
    customer = await rpc.customers.get_customer(body.customer_id)  # 404 / 403 from the service
    token, digest = invitations.new_token()
    valid = dt.timedelta(days=state.settings.crm_invitation_days)
    data.setdefault("language", customer.get("language") or "en")
    invitation = await run_in_threadpool(
        invitations.create_invitation, state.db, rpc.caller, data, digest, valid
    )
    return await send(state, user, invitation, token, customer)


InvitationSort = sortable("created_at", "expires_at", "status", "email", "id")


@router.get("", responses={200: {"model": PortalInvitationPage}})
async def list_portal_invitations(
    state: State,
    user: CurrentUser,
    page: Pagination,
    sort: InvitationSort,
    customer_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    status: InvitationStatus | None = None,
) -> Any:
    """Invitations, newest first (a sales rep: the ones they sent)."""
    created_by = None if user.has_any(SEE_ALL) else user.id
    return await run_in_threadpool(
        invitations.list_invitations,
        state.db, page.page, page.page_size, customer_id, status, created_by, list(sort.fields),
    )  # fmt: skip


async def _own(state, user, invitation_id: str) -> int:
    iid = int_id(invitation_id, "Invitation")
    _, created_by = await run_in_threadpool(invitations.get_invitation, state.db, iid)
    if not user.has_any(SEE_ALL) and created_by != user.id:
        raise forbidden("Sales reps manage the invitations they sent", {"id": iid})
    return iid


@router.post("/{invitation_id}/resend", status_code=201, responses={201: {"model": PortalInvitationSent}})
async def resend_portal_invitation(invitation_id: str, state: State, rpc: Rpc, user: CurrentUser) -> Any:
    """A new link by e-mail (the previous one stops working); 409 once accepted."""
    iid = await _own(state, user, invitation_id)
    current, _ = await run_in_threadpool(invitations.get_invitation, state.db, iid)
    customer = await rpc.customers.get_customer(current["customer_id"])
    token, digest = invitations.new_token()
    valid = dt.timedelta(days=state.settings.crm_invitation_days)
    invitation = await run_in_threadpool(
        invitations.renew_invitation, state.db, rpc.caller, iid, digest, valid
    )
    return await send(state, user, invitation, token, customer)


@router.post("/{invitation_id}/revoke", responses={200: {"model": PortalInvitationPublic}})
async def revoke_portal_invitation(invitation_id: str, state: State, rpc: Rpc, user: CurrentUser) -> Any:
    """The link stops working (409 when it is not pending)."""
    iid = await _own(state, user, invitation_id)
    return await run_in_threadpool(invitations.revoke_invitation, state.db, rpc.caller, iid)
