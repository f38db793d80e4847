"""Signing keys, first passwords and sessions, through HTTP: short access tokens, rotating
refresh tokens (a replayed one ends its session), logout, and every session of a user ending at
once when their password, roles or status change."""

from __future__ import annotations

import asyncio
import re
import stat
from pathlib import Path

import pytest
from conftest import ADMIN_PASSWORD, create_user
from gateway.settings import SECRET_FILE, Settings
from pydantic import ValidationError

pytestmark = pytest.mark.asyncio

REPO = Path(__file__).resolve().parents[2]
PG = "postgresql://crm@db.internal:5432/gateway"
REP_PASSWORD = "rep-password-1"


async def sign_in(client, username="admin", password=ADMIN_PASSWORD) -> dict:
    r = await client.post("/api/v1/auth/token", data={"username": username, "password": password})
    assert r.status_code == 200, r.text
    return r.json()


def bearer(tokens: dict) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}"}


async def refresh(client, refresh_token: str):
    return await client.post("/api/v1/auth/refresh", json={"refresh_token": refresh_token})


async def me(client, tokens: dict) -> int:
    return (await client.get("/api/v1/users/me", headers=bearer(tokens))).status_code


# -- sessions ---------------------------------------------------------------------------------


async def test_login_answers_a_short_access_token_and_a_refresh_token(client):
    tokens = await sign_in(client)
    assert set(tokens) == {"access_token", "token_type", "expires_in", "refresh_token", "refresh_expires_in"}
    assert tokens["token_type"] == "bearer" and tokens["expires_in"] == 15 * 60
    assert 12 * 3600 - 60 <= tokens["refresh_expires_in"] <= 12 * 3600
    assert await me(client, tokens) == 200


async def test_refresh_rotates_and_a_replayed_refresh_token_ends_the_session(client):
    first = await sign_in(client)
    r = await refresh(client, first["refresh_token"])
    assert r.status_code == 200, r.text
    second = r.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    assert second["refresh_expires_in"] <= first["refresh_expires_in"]  # rotation never extends
    assert await me(client, second) == 200

    # the spent token comes back (a copy someone kept): the whole session ends
    r = await refresh(client, first["refresh_token"])
    assert r.status_code == 401 and r.json()["error"]["code"] == "UNAUTHORIZED"
    assert (await refresh(client, second["refresh_token"])).status_code == 401
    assert await me(client, second) == 401
    # other sessions of the same user are not touched
    other = await sign_in(client)
    assert await me(client, other) == 200
    assert (await refresh(client, other["refresh_token"])).status_code == 200


async def test_two_refreshes_racing_with_one_token_yield_one_new_session_at_most(client):
    tokens = await sign_in(client)
    answers = await asyncio.gather(*(refresh(client, tokens["refresh_token"]) for _ in range(4)))
    assert sorted(r.status_code for r in answers)[-1] in (200, 401)
    assert [r.status_code for r in answers].count(200) <= 1
    # whatever won, the token was presented twice: nothing of that session keeps working
    for r in answers:
        if r.status_code == 200:
            assert (await refresh(client, r.json()["refresh_token"])).status_code == 401


async def test_refresh_refuses_unknown_tokens_and_bad_bodies(client):
    r = await refresh(client, "x" * 43)
    assert r.status_code == 401
    r = await client.post("/api/v1/auth/refresh", json={})
    assert r.status_code == 422 and "refresh_token" in r.json()["error"]["details"]
    r = await client.post("/api/v1/auth/refresh", json={"refresh_token": "x" * 201})
    assert r.status_code == 422 and "refresh_token" in r.json()["error"]["details"]


async def test_logout_ends_the_session_of_the_access_token(client):
    tokens = await sign_in(client)
    other = await sign_in(client)
    r = await client.post("/api/v1/auth/logout", headers=bearer(tokens))
    assert r.status_code == 204
    assert await me(client, tokens) == 401
    assert (await refresh(client, tokens["refresh_token"])).status_code == 401
    assert await me(client, other) == 200  # another device stays signed in
    assert (await client.post("/api/v1/auth/logout")).status_code == 401


