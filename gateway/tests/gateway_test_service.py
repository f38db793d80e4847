"""Real Nameko services the gateway's tests talk to over a throwaway RabbitMQ vhost.

* ``gateway_test`` — echo (with the caller context and request id it received), slow, errors;
* ``customers`` — a small in-memory stand-in for the customers service: the RPC methods the
  gateway's routes call, with the same signatures, so routes, error mapping and the streaming
  CSV import are exercised end to end without the real service.

Run: ``nameko run --config config.yml gateway_test_service:EchoService
gateway_test_service:FakeCustomersService`` (the tests do it).
"""

from __future__ import annotations

import itertools
import threading
import uuid

import eventlet
from crm_common.errors import Conflict, NotFound, ValidationFailed
from crm_common.paging import sort_rows
from crm_common.rpc import rpc
from crm_common.service import ServiceBase
from nameko.extensions import DependencyProvider


class ContextData(DependencyProvider):
    def get_dependency(self, worker_ctx):
        return dict(worker_ctx.context_data)


class EchoService(ServiceBase):
    name = "gateway_test"
    context_data = ContextData()

    @rpc
    def echo(self, *args, **kwargs):
        caller = self.caller
        return {
            "args": list(args),
            "kwargs": kwargs,
            "caller": caller.as_dict(),
            "request_id": caller.request_id,
            "call_id_stack": self.context_data.get("call_id_stack"),
        }

    @rpc
    def slow(self, seconds):
        eventlet.sleep(float(seconds))
        return {"slept": seconds}

    @rpc
    def fail_not_found(self):
        raise NotFound("Widget 7 not found", {"id": 7})

    @rpc
    def fail_database_down(self):
        """A real database error: the SQLite file's directory does not exist."""
        from sqlalchemy import create_engine, text

        with create_engine("sqlite:////nonexistent-crm-dir/crm.db").connect() as conn:
            conn.execute(text("SELECT 1"))

    @rpc
    def fail_validation(self):
        raise ValidationFailed("Invalid input: name", {"name": ["must not be empty"]})

    @rpc
    def fail_conflict(self):
        raise Conflict("Already approved", {"status": "approved"})

    @rpc
    def fail_unexpected(self):
        raise RuntimeError("secret internal detail: password=hunter2")

    def daily_jobs(self, as_of):
        return {"as_of": as_of.isoformat(), "ran": True}


_ids = itertools.count(1)
_lock = threading.Lock()
BROKEN_ID = 900_000_013  # answers an unexpected error
SLOW_ID = 900_000_666  # answers after 5 s
CUSTOMERS: dict[int, dict] = {}
OPPORTUNITIES: dict[int, dict] = {}
JOBS: dict[str, dict] = {}


def _page(items, page, page_size, sort=None):
    if sort and items:  # the services' own sort check and order, over the stand-in's dicts
        items = sort_rows(items, sort, {key for item in items for key in item} | {"id"})
    return {
        "items": items[(page - 1) * page_size : page * page_size],
        "total": len(items),
        "page": page,
        "page_size": page_size,
    }


