"""/api/cases: the cases staff work through."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query, Request

from api.cases import CaseFilter, CaseStore
from api.schemas import CaseDetailOut, CaseEventOut, CaseOut, CasePage
from zones import ProblemClass

router = APIRouter(prefix="/api/cases", tags=["cases 案件"])

CaseStatus = Literal["new", "confirmed", "dismissed", "dispatched", "resolved", "closed", "reopened"]


def _store(request: Request) -> CaseStore:
    return request.app.state.case_store


@router.get("", response_model=CasePage, response_model_by_alias=True)
def list_cases(
    request: Request,
    status: Annotated[CaseStatus | None, Query(description="案件状态 / case status")] = None,
    problem: Annotated[ProblemClass | None, Query(alias="class", description="问题类别 / problem class")] = None,
    camera_id: Annotated[str | None, Query(max_length=64)] = None,
    page: Annotated[int, Query(ge=1)] = 1,
    page_size: Annotated[int, Query(ge=1, le=200)] = 50,
) -> CasePage:
    rows, total = _store(request).list(
        CaseFilter(status=status, problem=problem, camera_id=camera_id), (page - 1) * page_size, page_size
    )
    return CasePage(items=[CaseOut.of(r) for r in rows], total=total, page=page, page_size=page_size)


@router.get("/{case_id}", response_model=CaseDetailOut, response_model_by_alias=True)
def get_case(request: Request, case_id: int) -> CaseDetailOut:
    row = _store(request).get(case_id)
    if row is None:
        raise HTTPException(404, f"案件不存在 case {case_id} not found")
    return CaseDetailOut(**CaseOut.of(row).model_dump(), events=[CaseEventOut.of(e) for e in row.events])
