"""Finding cases: filters, sorts and two kinds of paging.

Page numbers (with a total) suit a queue of a few thousand; a cursor (keyset paging, no total)
stays fast at a city's millions because each page starts from an index position, not an offset.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import ColumnElement, Select, func, literal, select, tuple_
from sqlalchemy.orm import sessionmaker

from api.orm import CaseRow
from api.services.lifecycle import DEADLINE_RUNS

Sort = Literal["-created_at", "created_at", "-updated_at", "-priority", "deadline"]
_FAR_FUTURE = datetime(9999, 1, 1, tzinfo=UTC)
COUNT_LIMIT = 10_000  # numbered pages count this many matching cases at most


class CursorError(ValueError):
    pass


@dataclass(frozen=True)
class CaseQuery:
    status: tuple[str, ...] = ()
    problem: str | None = None
    priority: str | None = None
    grid: str | None = None
    camera_id: str | None = None
    zone_kind: str | None = None
    assignee: str | None = None
    overdue: bool | None = None
    sort: Sort = "-created_at"


def _sort_columns(sort: Sort) -> list[tuple[Any, bool]]:
    """(column, descending) from most to least significant; the id last keeps the order total."""
    return {
        "-created_at": [(CaseRow.created_at, True), (CaseRow.id, True)],
        "created_at": [(CaseRow.created_at, False), (CaseRow.id, False)],
        "-updated_at": [(CaseRow.updated_at, True), (CaseRow.id, True)],
        "-priority": [(CaseRow.priority_rank, True), (CaseRow.created_at, True), (CaseRow.id, True)],
        "deadline": [(func.coalesce(CaseRow.deadline, literal(_FAR_FUTURE)), False), (CaseRow.id, False)],
    }[sort]


def _filtered(query: CaseQuery, now: datetime) -> Select[tuple[CaseRow]]:
    statement = select(CaseRow)
    conditions: list[ColumnElement[bool]] = []
    if query.status:
        conditions.append(CaseRow.status.in_(query.status))
    for column, value in ((CaseRow.problem, query.problem), (CaseRow.priority, query.priority),
                          (CaseRow.grid, query.grid), (CaseRow.camera_id, query.camera_id),
                          (CaseRow.zone_kind, query.zone_kind), (CaseRow.assignee, query.assignee)):
        if value is not None:
            conditions.append(column == value)
    if query.overdue is not None:
        late = CaseRow.deadline.is_not(None) & (CaseRow.deadline < now) & CaseRow.status.in_(
            [s.value for s in DEADLINE_RUNS])
        conditions.append(late if query.overdue else ~late)
    return statement.where(*conditions) if conditions else statement


def _encode(values: list[Any]) -> str:
    plain = [v.isoformat() if isinstance(v, datetime) else v for v in values]
    return base64.urlsafe_b64encode(json.dumps(plain).encode()).decode().rstrip("=")


def _decode(cursor: str, columns: list[tuple[Any, bool]]) -> list[Any]:
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(values, list) or len(values) != len(columns):
            raise ValueError("wrong length")
        decoded: list[Any] = []
        for value, (column, _desc) in zip(values, columns, strict=True):
            kind = getattr(column, "type", None)
            if kind is not None and kind.python_type is datetime:
                value = datetime.fromisoformat(value)
            elif isinstance(value, bool) or not isinstance(value, int | str):
                raise ValueError("bad value")
            decoded.append(value)
        return decoded
    except (ValueError, TypeError, binascii.Error, json.JSONDecodeError, UnicodeDecodeError):
        raise CursorError("游标无效 / cursor is not one this API gave out (or belongs to another sort)") from None


def _row_key(row: CaseRow, sort: Sort) -> list[Any]:
    if sort == "-priority":
        return [row.priority_rank, row.created_at, row.id]
    if sort == "deadline":
        return [row.deadline or _FAR_FUTURE, row.id]
    if sort == "-updated_at":
        return [row.updated_at, row.id]
    return [row.created_at, row.id]


def cursor_after(row: CaseRow, sort: Sort) -> str:
    """The cursor of the page that follows `row` in `sort` order, as `next_cursor` gives it out."""
    return _encode(_row_key(row, sort))


class CaseFinder:
    def __init__(self, sessions: sessionmaker) -> None:
        self.sessions = sessions

    def page(self, query: CaseQuery, offset: int, limit: int, now: datetime) -> tuple[list[CaseRow], int, bool]:
        """One numbered page, the total and whether it is exact: counting stops past COUNT_LIMIT, since an
        exact count reads every matching row (200 ms at a million cases, bench cases) and no one pages that far."""
        statement = _filtered(query, now)
        order = [c.desc() if desc else c.asc() for c, desc in _sort_columns(query.sort)]
        with self.sessions() as session:
            counted = session.execute(
                select(func.count()).select_from(statement.limit(COUNT_LIMIT + 1).subquery())).scalar_one()
            rows = session.scalars(statement.order_by(*order).offset(offset).limit(limit)).all()
        return list(rows), min(int(counted), COUNT_LIMIT), int(counted) <= COUNT_LIMIT

    def after(
        self, query: CaseQuery, cursor: str | None, limit: int, now: datetime
    ) -> tuple[list[CaseRow], str | None]:
        """One page by keyset; the cursor of the next page, or None at the end."""
        columns = _sort_columns(query.sort)
        statement = _filtered(query, now)
        if cursor:
            values = _decode(cursor, columns)
            descending = columns[0][1]
            # All sort columns run the same direction except none, so one row comparison does it.
            left = tuple_(*[c for c, _ in columns])
            right = tuple_(*[literal(v) if not isinstance(v, datetime) else literal(v, c.type)
                             for v, (c, _) in zip(values, columns, strict=True)])
            statement = statement.where(left < right if descending else left > right)
        order = [c.desc() if desc else c.asc() for c, desc in columns]
        with self.sessions() as session:
            rows = list(session.scalars(statement.order_by(*order).limit(limit + 1)).all())
        more = len(rows) > limit
        rows = rows[:limit]
        return rows, (cursor_after(rows[-1], query.sort) if more and rows else None)
