"""The approval sheet: the document summary, every step with who could decide it, and every
decision with its comment, rendered with crm_common.pdf (embedded fonts: Chinese, Turkish and
Bulgarian comments show as written).

Labels, statuses, modes and decisions are in the reader's language (en, zh, tr, bg; English for
anything else); the document is named by its type in that language and its number
(``Договор C-2026-000017``), by its id only when the submitting event carried no number."""

from __future__ import annotations

from typing import Any

from crm_common import pdf

from . import domain

LANGUAGES = ("en", "zh", "tr", "bg")

LABELS: dict[str, dict[str, str]] = {
    "en": {
        "title": "Approval sheet #{id}",
        "footer": "Approval #{id} · {document}",
        "document": "Document",
        "summary": "Summary",
        "amount": "Amount",
        "department": "Department",
        "company": "Company",
        "submitted_by": "Submitted by",
        "submitted_at": "Submitted at",
        "status": "Status",
        "closed_at": "Closed at",
        "flow": "Flow",
        "previous": "Previous request",
        "steps": "Steps",
        "step": "Step",
        "mode": "Mode",
        "approvers": "Approvers",
        "decided": "Decided",
        "decisions": "Decisions",
        "by": "By",
        "decision": "Decision",
        "when": "When",
        "comment": "Comment",
        "no_decision": "No decision yet.",
        "earlier": "Earlier request #{id} ({status})",
        "department_head": "department head",
        "role": "role {role}",
        "default_flow": "default",
        "user": "user",
    },
    "zh": {
        "title": "审批单 #{id}",
        "footer": "审批 #{id} · {document}",
        "document": "单据",
        "summary": "摘要",
        "amount": "金额",
        "department": "部门",
        "company": "公司",
        "submitted_by": "提交人",
        "submitted_at": "提交时间",
        "status": "状态",
        "closed_at": "结束时间",
        "flow": "审批流程",
        "previous": "上一次申请",
        "steps": "审批步骤",
        "step": "步骤",
        "mode": "方式",
        "approvers": "审批人",
        "decided": "决定时间",
        "decisions": "审批记录",
        "by": "审批人",
        "decision": "决定",
        "when": "时间",
        "comment": "意见",
        "no_decision": "尚无审批决定。",
        "earlier": "之前的申请 #{id}（{status}）",
        "department_head": "部门负责人",
        "role": "角色 {role}",
        "default_flow": "默认",
        "user": "用户",
    },
    "tr": {
        "title": "Onay formu #{id}",
        "footer": "Onay #{id} · {document}",
        "document": "Belge",
        "summary": "Özet",
        "amount": "Tutar",
        "department": "Departman",
        "company": "Şirket",
        "submitted_by": "Gönderen",
        "submitted_at": "Gönderilme zamanı",
        "status": "Durum",
        "closed_at": "Kapanma zamanı",
        "flow": "Onay akışı",
        "previous": "Önceki talep",
        "steps": "Adımlar",
        "step": "Adım",
        "mode": "Yöntem",
        "approvers": "Onaylayanlar",
        "decided": "Karar zamanı",
        "decisions": "Kararlar",
        "by": "Karar veren",
        "decision": "Karar",
        "when": "Zaman",
        "comment": "Yorum",
        "no_decision": "Henüz karar verilmedi.",
        "earlier": "Önceki talep #{id} ({status})",
        "department_head": "departman yöneticisi",
        "role": "rol {role}",
        "default_flow": "varsayılan",
        "user": "kullanıcı",
    },
    "bg": {
        "title": "Лист за одобрение #{id}",
        "footer": "Одобрение #{id} · {document}",
        "document": "Документ",
        "summary": "Резюме",
        "amount": "Сума",
        "department": "Отдел",
        "company": "Дружество",
        "submitted_by": "Подадено от",
        "submitted_at": "Подадено на",
        "status": "Статус",
        "closed_at": "Приключено на",
        "flow": "Маршрут на одобрение",
        "previous": "Предишно искане",
        "steps": "Стъпки",
        "step": "Стъпка",
        "mode": "Режим",
        "approvers": "Одобряващи",
        "decided": "Решено на",
        "decisions": "Решения",
        "by": "От",
        "decision": "Решение",
        "when": "Кога",
        "comment": "Коментар",
        "no_decision": "Все още няма решение.",
        "earlier": "Предишно искане #{id} ({status})",
        "department_head": "ръководител на отдел",
        "role": "роля {role}",
        "default_flow": "по подразбиране",
        "user": "потребител",
    },
}

# request and step statuses, step modes, decisions
TERMS: dict[str, dict[str, str]] = {
    "zh": {
        "pending": "待审批",
        "approved": "已批准",
        "rejected": "已驳回",
        "withdrawn": "已撤回",
        "waiting": "等待中",
        "cancelled": "已取消",
        "any": "任一人",
        "all": "全部",
        "approve": "批准",
        "reject": "驳回",
    },
    "tr": {
        "pending": "beklemede",
        "approved": "onaylandı",
        "rejected": "reddedildi",
        "withdrawn": "geri çekildi",
        "waiting": "sırada",
        "cancelled": "iptal edildi",
        "any": "herhangi biri",
        "all": "hepsi",
        "approve": "onay",
        "reject": "ret",
    },
    "bg": {
        "pending": "чака",
        "approved": "одобрено",
        "rejected": "отхвърлено",
        "withdrawn": "оттеглено",
        "waiting": "предстои",
        "cancelled": "отменено",
        "any": "който и да е",
        "all": "всички",
        "approve": "одобрява",
        "reject": "отхвърля",
    },
}

