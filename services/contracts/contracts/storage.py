"""Where attachment files live: outside the database, in a directory (the embedded default,
``$CRM_DATA_DIR/contracts-files/``) or in an S3-compatible bucket.

* :class:`LocalStore` — files under one root directory. A file is written to a temporary file
  beside its final place, flushed and fsynced, then renamed over it (a reader never sees half a
  file, a crash never leaves one under the final name). Keys are relative paths of plain
  segments; one that would leave the root (``..``, an absolute path, a symlink pointing out) is
  refused.
* :class:`S3Store` — boto3 ``put_object`` / ``get_object`` (with ``Range`` for partial reads) /
  ``delete_object``. Configured by ``CONTRACTS_S3_BUCKET``, ``CONTRACTS_S3_ENDPOINT_URL``
  (MinIO, Ceph, …; unset for AWS), ``CONTRACTS_S3_REGION``, ``CONTRACTS_S3_PREFIX`` (default
  ``contracts-files/``); credentials from the standard ``AWS_*`` environment variables.

:func:`file_store` chooses by the environment: S3 when ``CONTRACTS_S3_BUCKET`` is set, else the
local directory (``CONTRACTS_FILES_DIR``, default ``$CRM_DATA_DIR/contracts-files``).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from pathlib import Path
from typing import IO, Any, Protocol

from crm_common import config

LOCAL = "local"
S3 = "s3"
COPY_BUFFER = 1024 * 1024


class StorageError(Exception):
    """The store could not do what was asked (not a caller's mistake)."""


class StoredFileMissing(StorageError):
    """No file under this key (deleted by hand, wrong bucket, restored database, …)."""

    def __init__(self, key: str):
        self.key = key
        super().__init__(f"no stored file under key {key!r}")


class BadStorageKey(StorageError, ValueError):
    """A key that is not a plain relative path inside the store."""


class FileStore(Protocol):
    """What the attachments use case needs of a store."""

    kind: str  # "local" | "s3": kept in attachments.storage

    def put(self, key: str, source: IO[bytes], size: int, content_type: str) -> None:
        """Store ``size`` bytes read from ``source`` (positioned at 0) under ``key``, whole or not
        at all."""
        ...

    def read(self, key: str, offset: int, length: int) -> bytes:
        """Up to ``length`` bytes from ``offset`` (fewer at the end; ``b""`` past it);
        :class:`StoredFileMissing` when there is no such file."""
        ...

    def delete(self, key: str) -> None:
        """Remove the file; a missing file is not an error."""
        ...

    def exists(self, key: str) -> bool: ...


def check_key(key: Any) -> list[str]:
    """The segments of a valid key: text of plain segments separated by ``/`` (no empty, ``.``
    or ``..`` segment, no leading ``/``, no backslash, no NUL or other control character)."""
    if not isinstance(key, str) or not key or len(key) > 500:
        raise BadStorageKey(f"storage key must be non-empty text of at most 500 characters: {key!r}")
    if "\\" in key or any(ord(ch) < 32 or ord(ch) == 127 for ch in key):
        raise BadStorageKey(f"storage key holds a backslash or a control character: {key!r}")
    parts = key.split("/")
    if any(part in ("", ".", "..") for part in parts):
        raise BadStorageKey(f"storage key must be a relative path of plain segments: {key!r}")
    return parts


# --------------------------------------------------------------------------------------
# Local directory
# --------------------------------------------------------------------------------------


class LocalStore:
    kind = LOCAL

    def __init__(self, root: str | os.PathLike[str]):
        self.root = Path(root).resolve()

    def __repr__(self) -> str:
        return f"LocalStore({str(self.root)!r})"

    def path_of(self, key: str) -> Path:
        """The file of ``key``; :class:`BadStorageKey` for any key that would leave the root
        (also through a symbolic link inside it)."""
        path = self.root.joinpath(*check_key(key))
        resolved = path.resolve()
        if not resolved.is_relative_to(self.root) or resolved == self.root:
            raise BadStorageKey(f"storage key {key!r} leads outside the store")
        return resolved

    def put(self, key: str, source: IO[bytes], size: int, content_type: str) -> None:
        path = self.path_of(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".upload-", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as out:
                shutil.copyfileobj(source, out, COPY_BUFFER)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, path)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise
        _fsync_dir(path.parent)

    def read(self, key: str, offset: int, length: int) -> bytes:
        path = self.path_of(key)
        try:
            with open(path, "rb") as fh:
                fh.seek(offset)
                return fh.read(length)
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise StoredFileMissing(key) from None

    def delete(self, key: str) -> None:
        self.path_of(key).unlink(missing_ok=True)

    def exists(self, key: str) -> bool:
        return self.path_of(key).is_file()


def _fsync_dir(path: Path) -> None:
    """Make the rename itself durable (POSIX; a no-op where directories cannot be opened)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# --------------------------------------------------------------------------------------
# S3-compatible bucket
# --------------------------------------------------------------------------------------


class S3Store:
    kind = S3

    def __init__(
        self,
        bucket: str,
        *,
        prefix: str = "contracts-files/",
        endpoint_url: str | None = None,
        region: str | None = None,
        client: Any = None,
    ):
        self.bucket = bucket
        self.prefix = prefix
        if client is None:
            import boto3  # only needed when a bucket is configured

            client = boto3.client("s3", endpoint_url=endpoint_url or None, region_name=region or None)
        self.client = client

    def __repr__(self) -> str:
        return f"S3Store(bucket={self.bucket!r}, prefix={self.prefix!r})"

    def object_key(self, key: str) -> str:
        check_key(key)
        return f"{self.prefix}{key}"

    def put(self, key: str, source: IO[bytes], size: int, content_type: str) -> None:
        self.client.put_object(
            Bucket=self.bucket,
            Key=self.object_key(key),
            Body=source,
            ContentLength=size,
            ContentType=content_type,
        )

    def read(self, key: str, offset: int, length: int) -> bytes:
        if length <= 0:
            if not self.exists(key):
                raise StoredFileMissing(key)
            return b""
        try:
            reply = self.client.get_object(
                Bucket=self.bucket, Key=self.object_key(key), Range=f"bytes={offset}-{offset + length - 1}"
            )
        except Exception as exc:
            code = _error_code(exc)
            if code in ("NoSuchKey", "404", "NotFound", "NoSuchBucket"):
                raise StoredFileMissing(key) from None
            if code == "InvalidRange":  # offset at or past the end
                return b""
            raise
        body = reply["Body"]
        try:
            return body.read()
        finally:
            body.close()

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self.object_key(key))

    def exists(self, key: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=self.object_key(key))
        except Exception as exc:
            if _error_code(exc) in ("NoSuchKey", "404", "NotFound", "NoSuchBucket"):
                return False
            raise
        return True


def _error_code(exc: BaseException) -> str | None:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        code = (response.get("Error") or {}).get("Code")
        return str(code) if code is not None else None
    return None


# --------------------------------------------------------------------------------------
# Choice by the environment
# --------------------------------------------------------------------------------------

_cache: dict[tuple[str, ...], FileStore] = {}
_cache_lock = threading.Lock()


def local_root() -> Path:
    configured = os.environ.get("CONTRACTS_FILES_DIR")
    return Path(configured).resolve() if configured else config.data_dir() / "contracts-files"


def s3_settings() -> tuple[str, str, str, str] | None:
    bucket = os.environ.get("CONTRACTS_S3_BUCKET", "").strip()
    if not bucket:
        return None
    return (
        bucket,
        os.environ.get("CONTRACTS_S3_PREFIX", "contracts-files/"),
        os.environ.get("CONTRACTS_S3_ENDPOINT_URL", "").strip(),
        os.environ.get("CONTRACTS_S3_REGION", "").strip(),
    )


def store_of(kind: str) -> FileStore:
    """The configured store of ``kind`` (``local`` or ``s3``), for reading files stored earlier
    (a file stays where it was written when the configuration changes later)."""
    if kind == S3:
        settings = s3_settings()
        if settings is None:
            raise StorageError("the file is in an S3 bucket but CONTRACTS_S3_BUCKET is not set")
        key: tuple[str, ...] = (S3, *settings)
    elif kind == LOCAL:
        key = (LOCAL, str(local_root()))
    else:
        raise StorageError(f"unknown storage kind {kind!r}")
    with _cache_lock:
        store = _cache.get(key)
        if store is None:
            if kind == S3:
                bucket, prefix, endpoint, region = key[1:]
                store = S3Store(bucket, prefix=prefix, endpoint_url=endpoint or None, region=region or None)
            else:
                store = LocalStore(key[1])
            _cache[key] = store
        return store


def file_store() -> FileStore:
    """Where new files go: the S3 bucket when ``CONTRACTS_S3_BUCKET`` is set, else the local
    directory."""
    return store_of(S3 if s3_settings() is not None else LOCAL)
