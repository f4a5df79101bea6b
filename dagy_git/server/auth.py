"""Bearer tokens: writes need the write token; reads need the read token when one is set.

Tokens are compared in constant time and never echoed: not in errors, not in logs. With no
write token configured the server is read-only and says so with a 403.
"""

from __future__ import annotations

import hmac
import os
from dataclasses import dataclass
from pathlib import Path

from fastapi import Request

from dagy_git.errors import DagyError
from dagy_git.server.http_errors import HttpError

__all__ = ["TOKEN_ENV", "Auth", "read_token_file"]

TOKEN_ENV = "DAGY_GIT_TOKEN"
READ_TOKEN_ENV = "DAGY_GIT_READ_TOKEN"


def read_token_file(path: Path) -> str:
    """The token in a file (surrounding whitespace ignored); a clear error if unusable."""
    try:
        token = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise DagyError(f"cannot read the token file {path}: {exc.__class__.__name__}") from None
    if not token or any(c.isspace() for c in token):
        raise DagyError(
            f"the token file {path} must hold one token (no spaces)",
            hint="e.g. `python -c 'import secrets; print(secrets.token_urlsafe(32))' > FILE`",
        )
    return token


def token_from_env(name: str = TOKEN_ENV) -> str | None:
    """A token from the environment, or None when unset or empty."""
    return os.environ.get(name, "").strip() or None


@dataclass(frozen=True)
class Auth:
    """The server's tokens: `write` opens writes; `read`, when set, closes reads."""

    write: str | None = None
    read: str | None = None

    @property
    def read_only(self) -> bool:
        """No write token: every write is refused."""
        return self.write is None

    def _presented(self, request: Request) -> str | None:
        scheme, _, value = request.headers.get("authorization", "").partition(" ")
        return value.strip() if scheme.lower() == "bearer" and value.strip() else None

    def require_write(self, request: Request) -> None:
        """A FastAPI dependency: refuse a write without the write token."""
        if self.write is None:
            raise HttpError(
                403,
                "this server is read-only: no write token is configured",
                hint=f"start `dagy-git serve` with {TOKEN_ENV} set or --token-file FILE",
            )
        if not _same(self._presented(request), self.write):
            raise HttpError(
                401,
                "writes need `Authorization: Bearer <token>` with the server's write token",
                headers={"WWW-Authenticate": "Bearer"},
            )

    def require_read(self, request: Request) -> None:
        """A FastAPI dependency: with a read token set, refuse a read without a token."""
        if self.read is None:
            return
        given = self._presented(request)
        if not (_same(given, self.read) or (self.write is not None and _same(given, self.write))):
            raise HttpError(
                401,
                "reads need `Authorization: Bearer <token>` with the server's read token",
                headers={"WWW-Authenticate": "Bearer"},
            )


def _same(given: str | None, expected: str) -> bool:
    # Constant time over the bytes: how much of a token matched must not leak by timing.
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())
