"""/api/cases: the queue staff work through, one case's full story, and moving it along its life cycle."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Path, Query

from api.auth import Dispatcher, Reader
from api.deps import BackgroundDep, CaseFinderDep, CaseStoreDep, WorkflowDep
from api.errors import CONFLICT, NOT_FOUND, PROTECTED, unprocessable
from api.orm import utcnow
from api.schemas import CaseDetailOut, CaseEventOut, CaseOut, CasePage, TimelineOut, TransitionIn
from api.services.cases import CaseStore
from api.services.lifecycle import CaseStatus, Role, TransitionError, allowed_targets, may
from api.services.queries import CaseQuery, CursorError, Sort
from api.services.workflow import CaseNotFound
from zones import ProblemClass, ZoneKind

router = APIRouter(prefix="/api/cases", tags=["cases 案件"], responses=PROTECTED)

CaseId = Annotated[int, Path(ge=1, le=2**63 - 1, description="案件编号 / case id")]


def _not_found(case_id: int) -> HTTPException:
    return HTTPException(404, f"案件不存在 / case {case_id} not found")


@router.get("", response_model=CasePage, response_model_by_alias=True)
def list_cases(
    finder: CaseFinderDep,
    _reader: Reader,
    status: Annotated[list[CaseStatus] | None, Query(description="案件状态 / status; repeat for several")] = None,
    problem: Annotated[ProblemClass | None, Query(alias="class", description="问题类别 / problem class")] = None,
    priority: Annotated[Literal["low", "normal", "high", "urgent"] | None, Query()] = None,
    grid: Annotated[str | None, Query(max_length=64, description="网格 / grid")] = None,
    camera_id: Annotated[str | None, Query(max_length=64)] = None,
    zone_kind: Annotated[ZoneKind | None, Query()] = None,
    assignee: Annotated[str | None, Query(max_length=128)] = None,
    overdue: Annotated[bool | None, Query(description="超期 / past its deadline")] = None,
    sort: Annotated[Sort, Query(description="排序 / order")] = "-created_at",
    page: Annotated[int | None, Query(ge=1, le=100_000, description="Page number (with a total).")] = None,
    page_size: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=512, description="Keyset paging: `next_cursor` of the "
                                        "previous page; start with an empty value.")] = None,
) -> CasePage:
    """案件列表 / the case queue, newest first unless sorted otherwise."""
    query = CaseQuery(status=tuple(s.value for s in status or ()), problem=problem.value if problem else None,
                      priority=priority, grid=grid, camera_id=camera_id,
                      zone_kind=zone_kind.value if zone_kind else None, assignee=assignee, overdue=overdue, sort=sort)
    now = utcnow()
    if cursor is not None:
        try:
            rows, next_cursor = finder.after(query, cursor or None, page_size, now)
        except CursorError as exc:
            raise unprocessable(("query", "cursor"), str(exc)) from None
        return CasePage(items=[CaseOut.of(r, now) for r in rows], total=None, page=None, page_size=page_size,
                        next_cursor=next_cursor)
    page = page or 1
    rows, total, exact = finder.page(query, (page - 1) * page_size, page_size, now)
    return CasePage(items=[CaseOut.of(r, now) for r in rows], total=total, total_exact=exact, page=page,
                    page_size=page_size)


def _detail(store: CaseStore, case_id: int, role: Role) -> CaseDetailOut:
    row = store.get(case_id)
    if row is None:
        raise _not_found(case_id)
    now = utcnow()
    actions = sorted(allowed_targets(CaseStatus(row.status))) if may(role, "transition") else []
    return CaseDetailOut(
        **CaseOut.of(row, now).model_dump(),
        events=[CaseEventOut.of(e) for e in row.events],
        timeline=[TimelineOut.of(t) for t in row.timeline],
        actions=actions,
    )


@router.get("/{case_id}", response_model=CaseDetailOut, response_model_by_alias=True, responses=NOT_FOUND)
def get_case(store: CaseStoreDep, case_id: CaseId, reader: Reader) -> CaseDetailOut:
    """案件详情 / one case: before and after evidence, every event, the timeline, and what the caller may do."""
    return _detail(store, case_id, reader.role)


@router.post(
    "/{case_id}/transitions", response_model=CaseDetailOut, response_model_by_alias=True,
    responses={**NOT_FOUND, **CONFLICT},
)
def transition(case_id: CaseId, body: TransitionIn, user: Dispatcher, workflow: WorkflowDep,
               background: BackgroundDep, store: CaseStoreDep) -> CaseDetailOut:
    """流转 / move a case: confirm, dismiss (with a reason), dispatch, resolve, close, reopen."""
    try:
        workflow.transition(case_id, body.to, user.username, body.note, body.reason, body.assignee)
    except CaseNotFound:
        raise _not_found(case_id) from None
    except TransitionError as exc:
        raise HTTPException(409, str(exc)) from None
    background.wake("relay")
    return _detail(store, case_id, user.role)
