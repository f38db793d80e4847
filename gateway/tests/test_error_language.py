"""Error messages in the caller's language (en, zh, tr, bg): the signed-in user's profile
language, else ``Accept-Language`` (q-values honoured), else English. The ``code`` and the
``details`` (field paths and reasons) never change; the answer says ``Content-Language``.

Through the real app: the test services on the broker for remote errors, the gateway's own
checks, and the middleware that answers before any route (body size, If-Match)."""

from __future__ import annotations

import re
import uuid
from string import Formatter

import pytest
from conftest import create_user, login
from gateway.error_messages import LANGUAGES, MESSAGES, choose_language, parse_accept_language, translate
from gateway.errors import REMOTE_ERRORS, STATUS_CODES

pytestmark = pytest.mark.asyncio


def error_of(response) -> dict:
    body = response.json()
    assert set(body) >= {"error"}, body
    return body["error"]


# -- choosing the language -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("zh-CN,zh;q=0.9,en;q=0.8", "zh"),
        ("en;q=0.5, tr;q=0.8, bg;q=0.7", "tr"),
        ("de-DE, bg-BG;q=0.4", "bg"),  # an unsupported first choice is skipped
        ("tr;q=0, TR-tr, bg;q=0.1", "bg"),  # q=0 refuses the language in any spelling
        ("bg, tr", "bg"),  # equal q: the header's order
        ("*", None),
        ("fr, de;q=0.5", None),
        ("zh;q=abc, tr;q=0.2", "tr"),  # an unreadable q counts as 0
        ("", None),
    ],
)
async def test_accept_language_is_read_with_its_q_values(header, expected):
    assert parse_accept_language(header) == expected


async def test_the_profile_language_wins_over_the_header_and_english_is_the_default():
    assert choose_language("bg", "zh") == "bg"
    assert choose_language(None, "tr;q=0.3, zh;q=0.2") == "tr"
    assert choose_language("xx", "zh") == "zh"  # not a supported profile language
    assert choose_language(None, None) == "en"


# -- the catalogue ---------------------------------------------------------------------------


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in Formatter().parse(text) if name}


async def test_every_code_the_gateway_answers_with_has_a_message_in_every_language():
    codes = set(STATUS_CODES.values()) | {entry[1] for entry in REMOTE_ERRORS.values()} | {"ERROR"}
    assert codes - MESSAGES.keys() == set()
    for code, templates in MESSAGES.items():
        assert templates and not placeholders(templates[-1]["en"]), f"{code}: needs a plain last template"
        for template in templates:
            assert set(template) == set(LANGUAGES), code
            english = template["en"]
            for language in LANGUAGES:
                assert placeholders(template[language]) == placeholders(english), (code, language)
                if language != "en":
                    assert template[language] != english, (code, language)
            # the Chinese and Bulgarian texts are written in their scripts
            assert re.search(r"[\u4e00-\u9fff]", template["zh"]), code
            assert re.search(r"[\u0400-\u04ff]", template["bg"]), code


async def test_a_code_without_a_translation_keeps_its_english_message():
    assert translate("SOMETHING_NEW", "zh", "Something new went wrong", {}) == (
        "Something new went wrong",
        "en",
    )
    assert translate("NOT_FOUND", "en", "Customer 7 not found", {"id": 7}) == ("Customer 7 not found", "en")
    message, language = translate("VALIDATION_FAILED", "tr", "Invalid input: b, a", {"b": ["x"], "a": ["y"]})
    assert (message, language) == ("Geçersiz girdi: a, b", "tr")


# -- through the gateway ---------------------------------------------------------------------


