"""The backbone through the gateway, every service running as a process on a real broker."""

from __future__ import annotations

import json
import uuid

from kombu import Connection, Exchange, Queue

from ..conftest import poll


def unique(name: str) -> str:
    return f"{name} {uuid.uuid4().hex[:6]}"


def test_health_and_readiness_need_no_token(system):
    assert system.http.get("/healthz").json() == {"status": "ok"}
    ready = system.http.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["services"]["customers"] == "ok"
    assert system.http.get("/openapi.json").json()["paths"]


def test_every_other_route_needs_a_valid_token(system):
    r = system.http.get("/api/v1/customers")
    assert r.status_code == 401
    assert r.json()["error"]["code"]
    assert (
        system.http.get("/api/v1/customers", headers={"Authorization": "Bearer nonsense"}).status_code == 401
    )
    bad = system.http.post("/api/v1/auth/token", data={"username": "admin", "password": "wrong"})
    assert bad.status_code == 401


def test_sales_rep_sees_only_own_customers(system):
    rep_a = system.create_user(["sales_rep"], full_name="Ayşe Yılmaz")
    rep_b = system.create_user(["sales_rep"], full_name="Борис Иванов")
    manager = system.create_user(["sales_manager"])
    with system.as_user(rep_a) as a, system.as_user(rep_b) as b, system.as_user(manager) as m:
        created = a.post(
            "/api/v1/customers",
            json={
                "name": unique("Anadolu Makina A.Ş."),
                "kind": "company",
                "language": "tr",
                "level": "A",
                "tags": ["vip"],
            },
        )
        assert created.status_code == 201, created.text
        customer = created.json()
        assert customer["code"] and customer["owner_id"] == rep_a["id"]

        assert a.get(f"/api/v1/customers/{customer['id']}").status_code == 200
        assert b.get(f"/api/v1/customers/{customer['id']}").status_code == 404
        assert b.patch(f"/api/v1/customers/{customer['id']}", json={"level": "C"}).status_code == 404
        assert customer["id"] not in [
            c["id"] for c in b.get("/api/v1/customers?page_size=500").json()["items"]
        ]
        assert m.get(f"/api/v1/customers/{customer['id']}").status_code == 200


def test_readonly_reads_but_cannot_write(system):
    ro = system.create_user(["readonly"])
    with system.as_user(ro) as r:
        assert r.get("/api/v1/customers").status_code == 200
        assert r.post("/api/v1/customers", json={"name": unique("X"), "kind": "person"}).status_code == 403


def test_likely_duplicate_is_refused_with_candidates_unless_allowed(system):
    with system.client() as admin:
        name = unique("İstanbul Enerji")
        first = admin.post(
            "/api/v1/customers", json={"name": name, "kind": "company", "tax_id": uuid.uuid4().hex[:10]}
        )
        assert first.status_code == 201, first.text
        # the same name in other case and full-width letters is a duplicate
        twin = name.replace("İstanbul", "ISTANBUL").replace("Enerji", "Ｅｎｅｒｊｉ")
        dup = admin.post("/api/v1/customers", json={"name": twin, "kind": "company"})
        assert dup.status_code == 409, dup.text
        candidates = dup.json()["error"]["details"]["candidates"]
        assert first.json()["id"] in [c["id"] for c in candidates]
        forced = admin.post(
            "/api/v1/customers", json={"name": twin, "kind": "company", "allow_duplicate": True}
        )
        assert forced.status_code == 201


def test_bad_input_is_422_naming_the_field_and_writes_nothing(system):
    with system.client() as admin:
        before = admin.get("/api/v1/customers").json()["total"]
        malformed = admin.post(
            "/api/v1/customers", content=b'{"name": "x", ', headers={"content-type": "application/json"}
        )
        assert malformed.status_code == 422
        assert malformed.json()["error"]["code"]
        wrong = admin.post("/api/v1/customers", json={"name": 12, "kind": "alien", "level": "Z"})
        assert wrong.status_code == 422
        details = json.dumps(wrong.json()["error"]["details"])
        assert "kind" in details and "level" in details
        assert admin.get("/api/v1/customers?page_size=501").status_code == 422
        assert admin.get("/api/v1/customers/999999999").status_code == 404
        assert admin.get("/api/v1/customers").json()["total"] == before


def test_request_id_travels_to_the_service_log(system):
    rid = f"e2e-{uuid.uuid4().hex}"
    with system.client() as admin:
        r = admin.post(
            "/api/v1/customers",
            json={"name": unique("Trace Ltd"), "kind": "company"},
            headers={"X-Request-ID": rid},
        )
        assert r.status_code == 201
        assert r.headers["X-Request-ID"] == rid
        assert admin.get("/api/v1/customers").headers["X-Request-ID"]  # generated when absent
    poll(lambda: rid in system.log_text("customers"), message="request id in the customers log")
    assert rid in system.log_text("gateway")


