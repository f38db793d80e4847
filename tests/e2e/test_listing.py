"""Lists and creates through the gateway on the real services (issue 19 §2, §3): ``Location`` on
``201``, one list envelope (categories, contract versions and amendments included), ``sort``
ordered by the services' SQL both ways with an unknown field a 422 naming it, and unknown query
parameters a 422 naming them."""

from __future__ import annotations

import uuid


def test_sort_envelopes_location_and_unknown_parameters(system):
    tag = uuid.uuid4().hex[:6]
    with system.client() as admin:
        # Location of a create, on the real customers and inventory services
        created = []
        for name in ("Beta", "Alpha", "Gamma"):
            r = admin.post("/api/v1/customers", json={"name": f"Liste {tag} {name}", "kind": "company"})
            assert r.status_code == 201, r.text
            assert r.headers["location"] == f"/api/v1/customers/{r.json()['id']}"
            created.append(r.json())
        assert admin.get(r.headers["location"]).json()["name"] == f"Liste {tag} Gamma"
        r = admin.post(
            "/api/v1/products",
            json={
                "sku": f"LST-{tag}",
                "name": "Liste",
                "kind": "service",
                "unit_price": "1.00",
                "currency": "EUR",
            },
        )
        assert r.status_code == 201 and r.headers["location"] == f"/api/v1/products/{r.json()['id']}"
        product = r.json()

        # sort in the service's SQL, both directions, ties and paging kept
        def names(sort: str, **extra) -> list[str]:
            r = admin.get("/api/v1/customers", params={"q": f"Liste {tag}", "sort": sort, **extra})
            assert r.status_code == 200, r.text
            return [c["name"].rsplit(" ", 1)[1] for c in r.json()["items"]]

        assert names("name") == ["Alpha", "Beta", "Gamma"]
        assert names("-name") == ["Gamma", "Beta", "Alpha"]
        assert names("-created_at,-id") == ["Gamma", "Alpha", "Beta"]
        assert names("-name", page=2, page_size=2) == ["Alpha"]
        r = admin.get("/api/v1/customers", params={"sort": "-shoe_size"})
        assert r.status_code == 422 and "shoe_size" in r.json()["error"]["details"]["sort"][0]
        r = admin.get("/api/v1/products", params={"sort": "-unit_price,sku", "q": f"LST-{tag}"})
        assert r.status_code == 200 and [p["id"] for p in r.json()["items"]] == [product["id"]]

        # unknown query parameters: 422 naming them, on routes of several services
        for url in (
            "/api/v1/customers?size=medium",
            "/api/v1/products?colour=red",
            "/api/v1/invoices?size=1",
        ):
            r = admin.get(url)
            assert r.status_code == 422, (url, r.text)
            assert (
                r.json()["error"]["code"] == "UNKNOWN_PARAMETER" and url.split("?")[1].split("=")[0] in r.text
            )

        # categories, contract versions and amendments: the list envelope
        for name in (f"Z{tag}", f"A{tag}"):
            assert admin.post("/api/v1/categories", json={"name": name}).status_code == 201
        listed = admin.get("/api/v1/categories", params={"page_size": 500}).json()
        assert set(listed) == {"items", "total", "page", "page_size"} and listed["total"] >= 2
        mine = [c["name"] for c in listed["items"] if c["name"].endswith(tag)]
        assert mine == [f"A{tag}", f"Z{tag}"]  # by path
        backwards = admin.get("/api/v1/categories", params={"page_size": 500, "sort": "-name"}).json()
        assert [c["name"] for c in backwards["items"] if c["name"].endswith(tag)] == [f"Z{tag}", f"A{tag}"]

        r = admin.post(
            "/api/v1/contracts",
            json={"customer_id": created[0]["id"], "title": f"Liste {tag}", "kind": "maintenance",
                  "currency": "EUR", "start_date": "2031-01-01", "end_date": "2031-12-31",
                  "billing": {"frequency": "monthly", "in_advance": True, "payment_terms_days": 30},
                  "lines": [{"product_id": product["id"], "quantity": 1}]},
        )  # fmt: skip
        assert r.status_code == 201, r.text
        assert r.headers["location"] == f"/api/v1/contracts/{r.json()['id']}"
        contract_id = r.json()["id"]
        for part in ("versions", "amendments", "attachments"):
            body = admin.get(f"/api/v1/contracts/{contract_id}/{part}", params={"page_size": 10}).json()
            assert body["page"] == 1 and body["page_size"] == 10 and body["total"] == len(body["items"]), part
