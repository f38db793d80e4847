"""A stand-in for the ``contracts`` service's data-management RPC methods (co_terminate,
bulk_price_update, get_price_batch, restructure and the import protocol), for the gateway's
route tests: same names and signatures, answers that echo what arrived (and who sent it), so the
tests see exactly what the gateway forwards.

Run: ``nameko run --config config.yml bulk_stand_in:ContractsBulkStandIn`` (the tests do it, on
their own vhost, so no other stand-in named ``contracts`` competes for the calls).
"""

from __future__ import annotations

import itertools

from crm_common.errors import NotFound, ValidationFailed
from crm_common.rpc import rpc
from crm_common.service import ServiceBase

_ids = itertools.count(1)
JOBS: dict[int, dict] = {}


class ContractsBulkStandIn(ServiceBase):
    name = "contracts"

    def _echo(self, method: str, data) -> dict:
        return {"method": method, "received": data, "caller": self.caller.as_dict()}

    @rpc
    def co_terminate(self, data):
        return self._echo("co_terminate", data)

    @rpc
    def bulk_price_update(self, data):
        if data.get("percent") == "0":
            raise ValidationFailed("percent: must not be 0", {"percent": ["must not be 0"]})
        return self._echo("bulk_price_update", data)

    @rpc
    def restructure(self, data):
        return self._echo("restructure", data)

    @rpc
    def get_price_batch(self, batch_id):
        if batch_id != 1:
            raise NotFound(f"price update batch {batch_id} not found", {"id": batch_id})
        return {"id": 1, "status": "pending_approval"}

    # -- import ------------------------------------------------------------------------
    @rpc
    def start_import(self, mode, filename=None):
        job_id = next(_ids)
        JOBS[job_id] = {
            "job_id": job_id,
            "mode": mode,
            "filename": filename,
            "status": "receiving",
            "rows": [],
        }
        return {"job_id": job_id, "status": "receiving"}

    @rpc
    def import_batch(self, job_id, rows):
        JOBS[job_id]["rows"].extend(rows)
        return {"job_id": job_id, "rows_received": len(JOBS[job_id]["rows"])}

    @rpc
    def finish_import(self, job_id):
        job = JOBS[job_id]
        refs = {r["data"].get("contract_ref") for r in job["rows"]}
        errors = [
            {"line": r["line"], "field": "contract_ref", "message": "required"}
            for r in job["rows"]
            if not r["data"].get("contract_ref")
        ]
        job["status"] = "done"
        job["result"] = {
            "job_id": job_id,
            "status": "done",
            "created": 0 if errors and job["mode"] == "all_or_nothing" else len(refs - {None, ""}),
            "errors": errors,
            "rows": job["rows"],
            "filename": job["filename"],
            "caller": self.caller.as_dict(),
        }
        return job["result"]

    @rpc
    def abort_import(self, job_id, reason=None):
        JOBS[job_id]["status"] = "failed"
        return {"job_id": job_id, "status": "failed", "message": reason}

    @rpc
    def get_import(self, job_id):
        if job_id not in JOBS:
            raise NotFound(f"import {job_id} not found", {"id": job_id})
        job = JOBS[job_id]
        return {"job_id": job_id, "status": job["status"], "rows_received": len(job["rows"])}
