"""The gateway's own tables: users, portal invitations, sessions' refresh tokens, API keys (+ the
crm_common infrastructure tables: outbox, audit...)."""

from __future__ import annotations

import datetime as dt

from crm_common.db import BigId, UTCDateTime, define_infra_tables, utcnow
from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Integer, MetaData, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    metadata = MetaData()


infra = define_infra_tables(Base.metadata)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(100))
    # casefolded username: the unique key (``Alice`` and ``alice`` are one user)
    username_key: Mapped[str] = mapped_column(String(100), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    roles: Mapped[list[str]] = mapped_column(JSON, default=list)
    full_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    email: Mapped[str | None] = mapped_column(String(254), nullable=True)
    department: Mapped[str | None] = mapped_column(String(100), nullable=True)
    is_department_head: Mapped[bool] = mapped_column(Boolean, default=False)
    customer_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True, index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    language: Mapped[str] = mapped_column(String(8), default="en")
    # in every token of the user; raised by a password change or reset, a deactivation, a change
    # of roles or customer: every token and session issued before ends at once
    token_version: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Invitation(Base):
    """A one-time link that lets an invited portal user set their password. Only the SHA-256 of
    the token is kept: the link itself exists in the e-mail (and the inviter's answer) alone."""

    __tablename__ = "invitations"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    email: Mapped[str] = mapped_column(String(254))
    status: Mapped[str] = mapped_column(String(20), default="pending")  # pending|accepted|revoked
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    delivery_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class RefreshToken(Base):
    """One refresh token of a session (a login; ``family_id``). Only its SHA-256 is kept. Using
    it rotates it (``used_at``) for a new one of the same family; presenting a rotated one again
    revokes the family. Every token of a family shares the session's end (``expires_at``)."""

    __tablename__ = "refresh_tokens"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    family_id: Mapped[str] = mapped_column(String(32), index=True)
    user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id"), index=True)
    token_version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # logout | reuse | user_changed | password_changed ...
    revoked_reason: Mapped[str | None] = mapped_column(String(20), nullable=True)


class ApiKey(Base):
    """A key an integration sends instead of a person's password, with the roles it acts with.
    Only its SHA-256 is kept (and its first characters, to recognise it in lists)."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(60))
    prefix: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    roles: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_by: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    revoked_by: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