async def test_a_signed_out_caller_gets_the_header_language(client):
    r = await client.get("/api/v1/customers", headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"})
    assert r.status_code == 401
    error = error_of(r)
    assert error["code"] == "UNAUTHORIZED"
    assert error["message"] == "未通过身份验证：请登录"
    assert r.headers["content-language"] == "zh"
    assert "accept-language" in r.headers["vary"].lower()
    assert r.headers["www-authenticate"] == "Bearer"
    assert int(r.headers["content-length"]) == len(r.content)

    plain = await client.get("/api/v1/customers")
    assert error_of(plain)["code"] == "UNAUTHORIZED"
    assert error_of(plain)["message"].startswith("Not authenticated")  # the specific English text
    assert plain.headers["content-language"] == "en"


async def test_the_profile_language_wins_and_remote_errors_keep_code_and_details(client, admin_headers):
    await create_user(client, admin_headers, username="ivan", language="bg")
    ivan = await login(client, "ivan", "rep-password-1")
    r = await client.get("/api/v1/customers/987654", headers={**ivan, "Accept-Language": "zh"})
    assert r.status_code == 404
    error = error_of(r)
    assert error["code"] == "NOT_FOUND"  # the fake customers service's NotFound
    assert error["message"] == "Запис с номер 987654 не е намерен"
    assert str(error["details"]["id"]) == "987654"
    assert r.headers["content-language"] == "bg"

    # the profile changes: the next error follows at once
    changed = await client.patch("/api/v1/users/me", json={"language": "tr"}, headers=ivan)
    assert changed.status_code == 200, changed.text
    r = await client.post("/api/v1/customers", json={"name": "", "kind": "robot"}, headers=ivan)
    assert r.status_code == 422
    error = error_of(r)
    assert error["code"] == "VALIDATION_FAILED"
    assert error["message"] == "Geçersiz girdi: kind, name"
    assert set(error["details"]) == {"kind", "name"}  # field paths and reasons untouched
    assert all(isinstance(reason, str) for reason in error["details"]["kind"])
    assert r.headers["content-language"] == "tr"


async def test_a_success_answer_is_not_touched(client, admin_headers):
    r = await client.get("/api/v1/users/me", headers={**admin_headers, "Accept-Language": "zh"})
    assert r.status_code == 200
    assert "content-language" not in r.headers


async def test_role_and_service_errors_are_translated_with_their_details(client, admin_headers):
    await create_user(client, admin_headers, username="mei", language="zh", roles=["readonly"])
    mei = await login(client, "mei", "rep-password-1")
    r = await client.get("/api/v1/users", headers=mei)
    assert r.status_code == 403
    error = error_of(r)
    assert error["code"] == "FORBIDDEN"
    assert error["message"] == "需要以下角色之一：admin"
    assert error["details"]["required_roles"] == ["admin"]

    # billing is not running in these tests: 503 naming the service
    r = await client.get("/api/v1/invoices", headers={**mei, "Accept-Language": "bg"})
    assert r.status_code == 503, r.text
    error = error_of(r)
    assert error["code"] == "SERVICE_UNAVAILABLE"
    assert error["message"] == "服务“billing”暂时不可用，请稍后重试"
    assert r.headers["content-language"] == "zh"

    # every account has a profile language (English unless chosen): it wins over the header
    r = await client.get("/api/v1/invoices", headers={**admin_headers, "Accept-Language": "bg"})
    assert error_of(r)["message"] == "Service 'billing' is unavailable, try again later"
    assert r.headers["content-language"] == "en"


async def test_errors_answered_before_the_routes_are_translated_too(app_factory):
    async with app_factory(crm_max_body_bytes=2048) as client:
        admin = await login(client, "admin", "admin-password-1")
        # the body limit answers before the token is checked: the header decides
        big = {"name": "x" * 4000, "kind": "company"}
        r = await client.post("/api/v1/customers", json=big, headers={**admin, "Accept-Language": "bg"})
        assert r.status_code == 413
        error = error_of(r)
        assert error["code"] == "PAYLOAD_TOO_LARGE"
        assert error["message"] == "Заявката надвишава ограничението от 2048 байта"
        assert error["details"]["max_bytes"] == 2048
        assert r.headers["content-language"] == "bg"

        # If-Match is checked by the ETag middleware, for a signed-in user who reads Chinese
        await create_user(client, admin, username="li", roles=["admin"], language="zh")
        li = await login(client, "li", "rep-password-1")
        created = await client.post(
            "/api/v1/customers",
            json={"name": f"Lang {uuid.uuid4().hex[:6]}", "kind": "company"},
            headers=li,
        )
        path = f"/api/v1/customers/{created.json()['id']}"
        tag = (await client.get(path, headers=li)).headers["etag"]
        assert (
            await client.patch(path, json={"level": "A"}, headers={**li, "If-Match": tag})
        ).status_code == 200
        stale = await client.patch(path, json={"level": "B"}, headers={**li, "If-Match": tag})
        assert stale.status_code == 412
        error = error_of(stale)
        assert error["code"] == "PRECONDITION_FAILED"
        assert error["message"] == "该记录在您读取之后已被修改：请重新读取并再次进行修改"
        assert error["details"]["if_match"] == [tag]
        assert stale.headers["content-language"] == "zh"
        assert stale.headers["etag"] != tag


async def test_an_unknown_route_answers_in_the_language_with_a_stable_code(client):
    r = await client.get("/api/v1/no-such-thing", headers={"Accept-Language": "tr-TR"})
    assert r.status_code == 404
    assert error_of(r) == {"code": "NOT_FOUND", "message": "İstenen kaynak bulunamadı", "details": {}}
    assert r.headers["content-language"] == "tr"