async def test_logout_with_a_refresh_token_ends_that_session_only_if_it_is_the_callers(client, admin_headers):
    await create_user(client, admin_headers)
    rep = await sign_in(client, "rep1", REP_PASSWORD)
    admin_a, admin_b = await sign_in(client), await sign_in(client)
    r = await client.post(
        "/api/v1/auth/logout",
        headers=bearer(admin_a),
        json={"refresh_token": admin_b["refresh_token"]},
    )
    assert r.status_code == 204
    assert await me(client, admin_a) == 401 and await me(client, admin_b) == 401
    # someone else's refresh token in the body: their session goes on
    admin_c = await sign_in(client)
    r = await client.post(
        "/api/v1/auth/logout", headers=bearer(admin_c), json={"refresh_token": rep["refresh_token"]}
    )
    assert r.status_code == 204
    assert await me(client, rep) == 200
    assert (await refresh(client, rep["refresh_token"])).status_code == 200


async def test_a_session_ends_at_its_lifetime_whatever_the_refreshes(app_factory):
    async with app_factory(crm_refresh_ttl_hours=2 / 3600) as client:
        tokens = await sign_in(client)
        assert tokens["refresh_expires_in"] <= 2 and tokens["expires_in"] <= 2  # cut to the session
        await asyncio.sleep(2.5)
        assert (await refresh(client, tokens["refresh_token"])).status_code == 401
        assert await me(client, tokens) == 401


CHANGES = {
    "admin reset": {"password": "reset-by-admin-77"},
    "deactivation": {"active": False},
    "role change": {"roles": ["readonly"]},
}


@pytest.mark.parametrize("change", CHANGES, ids=list(CHANGES))
async def test_a_change_of_the_user_ends_every_session_at_once(client, admin_headers, change):
    user = await create_user(client, admin_headers)
    sessions = [await sign_in(client, "rep1", REP_PASSWORD) for _ in range(2)]
    r = await client.patch(f"/api/v1/users/{user['id']}", headers=admin_headers, json=CHANGES[change])
    assert r.status_code == 200, r.text
    for tokens in sessions:
        assert await me(client, tokens) == 401
        assert (await refresh(client, tokens["refresh_token"])).status_code == 401
    if change != "deactivation":
        password = CHANGES[change].get("password", REP_PASSWORD)
        assert await me(client, await sign_in(client, "rep1", password)) == 200


async def test_a_profile_change_keeps_the_sessions(client, admin_headers):
    user = await create_user(client, admin_headers)
    tokens = await sign_in(client, "rep1", REP_PASSWORD)
    r = await client.patch(f"/api/v1/users/{user['id']}", headers=admin_headers, json={"full_name": "R. One"})
    assert r.status_code == 200
    assert await me(client, tokens) == 200
    assert (await refresh(client, tokens["refresh_token"])).status_code == 200


async def test_a_password_change_ends_every_session_of_the_user(client, admin_headers):
    await create_user(client, admin_headers)
    laptop, phone = await sign_in(client, "rep1", REP_PASSWORD), await sign_in(client, "rep1", REP_PASSWORD)
    r = await client.post(
        "/api/v1/users/me/password",
        headers=bearer(laptop),
        json={"old_password": REP_PASSWORD, "new_password": "a-new-rep-password"},
    )
    assert r.status_code == 204
    for tokens in (laptop, phone):
        assert await me(client, tokens) == 401
        assert (await refresh(client, tokens["refresh_token"])).status_code == 401
    await sign_in(client, "rep1", "a-new-rep-password")


