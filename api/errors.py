"""Errors as the OpenAPI says they come: `{"detail": "..."}`, or for 422 FastAPI's list of field errors, so a
client (and schemathesis) can rely on every status code a route may answer being documented."""

from __future__ import annotations

from typing import Any

from fastapi import HTTPException
from pydantic import BaseModel


class ErrorOut(BaseModel):
    detail: str


def _doc(description: str) -> dict[str, Any]:
    return {"model": ErrorOut, "description": description}


# What any route may answer, whatever it does (guards, login, the database).
COMMON: dict[int | str, dict[str, Any]] = {
    400: _doc("A NUL byte in the URL, or a header the route cannot read"),
    413: _doc("The request body is too large"),
    503: _doc("The database or Redis does not answer; try again shortly"),
}
# ...and what every route that needs a login may answer.
PROTECTED: dict[int | str, dict[str, Any]] = {
    **COMMON,
    401: _doc("Not logged in, or the token is invalid or expired"),
    403: _doc("The caller's role may not do this"),
}
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: _doc("No such thing")}
CONFLICT: dict[int | str, dict[str, Any]] = {409: _doc("Not possible in the current state; the message says why")}
PRECONDITION: dict[int | str, dict[str, Any]] = {
    412: _doc("If-Match named a version that is no longer the latest: someone else saved meanwhile")}


def unprocessable(location: tuple[str | int, ...], message: str) -> HTTPException:
    """A 422 shaped like FastAPI's own validation errors: one entry naming the field and what is wrong."""
    return HTTPException(422, [{"loc": list(location), "msg": message, "type": "value_error"}])
