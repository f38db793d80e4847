"""Pure units: the incremental CSV reader, error details, ids, settings."""

from __future__ import annotations

import secrets

import pytest
from gateway.deps import path_id
from gateway.errors import ApiError
from gateway.imports import CsvBatcher
from gateway.settings import SECRET_FILE, Settings
from pydantic import ValidationError


def test_batcher_splits_records_across_chunk_boundaries():
    data = ('\ufeffname,notes\n"A, Inc.","line1\nline2"\nB,x\n\nC,"say ""hi"""\n').encode()
    for size in (1, 2, 3, 7, 64):
        batcher = CsvBatcher(batch_size=2)
        batches = []
        for i in range(0, len(data), size):
            batches.extend(batcher.feed(data[i : i + size]))
        batches.extend(batcher.close())
        rows = [row for batch in batches for row in batch]
        assert [len(b) for b in batches] == [2, 1], size
        assert rows == [
            {"line": 2, "data": {"name": "A, Inc.", "notes": "line1\nline2"}},
            {"line": 4, "data": {"name": "B", "notes": "x"}},
            {"line": 6, "data": {"name": "C", "notes": 'say "hi"'}},
        ], size


def test_rows_longer_than_the_header_keep_their_surplus():
    batcher = CsvBatcher()
    batcher.feed(b"name,email,\nA,a@x.io,,surplus\n")
    (batch,) = batcher.close()
    assert batch == [{"line": 2, "data": {"name": "A", "email": "a@x.io", "_extra": ["surplus"]}}]


def test_path_ids():
    assert path_id("42") == 42
    assert path_id("8A0E6C8E-2C4B-4B0E-9D7E-3F1F1B2A9C11") == "8a0e6c8e-2c4b-4b0e-9d7e-3f1f1b2a9c11"
    for bad in ("0", "-1", "abc", "1.5", "\u0663"):
        with pytest.raises(ApiError) as info:
            path_id(bad)
        assert info.value.status == 404


PG = "postgresql://crm@db.internal:5432/gateway"


@pytest.mark.parametrize(
    "secret", [None, "", "crm-development-secret-do-not-use-in-production", "short-secret", "s" * 40]
)
def test_placeholder_secret_refused_outside_the_embedded_default(secret, monkeypatch):
    monkeypatch.delenv("CRM_JWT_SECRET", raising=False)
    with pytest.raises(ValidationError) as info:
        Settings(gateway_database_url=PG, crm_jwt_secret=secret)
    assert "CRM_JWT_SECRET" in str(info.value)


def test_settings_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("GATEWAY_DATABASE_URL", PG)
    monkeypatch.setenv("CRM_JWT_SECRET", "s" * 40)
    with pytest.raises(ValidationError):
        Settings()
    monkeypatch.setenv("CRM_JWT_SECRET", secrets.token_hex(32))
    monkeypatch.setenv("CRM_SERVICES", "customers, contracts,billing")
    monkeypatch.setenv("CRM_RPC_TIMEOUT", "2.5")
    s = Settings()
    assert s.database_url == PG and not s.embedded
    assert s.crm_services == ["customers", "contracts", "billing"] and s.crm_rpc_timeout == 2.5
    with pytest.raises(RuntimeError):
        s.admin_password_for_bootstrap()  # no admin password outside the embedded default


def test_embedded_default_allows_the_development_fallbacks(monkeypatch, tmp_path, caplog):
    for name in ("GATEWAY_DATABASE_URL", "CRM_JWT_SECRET", "CRM_ADMIN_PASSWORD", "CRM_SERVICES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CRM_DATA_DIR", str(tmp_path))
    s = Settings()
    assert s.embedded and s.jwt_secret == (tmp_path / SECRET_FILE).read_text().strip()
    assert s.database_url == f"sqlite:///{tmp_path / 'gateway.db'}"
    assert s.crm_services == ["customers"] and s.crm_jwt_ttl_minutes == 15
    with caplog.at_level("WARNING"):
        s.warn_about_development_defaults()
        assert s.admin_password_for_bootstrap() == "admin"
    assert "CRM_JWT_SECRET" in caplog.text and "CRM_ADMIN_PASSWORD" in caplog.text