DOCUMENT_TYPES: dict[str, dict[str, str]] = {
    "contract": {"en": "Contract", "zh": "合同", "tr": "Sözleşme", "bg": "Договор"},
    "amendment": {"en": "Amendment", "zh": "合同变更", "tr": "Sözleşme değişikliği", "bg": "Анекс"},
    "trade_in": {"en": "Trade-in", "zh": "以旧换新", "tr": "Takas", "bg": "Замяна на старо с ново"},
    "sales_application": {
        "en": "Sales application",
        "zh": "销售申请",
        "tr": "Satış başvurusu",
        "bg": "Заявление за продажба",
    },
    "dispatch_request": {
        "en": "Dispatch request",
        "zh": "发货申请",
        "tr": "Sevk talebi",
        "bg": "Заявка за експедиция",
    },
    "discount": {"en": "Discount", "zh": "折扣", "tr": "İndirim", "bg": "Отстъпка"},
    "credit_note": {
        "en": "Credit note",
        "zh": "贷项通知单",
        "tr": "Alacak dekontu",
        "bg": "Кредитно известие",
    },
    "termination": {"en": "Termination", "zh": "合同终止", "tr": "Fesih", "bg": "Прекратяване"},
    "change_batch": {"en": "Change batch", "zh": "批量变更", "tr": "Toplu değişiklik", "bg": "Пакет промени"},
}


def _when(value: str | None) -> str:
    return value.replace("T", " ")[:16] + " UTC" if value else ""


def document_name(request: dict[str, Any], language: str) -> str:
    """``Договор C-2026-000017``: the type in ``language`` and the number (else the id)."""
    doc_type = request["document_type"]
    label = DOCUMENT_TYPES.get(doc_type, {}).get(language) or str(doc_type).replace("_", " ").capitalize()
    number = domain.document_number(doc_type, request.get("details"))
    return f"{label} {number or request['document_id']}"


def render_sheet(request: dict[str, Any], names: dict[int, str], language: str | None = None) -> bytes:
    lang = language if language in LANGUAGES else "en"
    label = LABELS[lang]
    terms = TERMS.get(lang, {})

    def term(value: Any) -> str:
        return terms.get(str(value), str(value)) if value is not None else ""

    def who(user_id: Any) -> str:
        if user_id is None:
            return ""
        return f"{names.get(int(user_id), label['user'])} (#{user_id})"

    document = document_name(request, lang)
    title = label["title"].format(id=request["id"])
    doc = pdf.Document(title=title, footer=label["footer"].format(id=request["id"], document=document))
    doc.title(title)
    amount = (
        f"{request['amount']} {request['currency'] or ''}".strip() if request["amount"] is not None else ""
    )
    flow = request.get("flow") or {}
    flow_name = flow.get("name") or "default"
    if flow_name == "default":  # the built-in flow's name
        flow_name = label["default_flow"]
    if flow.get("version"):
        flow_name += f" (v{flow['version']})"
    doc.key_values(
        [
            (label["document"], document),
            (label["summary"], request.get("summary") or ""),
            (label["amount"], amount),
            (label["department"], request.get("department") or ""),
            (label["company"], request.get("company") or ""),
            (label["submitted_by"], who(request.get("submitter"))),
            (label["submitted_at"], _when(request.get("created_at"))),
            (label["status"], term(request["status"])),
            (label["closed_at"], _when(request.get("closed_at"))),
            (label["flow"], flow_name),
            (
                label["previous"],
                f"#{request['previous_request_id']}" if request.get("previous_request_id") else "",
            ),
        ]
    )
    doc.heading(label["steps"])
    rows = []
    for step in request["steps"]:
        approvers = [who(u) for u in step.get("users") or ()] + [
            label["role"].format(role=r) for r in step.get("roles") or ()
        ]
        if step.get("department_head") and not step.get("users"):
            approvers.insert(0, label["department_head"])
        rows.append(
            [
                str(step["index"]),
                step["name"],
                term(step["mode"]),
                ", ".join(approvers),
                term(step["status"]),
                _when(step.get("decided_at")),
            ]
        )
    doc.table(
        ["#", label["step"], label["mode"], label["approvers"], label["status"], label["decided"]],
        rows,
        widths=[8, 32, 14, 0, 22, 32],
    )
    doc.heading(label["decisions"])
    if request["decisions"]:
        doc.table(
            [label["step"], label["by"], label["decision"], label["when"], label["comment"]],
            [
                [
                    f"{d['step']}. {d['step_name']}",
                    d.get("username") or who(d.get("user")),
                    term(d["decision"]),
                    _when(d["decided_at"]),
                    d.get("comment") or "",
                ]
                for d in request["decisions"]
            ],
            widths=[30, 32, 20, 30, 0],
        )
    else:
        doc.paragraph(label["no_decision"])
    for earlier in request.get("history") or ():
        doc.heading(label["earlier"].format(id=earlier["id"], status=term(earlier["status"])), size=10)
        for d in earlier.get("decisions") or ():
            doc.paragraph(
                f"{d['step_name']} — {d.get('username') or d['user']} — {term(d['decision'])}: "
                f"{d.get('comment') or ''}"
            )
    return doc.output()
