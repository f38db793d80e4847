"""The RPC use cases of notification rules (admin only): every rule (the defaults of
:mod:`notify.domain` and the admins' edits), editing one (stored over its default) and resetting
one to its default. Every change is audited."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from crm_common.context import CallerContext
from crm_common.db import dumps, utcnow
from crm_common.errors import load_or_raise
from sqlalchemy import delete, select, update

from . import domain
from . import events as ev
from . import models as m
from . import schemas as sc
from .exceptions import invalid, not_found
from .store import require_admin


def _rule_out(event_type: str, row: Mapping | None) -> dict:
    rule = domain.rule_from_row(dict(row) if row else None, event_type)
    assert rule is not None
    return sc.rule_out.dump(
        {
            "event_type": event_type,
            "recipients": list(rule.recipients),
            "channels": list(rule.channels),
            "template": rule.template,
            "templates": row["templates"] if row else None,
            "enabled": rule.enabled,
            "description": rule.description or (row or {}).get("description"),
            "customised": row is not None,
        }
    )


def list_rules(db, caller: CallerContext) -> dict:
    require_admin(caller, "manage notification rules")
    with db.read() as s:
        stored = {r["event_type"]: r for r in s.execute(select(m.rules)).mappings()}
    names = sorted(set(domain.DEFAULT_RULES) | set(stored))
    items = [_rule_out(name, stored.get(name)) for name in names]
    return {"items": items, "total": len(items), "page": 1, "page_size": max(len(items), 1)}


def update_rule(db, caller: CallerContext, event_type: Any, data: Any) -> dict:
    require_admin(caller, "manage notification rules")
    if not isinstance(event_type, str) or not event_type or len(event_type) > 100:
        raise invalid({"event_type": ["must be an event type"]})
    known = {t for _, t in ev.CONSUMED} | set(domain.DEFAULT_RULES)
    if event_type not in known:
        raise not_found("notification rule", event_type)
    values = load_or_raise(sc.rule_update, data)
    with db.transaction() as uow:
        s = uow.session
        row = s.execute(select(m.rules).where(m.rules.c.event_type == event_type)).mappings().first()
        current = domain.rule_from_row(dict(row) if row else None, event_type) or domain.Rule(
            event_type, (), (), event_type, False
        )
        new = {
            "recipients": values.get("recipients", list(current.recipients)),
            "channels": values.get("channels", list(current.channels)),
            "template": values.get("template", current.template),
            "templates": values.get("templates", row["templates"] if row else None),
            "enabled": values.get("enabled", current.enabled),
            "description": values.get("description", row["description"] if row else current.description),
            "updated_at": utcnow(),
            "updated_by": caller.actor,
        }
        if row is None:
            s.execute(m.rules.insert().values(event_type=event_type, **new))
        else:
            s.execute(update(m.rules).where(m.rules.c.event_type == event_type).values(**new))
        uow.audit("notification_rule", event_type, "update", json.loads(dumps(values)))
        row = s.execute(select(m.rules).where(m.rules.c.event_type == event_type)).mappings().first()
    return _rule_out(event_type, row)


def reset_rule(db, caller: CallerContext, event_type: Any) -> dict:
    require_admin(caller, "manage notification rules")
    if event_type not in domain.DEFAULT_RULES:
        raise not_found("notification rule", event_type)
    with db.transaction() as uow:
        uow.session.execute(delete(m.rules).where(m.rules.c.event_type == event_type))
        uow.audit("notification_rule", event_type, "reset")
    return _rule_out(event_type, None)
