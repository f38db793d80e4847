"""The approval sheet: the document summary, every step with who could decide it, and every
decision with its comment, rendered with crm_common.pdf (embedded fonts: Chinese, Turkish and
Bulgarian comments show as written)."""

from __future__ import annotations

from typing import Any

from crm_common import pdf


def _when(value: str | None) -> str:
    return value.replace("T", " ")[:16] + " UTC" if value else ""


def render_sheet(request: dict[str, Any], names: dict[int, str]) -> bytes:
    def who(user_id: Any) -> str:
        if user_id is None:
            return ""
        return f"{names.get(int(user_id), 'user')} (#{user_id})"

    doc = pdf.Document(
        title=f"Approval sheet #{request['id']}",
        footer=f"Approval #{request['id']} · {request['document_type']} {request['document_id']}",
    )
    doc.title(f"Approval sheet #{request['id']}")
    amount = (
        f"{request['amount']} {request['currency'] or ''}".strip() if request["amount"] is not None else ""
    )
    flow = request.get("flow") or {}
    flow_name = flow.get("name") or "default"
    if flow.get("version"):
        flow_name += f" (v{flow['version']})"
    doc.key_values(
        [
            ("Document", f"{request['document_type']} {request['document_id']}"),
            ("Summary", request.get("summary") or ""),
            ("Amount", amount),
            ("Department", request.get("department") or ""),
            ("Company", request.get("company") or ""),
            ("Submitted by", who(request.get("submitter"))),
            ("Submitted at", _when(request.get("created_at"))),
            ("Status", request["status"]),
            ("Closed at", _when(request.get("closed_at"))),
            ("Flow", flow_name),
            (
                "Previous request",
                f"#{request['previous_request_id']}" if request.get("previous_request_id") else "",
            ),
        ]
    )
    doc.heading("Steps")
    rows = []
    for step in request["steps"]:
        approvers = [who(u) for u in step.get("users") or ()] + [f"role {r}" for r in step.get("roles") or ()]
        if step.get("department_head") and not step.get("users"):
            approvers.insert(0, "department head")
        rows.append(
            [
                str(step["index"]),
                step["name"],
                step["mode"],
                ", ".join(approvers),
                step["status"],
                _when(step.get("decided_at")),
            ]
        )
    doc.table(["#", "Step", "Mode", "Approvers", "Status", "Decided"], rows, widths=[8, 32, 14, 0, 22, 32])
    doc.heading("Decisions")
    if request["decisions"]:
        doc.table(
            ["Step", "By", "Decision", "When", "Comment"],
            [
                [
                    f"{d['step']}. {d['step_name']}",
                    d.get("username") or who(d.get("user")),
                    d["decision"],
                    _when(d["decided_at"]),
                    d.get("comment") or "",
                ]
                for d in request["decisions"]
            ],
            widths=[30, 32, 20, 30, 0],
        )
    else:
        doc.paragraph("No decision yet.")
    for earlier in request.get("history") or ():
        doc.heading(f"Earlier request #{earlier['id']} ({earlier['status']})", size=10)
        for d in earlier.get("decisions") or ():
            doc.paragraph(
                f"{d['step_name']} — {d.get('username') or d['user']} — {d['decision']}: {d.get('comment') or ''}"
            )
    return doc.output()
