"""Errors as HTTP answers: `{"error": {message, hint, path, line}}`, the CLI's words.

A `DagyError` becomes 404 (not found), 409 (refused, or another writer won every retry)
or 422 (a bad name, spec or value); a request the schema refuses becomes 422 naming the
field, as the CLI names a key; anything unexpected is a 500 without internals.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from dagy_git.errors import (
    ConflictError,
    DagyError,
    GitError,
    NotFoundError,
    RefusedError,
    RegistryError,
)

__all__ = ["HttpError", "install_handlers", "status_of", "validation_message"]

log = logging.getLogger("dagy_git.server")


class HttpError(Exception):
    """An error the server answers with a status of its choosing."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        hint: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.message, self.hint = status, message, hint
        self.headers = dict(headers or {})


def status_of(exc: DagyError) -> int:
    """The HTTP status of a user-facing error."""
    if isinstance(exc, NotFoundError):
        return 404
    if isinstance(exc, (RefusedError, ConflictError, RegistryError)):
        return 409
    if isinstance(exc, GitError):
        return 502  # git (a push, a remote) failed: the request itself was fine
    return 422


def body(
    message: str, hint: str | None = None, path: str | None = None, line: int | None = None
) -> dict[str, Any]:
    """The JSON error document."""
    return {"error": {"message": message, "hint": hint, "path": path, "line": line}}


def validation_message(errors: Sequence[Any]) -> str:
    """The first schema error, worded like the CLI's: `body.flow_spec.name: Field required`."""
    if not errors:
        return "invalid request"
    first = errors[0]
    loc = [str(p) for p in first.get("loc", ())]
    if first.get("type") == "extra_forbidden" and loc:
        where = ".".join(loc[:-1]) or "the request"
        return f"{where}: unknown field {loc[-1]!r}"
    where = ".".join(loc) or "the request"
    return f"{where}: {first.get('msg', 'invalid')}"


def install_handlers(app: FastAPI) -> None:
    """Answer every error as JSON with the right status."""

    @app.exception_handler(HttpError)
    async def _http(request: Request, exc: HttpError) -> JSONResponse:
        return JSONResponse(body(exc.message, exc.hint), exc.status, headers=exc.headers)

    @app.exception_handler(HTTPException)
    async def _starlette(request: Request, exc: HTTPException) -> JSONResponse:
        # No such route, method not allowed, …: the same shape as every other error.
        return JSONResponse(body(str(exc.detail)), exc.status_code, headers=exc.headers)

    @app.exception_handler(DagyError)
    async def _dagy(request: Request, exc: DagyError) -> JSONResponse:
        return JSONResponse(body(exc.message, exc.hint, exc.path, exc.line), status_of(exc))

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse(body(validation_message(exc.errors())), 422)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        # The traceback goes to the server's log; the client learns only that it failed.
        log.exception("unexpected failure on %s %s", request.method, request.url.path)
        return JSONResponse(body("unexpected server failure", "see the server's log"), 500)
