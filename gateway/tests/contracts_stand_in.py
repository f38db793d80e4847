"""A stand-in for the contracts service's template and document RPC methods (same names and
signatures as ``contracts.service``), for the gateway's contract template route tests: in
memory; it answers with what it received (and the caller it saw) so the tests see exactly what
the gateway sent, and raises the service's errors for the ids below.

Run: ``nameko run --config config.yml contracts_stand_in:FakeContractsService`` (the tests do it).
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import threading

from crm_common.errors import NotFound, PermissionDenied, ValidationFailed
from crm_common.rpc import rpc
from crm_common.service import ServiceBase

MISSING = 404  # a template / contract id that does not exist
FORBIDDEN = 403  # a contract the caller may not see the document of
# a tiny PDF standing in for the rendered document (the real one is tested in the service)
PDF = b"%PDF-1.4\n% stand-in contract document \xe5\x90\x88\xe5\x90\x8c\n%%EOF\n"

_ids = itertools.count(1)
_lock = threading.Lock()
TEMPLATES: dict[int, dict] = {}


def _missing(entity: str, entity_id):
    return NotFound(f"{entity} {entity_id} not found", {"entity": entity, "id": entity_id})


class FakeContractsService(ServiceBase):
    name = "contracts"

    @rpc
    def create_template(self, data):
        if "{{ undeclared }}" in data.get("body", ""):
            raise ValidationFailed(
                "Invalid template: body", {"body": ["placeholder {{ undeclared }} is not declared in fields"]}
            )
        with _lock:
            tid = next(_ids)
        TEMPLATES[tid] = {"id": tid, "version": 1, "active": True, **data, "received": dict(data),
                          "caller": self.caller.as_dict()}  # fmt: skip
        return TEMPLATES[tid]

    @rpc
    def list_templates(self, filters=None, page=1, page_size=50):
        items = list(TEMPLATES.values())[(page - 1) * page_size : page * page_size]
        return {"items": items, "total": len(TEMPLATES), "page": page, "page_size": page_size,
                "filters": filters}  # fmt: skip

    @rpc
    def get_template(self, template_id):
        if template_id not in TEMPLATES:
            raise _missing("template", template_id)
        return TEMPLATES[template_id]

    @rpc
    def deactivate_template(self, template_id):
        if template_id not in TEMPLATES:
            raise _missing("template", template_id)
        TEMPLATES[template_id]["active"] = False
        return TEMPLATES[template_id]

    @rpc
    def render_document(self, contract_id):
        if contract_id == MISSING:
            raise _missing("contract", contract_id)
        if contract_id == FORBIDDEN:
            raise PermissionDenied("Not allowed to read contracts", {"roles": list(self.caller.roles)})
        return {
            "filename": f"C-2026-{contract_id:06d}.pdf",
            "content_type": "application/pdf",
            "data": base64.b64encode(PDF).decode("ascii"),
            "sha256": hashlib.sha256(PDF).hexdigest(),
            "language": "zh",
        }
