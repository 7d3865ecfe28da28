"""Tables: cases and their episodes, events and timeline; users; the change outbox and webhook deliveries."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# 64-bit ids in PostgreSQL; SQLite's INTEGER PRIMARY KEY is already 64-bit and the only kind that autoincrements.
Id = BigInteger().with_variant(Integer(), "sqlite")

# Statuses in which a case is still being worked on: a new episode of the same camera, zone and class joins it.
OPEN_STATUSES = ("new", "confirmed", "dispatched", "resolved", "reopened")
# Written out, not bound: PostgreSQL matches ON CONFLICT to this partial index only by the same literal predicate
# (with bound parameters a prepared statement cannot prove it, and the insert fails).
OPEN_SQL = "status IN ('new', 'confirmed', 'dispatched', 'resolved', 'reopened')"
# The deadline sort's key as PostgreSQL indexes it: queries.py sorts by coalesce(deadline, 9999-01-01), so
# cases without a deadline come last.
DEADLINE_KEY = "coalesce(deadline, '9999-01-01 00:00:00+00'::timestamptz)"


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    pass


class CaseRow(Base):
    __tablename__ = "cases"
    __table_args__ = (
        UniqueConstraint("event_id", name="uq_cases_event_id"),
        # At most one open case per camera, zone and class: concurrent episodes cannot open two.
        Index(
            "uq_cases_open_per_zone", "camera_id", "zone_id", "problem", unique=True,
            sqlite_where=text(OPEN_SQL), postgresql_where=text(OPEN_SQL),
        ),
        Index("ix_cases_status_created", "status", "created_at", "id"),
        Index("ix_cases_created", "created_at", "id"),
        Index("ix_cases_deadline_open", "deadline", sqlite_where=text(OPEN_SQL), postgresql_where=text(OPEN_SQL)),
        # The case list at a city's scale (migration 0005): each filter and each sort reads in index order.
        Index("ix_cases_problem_created", "problem", "created_at", "id"),
        Index("ix_cases_camera_id_created", "camera_id", "created_at", "id"),
        Index("ix_cases_grid_created", "grid", "created_at", "id"),
        Index("ix_cases_priority_created", "priority_rank", "created_at", "id"),
        Index("ix_cases_updated", "updated_at", "id"),
        Index("ix_cases_deadline_order", text(DEADLINE_KEY), "id").ddl_if(dialect="postgresql"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(64))  # the first episode's id
    problem: Mapped[str] = mapped_column(String(40))
    camera_id: Mapped[str] = mapped_column(String(64))
    zone_id: Mapped[str] = mapped_column(String(64))
    zone_kind: Mapped[str] = mapped_column(String(20))
    zone_name: Mapped[str | None] = mapped_column(String(128), nullable=True)
    status: Mapped[str] = mapped_column(String(20), default="new")
    priority: Mapped[str] = mapped_column(String(10), default="normal")
    priority_rank: Mapped[int] = mapped_column(Integer, default=1)
    grid: Mapped[str | None] = mapped_column(String(64), nullable=True)
    label: Mapped[str] = mapped_column(String(64))
    confidence: Mapped[float] = mapped_column(Float)
    bbox: Mapped[list[float]] = mapped_column(JSON)
    reasons: Mapped[list[str]] = mapped_column(JSON, default=list)  # why it fired, latest episode's words
    evidence: Mapped[str | None] = mapped_column(String(255), nullable=True)  # before (整改前)
    after_evidence: Mapped[str | None] = mapped_column(String(255), nullable=True)  # after (整改后)
    since_s: Mapped[float] = mapped_column(Float)
    start_s: Mapped[float] = mapped_column(Float)
    last_seen_s: Mapped[float] = mapped_column(Float)
    end_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    episodes: Mapped[int] = mapped_column(Integer, default=1)
    assignee: Mapped[str | None] = mapped_column(String(128), nullable=True)
    deadline: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    escalated: Mapped[bool] = mapped_column(Boolean, default=False)
    dismiss_reason: Mapped[str | None] = mapped_column(String(32), nullable=True)
    verification: Mapped[str | None] = mapped_column(String(20), nullable=True)
    verification_note: Mapped[str | None] = mapped_column(String(500), nullable=True)
    verification_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    verification_requested_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    lon: Mapped[float | None] = mapped_column(Float, nullable=True)
    lat: Mapped[float | None] = mapped_column(Float, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    events: Mapped[list[CaseEventRow]] = relationship(
        back_populates="case", order_by="CaseEventRow.ts_s", cascade="all, delete-orphan"
    )
    timeline: Mapped[list[TimelineRow]] = relationship(order_by="TimelineRow.id", cascade="all, delete-orphan")


class EpisodeRow(Base):
    """Which case each problem episode (a worker's event id) belongs to: merging and idempotency in one place."""

    __tablename__ = "case_episodes"

    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    case_id: Mapped[int] = mapped_column(Id, ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    start_s: Mapped[float] = mapped_column(Float)
    end_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class CaseEventRow(Base):
    __tablename__ = "case_events"
    __table_args__ = (UniqueConstraint("event_id", "state", "ts_s", name="uq_case_events_delivery"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(Id, ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    event_id: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(10))
    ts_s: Mapped[float] = mapped_column(Float)
    confidence: Mapped[float] = mapped_column(Float)
    bbox: Mapped[list[float]] = mapped_column(JSON)
    evidence: Mapped[str | None] = mapped_column(String(255), nullable=True)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    case: Mapped[CaseRow] = relationship(back_populates="events")


class TimelineRow(Base):
    """One entry of a case's history: who did what when, from which status to which, and why."""

    __tablename__ = "case_timeline"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(Id, ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    actor: Mapped[str] = mapped_column(String(64))  # a user name, or system / camera
    action: Mapped[str] = mapped_column(String(32))
    from_status: Mapped[str | None] = mapped_column(String(20), nullable=True)
    to_status: Mapped[str | None] = mapped_column(String(20), nullable=True)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    reason: Mapped[str | None] = mapped_column(String(32), nullable=True)
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)


class ChangeRow(Base):
    """The outbox: every case change, written in the same transaction, then relayed to the live feed and webhooks.

    The two relays keep their own marks, so a Redis outage delays the feed but not the webhooks.
    """

    __tablename__ = "case_changes"
    __table_args__ = (
        Index("ix_case_changes_unpublished", "id", sqlite_where=text("published_at IS NULL"),
              postgresql_where=text("published_at IS NULL")),
        Index("ix_case_changes_unfanned", "id", sqlite_where=text("webhooks_at IS NULL"),
              postgresql_where=text("webhooks_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(Id, index=True)
    kind: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)  # live feed
    webhooks_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)  # deliveries made


class WebhookDeliveryRow(Base):
    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("change_id", "webhook", name="uq_webhook_delivery"),
        Index("ix_webhook_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    change_id: Mapped[int] = mapped_column(Id)
    case_id: Mapped[int] = mapped_column(Id, index=True)
    webhook: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending, delivered, failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    last_error: Mapped[str | None] = mapped_column(String(500), nullable=True)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class UserRow(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    display_name: Mapped[str | None] = mapped_column(String(128), nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # Bumped by disable, role change, password change and logout: tokens issued under an older one are refused.
    token_version: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))


class SettingRow(Base):
    """Values every API replica must share, such as the token signing key generated on first start."""

    __tablename__ = "app_settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


MAP_SCOPE = "@map"  # zones drawn on the map (lon/lat) rather than on one camera; no camera id has an @


class ZoneRow(Base):
    """A zone as it is now, on a camera (or on the map: camera_id MAP_SCOPE)."""

    __tablename__ = "zones"

    camera_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    zone_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_by: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ZoneVersionRow(Base):
    """Every version of every zone, deletions included: who, when, what."""

    __tablename__ = "zone_versions"
    __table_args__ = (UniqueConstraint("camera_id", "zone_id", "version", name="uq_zone_version"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    camera_id: Mapped[str] = mapped_column(String(64), index=True)
    zone_id: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(16))  # created, updated, deleted, restored, imported
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)  # None: deleted
    author: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    note: Mapped[str | None] = mapped_column(String(500), nullable=True)


class CalibrationRow(Base):
    """Point pairs between a camera's image (0..1) and the map (lon, lat), for its homography."""

    __tablename__ = "camera_calibrations"

    camera_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    pairs: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    version: Mapped[int] = mapped_column(Integer)
    updated_by: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class WhatIfRow(Base):
    """A what-if run: draft zones against the saved ones, on a camera's recording or an uploaded clip."""

    __tablename__ = "whatif_jobs"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    camera_id: Mapped[str] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(16))  # queued, running, done, failed
    source: Mapped[str] = mapped_column(String(16))  # recording, upload
    request: Mapped[dict[str, Any]] = mapped_column(JSON)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    error: Mapped[str | None] = mapped_column(String(500), nullable=True)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class LabelRow(Base):
    """What the centre said about a zone on a picture: the problem is there, or the zone is clear of it.

    From confirmations and dismissals of cases and from operators marking snapshots; the workers learn from
    them (zone classifiers, clear levels), and they stay here as the models' training data."""

    __tablename__ = "zone_labels"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    camera_id: Mapped[str] = mapped_column(String(64), index=True)
    zone_id: Mapped[str] = mapped_column(String(64))
    problem: Mapped[str] = mapped_column(String(40))
    positive: Mapped[bool] = mapped_column(Boolean)
    image: Mapped[str] = mapped_column(String(255))
    source: Mapped[str] = mapped_column(String(32))  # case_confirmed, case_dismissed, operator
    case_id: Mapped[int | None] = mapped_column(Id, nullable=True)
    author: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    sent: Mapped[bool] = mapped_column(Boolean, default=False)  # on the label stream (else sent again later)