async def test_a_change_seen_by_another_replica_within_the_user_cache(app_factory, tmp_path):
    """Two gateway processes on one database: a change made through one ends the sessions on
    the other within CRM_USER_CACHE_SECONDS (here: at once, with no cache)."""
    async with app_factory(crm_user_cache_seconds=0) as one, app_factory(crm_user_cache_seconds=0) as two:
        admin = bearer(await sign_in(one))
        user = await create_user(one, admin)
        tokens = await sign_in(two, "rep1", REP_PASSWORD)
        assert await me(two, tokens) == 200
        r = await one.patch(f"/api/v1/users/{user['id']}", headers=admin, json={"roles": ["finance"]})
        assert r.status_code == 200
        assert await me(two, tokens) == 401


# -- signing keys and first passwords ---------------------------------------------------------


async def test_embedded_default_generates_a_key_per_installation_and_keeps_it(
    app_factory, monkeypatch, tmp_path
):
    data = tmp_path / "data"
    monkeypatch.setenv("CRM_DATA_DIR", str(data))
    monkeypatch.delenv("GATEWAY_DATABASE_URL", raising=False)
    embedded = dict(gateway_database_url=None, crm_jwt_secret=None, crm_admin_password=None)
    async with app_factory(**embedded) as client:
        tokens = await sign_in(client, "admin", "admin")  # the documented first login
    key_file = data / SECRET_FILE
    key = key_file.read_text().strip()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert re.fullmatch(r"[0-9a-f]{64}", key)
    assert key not in "".join(
        p.read_text(errors="ignore") for p in (REPO / "gateway" / "gateway").glob("*.py")
    )
    async with app_factory(**embedded) as client:  # a restart: the tokens stay valid
        assert await me(client, tokens) == 200
        assert (await refresh(client, tokens["refresh_token"])).status_code == 200
    assert key_file.read_text().strip() == key

    other = tmp_path / "other"
    monkeypatch.setenv("CRM_DATA_DIR", str(other))
    async with app_factory(**embedded) as client:  # another installation: another key
        assert (other / SECRET_FILE).read_text().strip() != key
        assert await me(client, tokens) == 401


