"""/media: evidence snapshots, for logged-in users only, and only from inside the media directory."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse

from api.auth import Reader
from api.deps import SnapshotsDep
from api.errors import NOT_FOUND, PROTECTED

router = APIRouter(tags=["evidence 证据"], responses=PROTECTED)

_MAX_PATH = 1024
_MAX_PART = 255


@router.get("/media/{relative:path}", response_class=FileResponse, responses=NOT_FOUND)
def snapshot(relative: str, store: SnapshotsDep, _reader: Reader) -> FileResponse:
    if len(relative) > _MAX_PATH or any(len(part.encode()) > _MAX_PART for part in relative.split("/")) \
            or "\x00" in relative:
        raise HTTPException(404, "证据不存在 / evidence not found")
    path = store.resolve(relative)
    if path is None or path.suffix.lower() not in {".jpg", ".jpeg", ".png"}:
        raise HTTPException(404, "证据不存在 / evidence not found")
    return FileResponse(path, headers={"Cache-Control": "private, max-age=3600", "X-Content-Type-Options": "nosniff"})
