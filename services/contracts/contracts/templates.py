"""Contract templates: create (a new version per name and language), list, read, deactivate,
and the check the contract use cases make when a contract is filled from a template.

Templates are versioned per (name folded with :func:`crm_common.text.fold`, language): posting
a template whose name and language already exist creates the next version. A contract points at
the exact template row it was filled from, so a later version never changes a signed contract,
and a deactivated template still renders the contracts made from it (it only cannot be chosen
for new ones). Every change is audited in the same transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from crm_common.context import CallerContext
from crm_common.db import changes_between, row_or_404, utcnow
from crm_common.errors import ValidationFailed, load_or_raise
from crm_common.paging import load_filters, page_args, page_of, parse_id, run_page, sorted_query
from crm_common.text import fold
from marshmallow import Schema, ValidationError, fields, validate
from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from . import domain, templating
from . import models as m
from .schemas import text

T = m.templates.c

# Every authenticated user but a portal user reads templates.
READ_ROLES = ("admin", "sales_manager", "sales_rep", "finance", "approver", "warehouse", "readonly")
DEACTIVATE_ROLES = ("admin",)
VERSION_RETRIES = 3


class Language(fields.String):
    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> str:
        code = super()._deserialize(value, attr, data, **kwargs).strip().lower()
        if code not in templating.LANGUAGES:
            raise ValidationError(f"must be one of {', '.join(templating.LANGUAGES)}")
        return code


class TemplateFieldSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(1, 64))
    type = fields.String(required=True, validate=validate.OneOf(templating.FIELD_TYPES))
    required = fields.Boolean(load_default=False)
    label = text(templating.MAX_LABEL_CHARS, load_default=None, allow_none=True)


# ``fields`` would shadow Schema.fields as a class attribute: the schema is built from a dict
TemplateCreateSchema = Schema.from_dict(
    {
        "name": text(200, required=True),
        "language": Language(required=True),
        "body": fields.String(required=True, validate=validate.Length(max=templating.MAX_BODY_CHARS)),
        "fields": fields.List(
            fields.Nested(TemplateFieldSchema),
            load_default=list,
            validate=validate.Length(max=templating.MAX_FIELDS),
        ),
        "description": text(5000, load_default=None, allow_none=True),
    },
    name="TemplateCreateSchema",
)


class TemplateFiltersSchema(Schema):
    language = Language(load_default=None, allow_none=True)
    name = text(200, load_default=None, allow_none=True)
    all_versions = fields.Boolean(load_default=False)
    active = fields.Boolean(load_default=None, allow_none=True)


template_in = TemplateCreateSchema()
filters_in = TemplateFiltersSchema()


# --------------------------------------------------------------------------------------
# Views
# --------------------------------------------------------------------------------------


def _field_out(field: Mapping[str, Any]) -> dict[str, Any]:
    out = {"name": field["name"], "type": field["type"], "required": bool(field.get("required"))}
    if field.get("label"):
        out["label"] = field["label"]
    return out


def template_view(row: Mapping[str, Any], with_body: bool = True) -> dict[str, Any]:
    """A template as the API shows it (lists leave the body out)."""
    out: dict[str, Any] = {
        "id": row["id"],
        "name": row["name"],
        "language": row["language"],
        "version": row["version"],
        "fields": [_field_out(f) for f in row["fields"] or []],
        "description": row["description"],
        "active": bool(row["active"]),
        "created_at": row["created_at"].isoformat() if row["created_at"] else None,
        "created_by": row["created_by"],
    }
    if with_body:
        out["body"] = row["body"]
        out["placeholders"] = templating.placeholders(row["body"])
    return out


# --------------------------------------------------------------------------------------
# Use cases
# --------------------------------------------------------------------------------------


def _next_version(s: Session, name_key: str, language: str) -> int:
    current = s.execute(
        select(func.max(T.version)).where(T.name_key == name_key, T.language == language)
    ).scalar_one()
    return int(current or 0) + 1


def create_template(db: Any, caller: CallerContext | None, data: Any) -> dict[str, Any]:
    """A new template — version 1, or the next version of the template of that name (compared
    folded: ``İstanbul Service`` = ``istanbul service``) and language. 422 naming the field for
    a bad body or field list (an undeclared placeholder, a duplicate field name, ...)."""
    caller = domain.require(caller, domain.TEMPLATE_ROLES, "manage contract templates")
    v = load_or_raise(template_in, data)
    problems = templating.template_problems(v["body"], v["fields"])
    if problems:
        raise ValidationFailed(f"Invalid template: {', '.join(sorted(problems))}", problems)
    field_list = [_field_out(f) for f in v["fields"]]
    name_key = fold(v["name"])
    for attempt in range(VERSION_RETRIES):
        try:
            with db.transaction() as uow:
                s = uow.session
                values = {
                    "name": v["name"],
                    "name_key": name_key,
                    "language": v["language"],
                    "version": _next_version(s, name_key, v["language"]),
                    "body": v["body"],
                    "fields": field_list,
                    "description": v["description"],
                    "active": True,
                    "created_at": utcnow(),
                    "created_by": caller.actor,
                }
                template_id = s.execute(insert(m.templates).values(**values).returning(T.id)).scalar_one()
                row = row_or_404(s, m.templates, template_id, "template")
                out = template_view(row)
                uow.audit(
                    "template",
                    template_id,
                    "create",
                    changes_between({}, {k: out[k] for k in ("name", "language", "version", "fields")}),
                )
            return out
        except IntegrityError:
            # another request made the same version first: take the next one
            if attempt == VERSION_RETRIES - 1:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


# the fields template lists may be sorted by and their columns
TEMPLATE_SORT = {
    "name": T.name_key, "language": T.language, "version": T.version, "created_at": T.created_at, "id": T.id,
}  # fmt: skip


def list_templates(
    db: Any, caller: CallerContext | None, filters: Any, page: Any, page_size: Any, sort: Any = None
) -> dict[str, Any]:
    """Templates, by name and language; the latest version of each unless ``all_versions``.
    Filters: ``language``, ``name`` (any part of the name, compared folded), ``active``."""
    domain.require(caller, READ_ROLES, "read contract templates")
    f = load_filters(filters_in, filters)
    page, page_size = page_args(page, page_size)
    query = select(m.templates)
    if not f.get("all_versions"):
        latest = (
            select(T.name_key, T.language, func.max(T.version).label("version"))
            .group_by(T.name_key, T.language)
            .subquery()
        )
        query = query.join(
            latest,
            (T.name_key == latest.c.name_key)
            & (T.language == latest.c.language)
            & (T.version == latest.c.version),
        )
    if "language" in f:
        query = query.where(T.language == f["language"])
    if "name" in f:
        query = query.where(T.name_key.contains(fold(f["name"]), autoescape=True))
    if "active" in f:
        query = query.where(T.active == f["active"])
    query = sorted_query(query, sort, TEMPLATE_SORT, T.name_key, T.language, T.version.desc(), T.id)
    with db.read() as s:
        rows, total = run_page(s, query, page, page_size)
        items = [template_view(r, with_body=False) for r in rows]
    return page_of(items, total, page, page_size)


def get_template(db: Any, caller: CallerContext | None, template_id: Any) -> dict[str, Any]:
    """One template version with its body and placeholders (404 when unknown)."""
    domain.require(caller, READ_ROLES, "read contract templates")
    template_id = parse_id(template_id, "template_id")
    with db.read() as s:
        row = row_or_404(s, m.templates, template_id, "template")
        out = template_view(row)
        out["latest_version"] = _next_version(s, row["name_key"], row["language"]) - 1
    return out


def deactivate_template(db: Any, caller: CallerContext | None, template_id: Any) -> dict[str, Any]:
    """Admin: the template can no longer be chosen for new contracts; contracts already made
    from it keep it and still render. Deactivating an inactive template changes nothing."""
    domain.require(caller, DEACTIVATE_ROLES, "deactivate contract templates")
    template_id = parse_id(template_id, "template_id")
    with db.transaction() as uow:
        s = uow.session
        row = row_or_404(s, m.templates, template_id, "template", for_update=True)
        if row["active"]:
            s.execute(update(m.templates).where(T.id == template_id).values(active=False))
            uow.audit("template", template_id, "deactivate", {"active": [True, False]})
            row = {**row, "active": False}
        return template_view(row)


def template_for_contract(s: Session, template_id: Any, allow_inactive: bool = False) -> dict[str, Any]:
    """The template row a contract is being filled from (``fields`` a list), or a 422 on
    ``template_id``: "unknown template" when it does not exist or is deactivated
    (``allow_inactive``: accept a deactivated one, e.g. the template a draft already has)."""
    if isinstance(template_id, bool) or not isinstance(template_id, (int, str)):
        raise ValidationFailed.field("template_id", "unknown template")
    try:
        template_id = parse_id(template_id, "template_id")
    except ValidationFailed:
        raise ValidationFailed.field("template_id", "unknown template") from None
    row = s.execute(select(m.templates).where(T.id == template_id)).mappings().first()
    if row is None or (not row["active"] and not allow_inactive):
        raise ValidationFailed.field("template_id", "unknown template")
    out = dict(row)
    out["fields"] = list(out["fields"] or [])
    return out