async def test_a_damaged_key_file_stops_the_start(app_factory, monkeypatch, tmp_path):
    monkeypatch.setenv("CRM_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("GATEWAY_DATABASE_URL", raising=False)
    (tmp_path / SECRET_FILE).write_text("short\n")
    with pytest.raises(RuntimeError, match=SECRET_FILE):
        async with app_factory(gateway_database_url=None, crm_jwt_secret=None):
            pass


def published_secrets() -> list[str]:
    """Every CRM_JWT_SECRET value written in the repository's deployment files and docs."""
    found = {"crm-development-secret-do-not-use-in-production"}  # the former embedded default
    files = [REPO / "deploy" / "compose" / ".env.example", REPO / "README.md", *REPO.glob("docs/*.md")]
    files += [*REPO.glob("deploy/**/*.yaml"), *REPO.glob("deploy/**/*.yml")]
    for path in files:
        for match in re.finditer(
            r"(?:CRM_JWT_SECRET|jwt-secret)[ \t]*[=:][ \t]*([^\s$`'\"{}]+)", path.read_text()
        ):
            found.add(match.group(1))
    return sorted(found)


@pytest.mark.parametrize("secret", published_secrets())
async def test_secrets_written_in_the_repository_are_refused(secret, monkeypatch):
    monkeypatch.delenv("CRM_JWT_SECRET", raising=False)
    with pytest.raises(ValidationError, match="CRM_JWT_SECRET"):
        Settings(gateway_database_url=PG, crm_jwt_secret=secret)


WEAK_SECRETS = {
    "short": "4f1c9a2e7b",
    "31 bytes": "3f9a0c7e1b5d28e6a4c0f7b3d91e5a2",
    "one character": "z" * 64,
    "a sequence": "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
    "few characters": "abab" * 16,
    "the example placeholder": "change-me-to-64-hex-characters-from-openssl-rand-hex-32-xxxxxxxxx",
}


@pytest.mark.parametrize("secret", WEAK_SECRETS.values(), ids=list(WEAK_SECRETS))
async def test_short_or_low_entropy_secrets_are_refused(secret, monkeypatch):
    monkeypatch.delenv("CRM_JWT_SECRET", raising=False)
    with pytest.raises(ValidationError, match="CRM_JWT_SECRET"):
        Settings(gateway_database_url=PG, crm_jwt_secret=secret)


async def test_the_example_environment_has_no_usable_secret():
    text = (REPO / "deploy" / "compose" / ".env.example").read_text()
    for name in ("CRM_JWT_SECRET", "CRM_ADMIN_PASSWORD"):
        (value,) = re.findall(rf"^{name}=(.*)$", text, re.MULTILINE)
        assert value.strip() == "", f"{name} must be generated, not copied"


@pytest.mark.parametrize(
    "password", ["a", "admin", "12345678", "password1234", "change-me-admin-password", "Administrator1"]
)
async def test_a_weak_first_admin_password_stops_a_real_deployment(app_factory, password):
    with pytest.raises(RuntimeError, match="CRM_ADMIN_PASSWORD"):
        async with app_factory(crm_admin_password=password):
            pass


# -- logins: throttling, disabled accounts, password policy -----------------------------------


@pytest.fixture
def fast_throttle(monkeypatch):
    from gateway import throttle

    monkeypatch.setattr(throttle, "BASE_DELAY", 0.001)


async def wrong(client, username="admin"):
    return await client.post(
        "/api/v1/auth/token", data={"username": username, "password": "not-the-password"}
    )


async def test_guessing_a_password_is_throttled_then_refused(client, fast_throttle):
    answers = [await wrong(client) for _ in range(40)]
    assert {r.status_code for r in answers[:10]} == {401}
    assert answers[-1].status_code == 429
    r = await client.post("/api/v1/auth/token", data={"username": "admin", "password": ADMIN_PASSWORD})
    assert r.status_code == 429, "the right password after 40 wrong ones must not get in"
    assert int(r.headers["retry-after"]) >= 1
    assert r.json()["error"]["details"]["retry_after"] == int(r.headers["retry-after"])


async def test_delays_grow_before_the_refusal(client, monkeypatch):
    from gateway import throttle

    waits: list[float] = []
    real_sleep = asyncio.sleep

    async def sleep(seconds):
        waits.append(seconds)
        await real_sleep(0)

    monkeypatch.setattr(throttle, "BASE_DELAY", 0.5)
    monkeypatch.setattr("gateway.routes.auth.asyncio.sleep", sleep)
    for _ in range(10):
        assert (await wrong(client)).status_code == 401
    assert waits == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0, 4.0]
    assert (await wrong(client)).status_code == 429


async def test_a_success_clears_the_account_but_not_a_guessing_address(
    client, admin_headers, fast_throttle, monkeypatch
):
    from gateway import throttle

    monkeypatch.setattr(throttle, "ADDRESS", throttle.Limit(free=10, refuse_after=30, lockout=60.0))
    for _ in range(5):
        await wrong(client)
    await sign_in(client)  # below the refusal: the right password still works, and clears it
    for _ in range(9):
        assert (await wrong(client)).status_code == 401
    # guessing at many accounts from one address: that address is refused, whatever the name
    for i in range(30):
        await wrong(client, f"ghost{i}")
    r = await client.post("/api/v1/auth/token", data={"username": "admin", "password": ADMIN_PASSWORD})
    assert r.status_code == 429