class FakeCustomersService(ServiceBase):
    """In-memory; enough behaviour for the gateway's route tests."""

    name = "customers"

    @rpc
    def create_customer(self, data):
        if data.get("tax_id") == "INVALID":
            raise ValidationFailed("Invalid input: tax_id", {"tax_id": ["checksum mismatch"]})
        for other in CUSTOMERS.values():
            if other["name"].casefold() == data["name"].casefold() and not data.get("allow_duplicate"):
                raise Conflict(
                    "Likely duplicate", {"candidates": [{"id": other["id"], "name": other["name"]}]}
                )
        with _lock:
            cid = next(_ids)
        customer = {
            "id": cid,
            "code": f"C{cid:06d}",
            **{k: v for k, v in data.items() if k != "contacts"},
            "contacts": data.get("contacts", []),
            "follow_ups": [],
            "created_by": self.caller.as_dict(),
            "request_id": self.caller.request_id,
        }
        CUSTOMERS[cid] = customer
        return customer

    # ids no created customer reaches (creates count up from 1 across the whole session)
    def _get(self, customer_id):
        if customer_id == BROKEN_ID:
            raise RuntimeError("secret internal detail: dsn=postgresql://root:pw@db")
        if customer_id == SLOW_ID:
            eventlet.sleep(5)
        try:
            return CUSTOMERS[customer_id]
        except KeyError:
            raise NotFound(f"Customer {customer_id} not found", {"id": customer_id}) from None

    @rpc
    def get_customer(self, customer_id):
        return self._get(customer_id)

    @rpc
    def list_customers(self, filters, page, page_size, sort=None):
        items = list(CUSTOMERS.values())
        if filters.get("q"):
            items = [c for c in items if filters["q"].casefold() in c["name"].casefold()]
        if filters.get("level"):
            items = [c for c in items if c.get("level") == filters["level"]]
        result = _page(items, page, page_size, sort)
        result["filters"] = filters
        return result

    @rpc
    def update_customer(self, customer_id, data):
        customer = self._get(customer_id)
        customer.update(data)
        return customer

    @rpc
    def delete_customer(self, customer_id):
        self._get(customer_id)
        del CUSTOMERS[customer_id]
        return {"id": customer_id, "deleted": True}

    @rpc
    def archive_customer(self, customer_id):
        customer = self._get(customer_id)
        if customer.get("archived"):
            raise Conflict(f"Customer {customer['code']} is already archived", {"customer_id": customer_id})
        customer["archived"] = True
        return customer

    @rpc
    def restore_customer(self, customer_id):
        customer = self._get(customer_id)
        customer["archived"] = False
        return customer

    @rpc
    def red_list_customer(self, customer_id, data):
        customer = self._get(customer_id)
        customer.update(red_listed=True, red_list_reason=data["reason"])
        return customer

    @rpc
    def clear_red_list(self, customer_id):
        customer = self._get(customer_id)
        customer.update(red_listed=False, red_list_reason=None)
        return customer

    @rpc
    def add_contact(self, customer_id, data):
        customer = self._get(customer_id)
        contact = {"id": next(_ids), **data}
        customer["contacts"].append(contact)
        return contact

    @rpc
    def list_contacts(self, customer_id, page, page_size, sort=None):
        return _page(self._get(customer_id)["contacts"], page, page_size, sort)

    @rpc
    def add_follow_up(self, customer_id, data):
        customer = self._get(customer_id)
        follow_up = {"id": next(_ids), **data}
        customer["follow_ups"].append(follow_up)
        return follow_up

    @rpc
    def list_follow_ups(self, customer_id, page, page_size, sort=None):
        return _page(self._get(customer_id)["follow_ups"], page, page_size, sort)

    @rpc
    def create_opportunity(self, data):
        self._get(data["customer_id"])
        oid = next(_ids)
        OPPORTUNITIES[oid] = {"id": oid, **data}
        return OPPORTUNITIES[oid]

    @rpc
    def list_opportunities(self, filters, page, page_size, sort=None):
        items = [o for o in OPPORTUNITIES.values() if all(o.get(k) == v for k, v in filters.items())]
        return _page(items, page, page_size, sort)

    @rpc
    def get_opportunity(self, opportunity_id):
        try:
            return OPPORTUNITIES[opportunity_id]
        except KeyError:
            raise NotFound(f"Opportunity {opportunity_id} not found", {"id": opportunity_id}) from None

    @rpc
    def update_opportunity(self, opportunity_id, data):
        opp = self.get_opportunity(opportunity_id)
        if opp.get("stage") in ("won", "lost") and "stage" in data:
            raise Conflict("The opportunity is closed", {"stage": [opp["stage"]]})
        opp.update(data)
        return opp

    # -- import ------------------------------------------------------------------------
    @rpc
    def start_import(self, mode, filename):
        job_id = str(uuid.uuid4())
        JOBS[job_id] = {
            "job_id": job_id,
            "mode": mode,
            "filename": filename,
            "status": "receiving",
            "rows": [],
            "batches": [],
            "caller": self.caller.as_dict(),
        }
        return {"job_id": job_id, "status": "receiving"}

    @rpc
    def import_batch(self, job_id, rows):
        job = JOBS[job_id]
        job["batches"].append(len(rows))
        job["rows"].extend(rows)
        return {"received": len(job["rows"])}

    @rpc
    def finish_import(self, job_id):
        job = JOBS[job_id]
        errors = [
            {"line": r["line"], "field": "name", "message": "required"}
            for r in job["rows"]
            if not (r["data"].get("name") or "").strip()
        ]
        good = len(job["rows"]) - len(errors)
        created = 0 if (errors and job["mode"] == "all_or_nothing") else good
        job["status"] = "failed" if (errors and job["mode"] == "all_or_nothing") else "done"
        job["result"] = {
            "created": created,
            "updated": 0,
            "errors": errors,
            "job_id": job_id,
            "status": job["status"],
            "batches": job["batches"],
            "first_rows": job["rows"][:5],
            "last_line": job["rows"][-1]["line"] if job["rows"] else None,
            "filename": job["filename"],
        }
        return job["result"]

    @rpc
    def abort_import(self, job_id, reason):
        JOBS[job_id]["status"] = "aborted"
        JOBS[job_id]["reason"] = reason
        return {"job_id": job_id, "status": "aborted"}

    @rpc
    def get_import(self, job_id):
        try:
            job = JOBS[job_id]
        except KeyError:
            raise NotFound(f"Import {job_id} not found", {"job_id": job_id}) from None
        out = {
            "job_id": job_id,
            "status": job["status"],
            "rows_received": len(job["rows"]),
            "rows_processed": len(job["rows"]) if job["status"] != "receiving" else 0,
            "batches": job["batches"],
            "reason": job.get("reason"),
        }
        if "result" in job:
            out.update(created=job["result"]["created"], updated=0, error_count=len(job["result"]["errors"]))
        return out