def test_state_changes_are_published_as_events(system):
    probe = Queue(
        f"e2e-probe-{uuid.uuid4().hex[:6]}",
        exchange=Exchange("customers.events", type="topic", durable=True),
        routing_key="#",
        auto_delete=True,
    )
    with Connection(system.amqp_uri) as conn:
        bound = probe(conn.default_channel)
        bound.declare()
        with system.client() as admin:
            cust = admin.post(
                "/api/v1/customers",
                json={"name": unique("北京机械有限公司"), "kind": "company", "language": "zh"},
            ).json()
            opp = admin.post(
                "/api/v1/opportunities",
                json={
                    "customer_id": cust["id"],
                    "title": "Service deal",
                    "amount": "12000.50",
                    "currency": "CNY",
                    "stage": "lead",
                },
            )
            assert opp.status_code == 201, opp.text
            assert opp.json()["amount"] == "12000.50"
            won = admin.patch(f"/api/v1/opportunities/{opp.json()['id']}", json={"stage": "won"})
            assert won.status_code == 200, won.text
        seen: dict[str, dict] = {}

        def collect():
            while (msg := bound.get(no_ack=True)) is not None:
                body = json.loads(msg.body)
                seen.setdefault(body["type"], body)
            return {"customer_created", "opportunity_stage_changed", "opportunity_won"} <= set(seen)

        poll(collect, message="customer and opportunity events")
    created = seen["customer_created"]
    assert created["event_id"] and created["occurred_at"] and created["version"] == 1
    assert created["payload"]["id"] == cust["id"]


def test_users_reach_services_by_events_and_owner_must_exist(system):
    manager = system.create_user(["sales_manager"])
    rep = system.create_user(["sales_rep"])
    with system.as_user(manager) as m:

        def assign():
            r = m.post(
                "/api/v1/customers",
                json={"name": unique("Owner Test"), "kind": "person", "owner_id": rep["id"]},
            )
            return r if r.status_code == 201 else None

        created = poll(assign, message="customers service knows the new rep")
        assert created.json()["owner_id"] == rep["id"]
        unknown = m.post(
            "/api/v1/customers", json={"name": unique("Nobody's"), "kind": "person", "owner_id": 987654}
        )
        assert unknown.status_code == 422
        assert "owner_id" in unknown.json()["error"]["details"]


def test_csv_import_reports_bad_rows_by_line_and_respects_the_mode(system):
    stamp = uuid.uuid4().hex[:6]
    rows = [
        "name,kind,email,level,tags",
        f"Sofia Trade {stamp},company,sofia-{stamp}@example.bg,A,vip;bg",
        f"Ankara Yapı {stamp},company,ankara-{stamp}@example.tr,B,",
        f",company,nobody-{stamp}@example.com,A,",  # line 4: no name
        f"Guangzhou {stamp},company,gz-{stamp}@example.cn,Q,",  # line 5: bad level
    ]
    data = ("\n".join(rows) + "\n").encode("utf-8")
    with system.client() as admin:
        all_or_nothing = admin.post(
            "/api/v1/customers/import?mode=all_or_nothing",
            files={"file": ("customers.csv", data, "text/csv")},
        )
        assert all_or_nothing.status_code == 200, all_or_nothing.text
        body = all_or_nothing.json()
        assert body["created"] == 0 and body["updated"] == 0
        assert sorted(e["line"] for e in body["errors"]) == [4, 5]
        assert {e.get("field") for e in body["errors"]} >= {"name", "level"}
        assert admin.get(f"/api/v1/customers?q=Sofia Trade {stamp}").json()["total"] == 0

        skip_bad = admin.post(
            "/api/v1/customers/import?mode=skip_bad", files={"file": ("customers.csv", data, "text/csv")}
        )
        assert skip_bad.status_code == 200, skip_bad.text
        assert skip_bad.json()["created"] == 2
        assert admin.get(f"/api/v1/customers?q=sofia trade {stamp}").json()["total"] == 1


def test_admin_runs_the_daily_jobs_for_a_date(system):
    with system.client() as admin:
        r = admin.post("/api/v1/admin/jobs/daily", json={"as_of": "2027-01-31"})
        assert r.status_code == 200, r.text
        assert "customers" in r.json()["results"]
        assert admin.post("/api/v1/admin/jobs/daily", json={"as_of": "31/01/2027"}).status_code == 422
    rep = system.create_user(["sales_rep"])
    with system.as_user(rep) as r:
        assert r.post("/api/v1/admin/jobs/daily", json={"as_of": "2027-01-31"}).status_code == 403


def test_users_me_and_admin_only_user_creation(system):
    rep = system.create_user(["sales_rep"], full_name="Мария Петрова", department="Sofia")
    with system.as_user(rep) as r:
        me = r.get("/api/v1/users/me").json()
        assert me["username"] == rep["username"] and me["roles"] == ["sales_rep"]
        assert "password" not in json.dumps(me).lower().replace("password_changed", "")
        denied = r.post(
            "/api/v1/users",
            json={"username": "x" + uuid.uuid4().hex[:5], "password": "whatever-123", "roles": ["admin"]},
        )
        assert denied.status_code == 403