async def test_a_disabled_account_is_answered_as_a_wrong_password(client, admin_headers):
    user = await create_user(client, admin_headers)
    await client.patch(f"/api/v1/users/{user['id']}", headers=admin_headers, json={"active": False})
    state = client.app.state.gateway
    checked = []
    verify = state.passwords.verify

    async def spy(password_hash, password):
        checked.append(password_hash is not None)
        return await verify(password_hash, password)

    state.passwords.verify = spy
    disabled = await client.post("/api/v1/auth/token", data={"username": "rep1", "password": REP_PASSWORD})
    bad = await client.post("/api/v1/auth/token", data={"username": "rep1", "password": "wrong-password-1"})
    unknown = await client.post("/api/v1/auth/token", data={"username": "nobody", "password": REP_PASSWORD})
    assert disabled.status_code == bad.status_code == unknown.status_code == 401
    assert disabled.json() == bad.json() == unknown.json()
    assert disabled.headers.get("www-authenticate") == bad.headers.get("www-authenticate")
    assert checked == [True, True, False]  # the same password check (and time) for each


async def test_every_failed_login_is_audited(client, admin_headers):
    from sqlalchemy import select

    await wrong(client)
    await wrong(client, "nobody")
    audit = client.app.state.gateway.db.infra.audit_log
    with client.app.state.gateway.db.read() as s:
        rows = s.execute(select(audit).where(audit.c.action == "login_failed").order_by(audit.c.id)).all()
    assert [(r.entity, r.entity_id, r.changes["username"][1], r.changes["reason"][1]) for r in rows] == [
        ("login", "1", "admin", "wrong password"),
        ("login", "unknown", "nobody", "unknown user"),
    ]
    assert "not-the-password" not in str([r.changes for r in rows])


WEAK_PASSWORDS = {
    "short": "Sh0rt-pass!",
    "common": "password1234",
    "common with separators": "qwerty-123456",
    "the username": "Rep.Person.01",
}


@pytest.mark.parametrize("password", WEAK_PASSWORDS.values(), ids=list(WEAK_PASSWORDS))
async def test_new_passwords_follow_the_policy(client, admin_headers, password):
    body = {"username": "rep.person.01", "password": password, "roles": ["sales_rep"]}
    r = await client.post("/api/v1/users", headers=admin_headers, json=body)
    assert r.status_code == 422 and "password" in r.json()["error"]["details"], r.text
    assert (await client.get("/api/v1/users", headers=admin_headers)).json()["total"] == 1  # nothing written

    user = await create_user(client, admin_headers, username="rep.person.01")
    r = await client.patch(f"/api/v1/users/{user['id']}", headers=admin_headers, json={"password": password})
    assert r.status_code == 422 and "password" in r.json()["error"]["details"]
    rep = await sign_in(client, "rep.person.01", REP_PASSWORD)
    r = await client.post(
        "/api/v1/users/me/password",
        headers=bearer(rep),
        json={"old_password": REP_PASSWORD, "new_password": password},
    )
    assert r.status_code == 422 and "new_password" in r.json()["error"]["details"]
    assert await me(client, rep) == 200  # nothing changed: the session goes on


# -- password hashing inside a container's limits --------------------------------------------


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"cpu.max": "max 100000", "memory.max": str(512 * 2**20)}, 4),  # 256 MiB / 64 MiB
        ({"cpu.max": "150000 100000", "memory.max": "max"}, 2),  # 1.5 CPUs
        ({"cpu.max": "max 100000", "memory.max": str(100 * 2**20)}, 1),  # never 0
        ({"cpu/cpu.cfs_quota_us": "100000", "cpu/cpu.cfs_period_us": "100000"}, 1),  # cgroup v1
        ({"memory/memory.limit_in_bytes": str(2**63 - 4096)}, None),  # v1 "no limit"
    ],
)
async def test_concurrent_password_hashes_fit_the_process_limits(tmp_path, monkeypatch, files, expected):
    import os

    from gateway.auth import hash_concurrency

    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(64)), raising=False)
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text + "\n")
    assert hash_concurrency(64 * 1024, tmp_path) == (64 if expected is None else expected)
