"""/media: evidence snapshots, only from inside the media directory."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse

router = APIRouter(tags=["evidence 证据"])


@router.get("/media/{relative:path}", response_class=FileResponse)
def evidence(request: Request, relative: str) -> FileResponse:
    path = request.app.state.evidence.resolve(relative)
    if path is None or path.suffix.lower() not in {".jpg", ".jpeg", ".png"}:
        raise HTTPException(404, "证据不存在 evidence not found")
    return FileResponse(path, headers={"Cache-Control": "private, max-age=3600", "X-Content-Type-Options": "nosniff"})
