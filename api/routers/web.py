"""The dashboard: one page and its files, all served from here (the centre's network has no internet)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from fastapi import APIRouter, FastAPI, HTTPException
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles


def content_security_policy(tile_url: str | None) -> str:
    """The page loads nothing from elsewhere: scripts and styles from this origin only, images also from
    the centre's own tile server when one is configured."""
    images = "'self' data: blob:"
    if tile_url:
        parts = urlsplit(tile_url.replace("{s}", "a").replace("{z}", "0").replace("{x}", "0").replace("{y}", "0"))
        if parts.scheme in ("http", "https") and parts.hostname:
            images += f" {parts.scheme}://{parts.netloc}"
    return (f"default-src 'self'; img-src {images}; style-src 'self' 'unsafe-inline'; script-src 'self'; "
            "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'")


def mount_web(app: FastAPI, web_dir: str, tile_url: str | None = None) -> None:
    root = Path(web_dir)
    csp = content_security_policy(tile_url)
    router = APIRouter(include_in_schema=False)

    @router.get("/")
    def index() -> FileResponse:
        page = root / "index.html"
        if not page.is_file():
            raise HTTPException(404, f"dashboard not built: {page} is missing")
        return FileResponse(page, headers={"Cache-Control": "no-cache", "Content-Security-Policy": csp,
                                           "X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff"})

    app.include_router(router)
    if root.is_dir():
        app.mount("/ui", StaticFiles(directory=root), name="ui")
