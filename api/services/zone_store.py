"""Zones in the database, every version kept: who changed what, when; diffs; restores.

A scope is a camera id, or MAP_SCOPE for zones drawn on the map. The YAML configuration seeds a
camera's zones once (when the store has never held any for it); from then on the store wins, and
`streetwatch zones import` is how a file's zones come in again (as new versions).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from api.orm import ZoneRow, ZoneVersionRow, utcnow

Clock = Callable[[], datetime]


class ZoneNotFound(LookupError):
    pass


class ZoneExists(ValueError):
    pass


class VersionConflict(ValueError):
    """The caller edited a version that is no longer the latest: someone else saved the zone meanwhile."""


def _check_version(row: ZoneRow, expected: int | None) -> None:
    if expected is not None and row.version != expected:
        raise VersionConflict(f"区域已被他人修改 / zone {row.zone_id} is at version {row.version}, not {expected}: "
                              "someone saved it meanwhile; reload it and apply your change again")


@dataclass(frozen=True)
class StoredZone:
    scope: str
    zone_id: str
    version: int
    data: dict[str, Any]
    updated_by: str
    updated_at: datetime


def _dump(zone: BaseModel) -> dict[str, Any]:
    return zone.model_dump(mode="json", exclude_none=True)


def diff(before: dict[str, Any] | None, after: dict[str, Any] | None) -> list[dict[str, Any]]:
    """Field by field: what changed from one version to another (a missing side: created or deleted)."""
    before, after = before or {}, after or {}
    return [{"field": key, "from": before.get(key), "to": after.get(key)}
            for key in sorted(set(before) | set(after)) if before.get(key) != after.get(key)]


class ZoneStore:
    def __init__(self, sessions: sessionmaker, clock: Clock = utcnow) -> None:
        self.sessions = sessions
        self.clock = clock

    def list(self, scope: str) -> list[StoredZone]:
        with self.sessions() as session:
            rows = session.scalars(select(ZoneRow).where(ZoneRow.camera_id == scope).order_by(ZoneRow.zone_id))
            return [_stored(r) for r in rows]

    def get(self, scope: str, zone_id: str) -> StoredZone | None:
        with self.sessions() as session:
            row = session.get(ZoneRow, (scope, zone_id))
            return _stored(row) if row is not None else None

    def create(self, scope: str, zone_id: str, zone: BaseModel, author: str, action: str = "created") -> StoredZone:
        try:
            with self.sessions.begin() as session:
                if session.get(ZoneRow, (scope, zone_id), with_for_update=True) is not None:
                    raise ZoneExists(f"区域已存在 / zone {zone_id} already exists on {scope}")
                return self._write(session, scope, zone_id, _dump(zone), author, action)
        except IntegrityError:  # another request made it between our check and our insert
            raise ZoneExists(f"区域已存在 / zone {zone_id} already exists on {scope}") from None

    def update(self, scope: str, zone_id: str, zone: BaseModel, author: str, action: str = "updated",
               expected_version: int | None = None) -> StoredZone:
        """`expected_version`: the version the caller edited (If-Match); another one raises VersionConflict."""
        with self.sessions.begin() as session:
            row = session.get(ZoneRow, (scope, zone_id), with_for_update=True)
            if row is None:
                raise ZoneNotFound(zone_id)
            _check_version(row, expected_version)
            return self._write(session, scope, zone_id, _dump(zone), author, action)

    def delete(self, scope: str, zone_id: str, author: str, expected_version: int | None = None) -> int:
        with self.sessions.begin() as session:
            row = session.get(ZoneRow, (scope, zone_id), with_for_update=True)
            if row is None:
                raise ZoneNotFound(zone_id)
            _check_version(row, expected_version)
            version = row.version + 1
            session.delete(row)
            session.add(ZoneVersionRow(camera_id=scope, zone_id=zone_id, version=version, action="deleted",
                                       data=None, author=author, at=self.clock()))
            return version

    def versions(self, scope: str, zone_id: str) -> list[ZoneVersionRow]:
        with self.sessions() as session:
            return list(session.scalars(select(ZoneVersionRow).where(
                ZoneVersionRow.camera_id == scope, ZoneVersionRow.zone_id == zone_id).order_by(ZoneVersionRow.version)))

    def deleted(self, scope: str) -> list[ZoneVersionRow]:
        """Zones whose latest version is a deletion: what a restore can bring back."""
        latest = (select(ZoneVersionRow.zone_id, func.max(ZoneVersionRow.version).label("version"))
                  .where(ZoneVersionRow.camera_id == scope).group_by(ZoneVersionRow.zone_id).subquery())
        with self.sessions() as session:
            return list(session.scalars(
                select(ZoneVersionRow).join(latest, (ZoneVersionRow.zone_id == latest.c.zone_id)
                                            & (ZoneVersionRow.version == latest.c.version))
                .where(ZoneVersionRow.camera_id == scope, ZoneVersionRow.action == "deleted")
                .order_by(ZoneVersionRow.zone_id)))

    def version(self, scope: str, zone_id: str, version: int) -> ZoneVersionRow | None:
        with self.sessions() as session:
            return session.scalar(select(ZoneVersionRow).where(
                ZoneVersionRow.camera_id == scope, ZoneVersionRow.zone_id == zone_id,
                ZoneVersionRow.version == version))

    def restore(self, scope: str, zone_id: str, version: int, author: str) -> StoredZone:
        """That version's content as a new version (a deleted zone comes back)."""
        old = self.version(scope, zone_id, version)
        if old is None or old.data is None:
            raise ZoneNotFound(f"{zone_id} v{version}")
        with self.sessions.begin() as session:
            session.get(ZoneRow, (scope, zone_id), with_for_update=True)
            return self._write(session, scope, zone_id, dict(old.data), author, "restored",
                               note=f"restored from version {version}")

    def seed(self, scope: str, zones: Sequence[Any], author: str = "configuration") -> bool:
        """The configuration's zones, once: only when the store has never held a zone for this scope."""
        with self.sessions.begin() as session:
            if session.scalar(select(func.count()).select_from(ZoneVersionRow)
                              .where(ZoneVersionRow.camera_id == scope)):
                return False
            for zone in zones:
                self._write(session, scope, zone.id, _dump(zone), author, "imported",
                            note="seeded from the configuration file")
        return True

    def _write(self, session: Session, scope: str, zone_id: str, data: dict[str, Any], author: str, action: str,
               note: str | None = None) -> StoredZone:
        last = session.scalar(select(func.max(ZoneVersionRow.version)).where(
            ZoneVersionRow.camera_id == scope, ZoneVersionRow.zone_id == zone_id)) or 0
        now = self.clock()
        row = session.get(ZoneRow, (scope, zone_id))
        if row is None:
            row = ZoneRow(camera_id=scope, zone_id=zone_id)
            session.add(row)
        row.version, row.data, row.updated_by, row.updated_at = last + 1, data, author, now
        session.add(ZoneVersionRow(camera_id=scope, zone_id=zone_id, version=last + 1, action=action, data=data,
                                   author=author, at=now, note=note))
        session.flush()
        return _stored(row)


def _stored(row: ZoneRow) -> StoredZone:
    return StoredZone(row.camera_id, row.zone_id, row.version, dict(row.data), row.updated_by, row.updated_at)
