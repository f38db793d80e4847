"""A stand-in for the contracts service's progress RPC methods (same names and signatures), for
the gateway's contract progress route tests: in memory, it answers with what it received so the
tests see exactly what the gateway sent.

Run: ``nameko run --config config.yml progress_stand_in:FakeContractsService`` (the tests do it).
"""

from __future__ import annotations

import itertools
import threading

from crm_common.errors import Conflict, NotFound
from crm_common.rpc import rpc
from crm_common.service import ServiceBase

CANCELLED = 409  # contract id the stand-in treats as a cancelled contract
MISSING = 404  # contract id that does not exist

_ids = itertools.count(1)
_lock = threading.Lock()
MILESTONES: dict[int, dict] = {}


def _contract(contract_id):
    if contract_id == MISSING:
        raise NotFound(f"contract {contract_id} not found", {"entity": "contract", "id": contract_id})
    return contract_id


def _milestone(contract_id, milestone_id):
    found = MILESTONES.get(milestone_id)
    if found is None or found["contract_id"] != contract_id:
        raise NotFound(f"milestone {milestone_id} not found", {"entity": "milestone", "id": milestone_id})
    return found


def _writable(contract_id):
    _contract(contract_id)
    if contract_id == CANCELLED:
        raise Conflict("Contract C-1 is cancelled: its milestones cannot change", {"status": "cancelled"})
    return contract_id


class FakeContractsService(ServiceBase):
    name = "contracts"

    @rpc
    def add_milestone(self, contract_id, data):
        _writable(contract_id)
        with _lock:
            mid = next(_ids)
        MILESTONES[mid] = {"id": mid, "contract_id": contract_id, **data, "received": dict(data)}
        return MILESTONES[mid]

    @rpc
    def update_milestone(self, contract_id, milestone_id, data):
        _writable(contract_id)
        found = _milestone(contract_id, milestone_id)
        found.update(data)
        return {**found, "received": dict(data)}

    @rpc
    def delete_milestone(self, contract_id, milestone_id):
        _writable(contract_id)
        _milestone(contract_id, milestone_id)
        del MILESTONES[milestone_id]
        return {"id": milestone_id, "contract_id": contract_id, "deleted": True}

    @rpc
    def list_milestones(self, contract_id):
        _contract(contract_id)
        items = [m for m in MILESTONES.values() if m["contract_id"] == contract_id]
        return {"contract_id": contract_id, "items": items, "total": len(items)}

    @rpc
    def get_progress(self, contract_id, as_of=None):
        _contract(contract_id)
        return {"contract_id": contract_id, "as_of": as_of, "caller": self.caller.as_dict()}

    @rpc
    def list_progress(self, filters=None, page=1, page_size=50):
        return {"items": [], "total": 0, "page": page, "page_size": page_size, "filters": filters}
