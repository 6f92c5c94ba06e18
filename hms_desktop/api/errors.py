"""Errors the API layer raises; the UI knows how to show each of them.

No Qt and no httpx here, so widgets can import these cheaply.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, TypeVar


class ApiError(Exception):
    """Base class of every error the desktop API layer raises."""


class ServerUnavailableError(ApiError):
    """The server could not be reached (connection refused, DNS, TLS, timeout, proxy 5xx).

    Every network failure becomes this one error, so the UI has exactly one
    "server unavailable / reconnecting" path to show.
    """

    def __init__(self, server: str, reason: str = "") -> None:
        self.server = server
        self.reason = reason
        super().__init__(f"Server {server} is unavailable" + (f": {reason}" if reason else ""))


class UnexpectedAnswerError(ApiError):
    """The server answered 2xx, but not in the shape of the contract model the desktop
    expected (a server and desktop of different versions). ``errors`` are pydantic's."""

    def __init__(self, path: str, model: str, errors: list[Any] | None = None) -> None:
        self.path = path
        self.model = model
        self.errors = list(errors or [])
        super().__init__(f"The answer of {path} is not a valid {model}")


@dataclass(eq=False)
class ApiProblem(ApiError):
    """An RFC 9457 ``application/problem+json`` answer from the server.

    ``code`` is the stable machine code (e.g. ``invalid_credentials``) shown to support
    staff; ``detail`` is the human sentence shown to the user; ``errors`` lists bad
    fields on 422 as ``{"field": ..., "message": ...}``; ``retry_after`` is in seconds
    (from the ``Retry-After`` header on 423/429) or ``None``.
    """

    status: int
    code: str
    detail: str
    errors: list[dict] = field(default_factory=list)
    title: str = ""
    retry_after: int | None = None
    # The whole problem document: extensions such as ``conflicts`` (prescribing),
    # ``candidates`` (duplicate patients) or ``suggestions`` (slot taken) live here.
    body: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__init__(f"{self.status} {self.code}: {self.detail}")

    def member(self, name: str, default: Any = None) -> Any:
        """An extension member of the problem document (``candidates``, ``conflicts``,
        ``suggestions``, ...) as JSON; the area API parses it into its contract model."""
        return self.body.get(name, default) if isinstance(self.body, dict) else default

    def field_errors(self) -> dict[str, str]:
        """Map the last part of each bad field path (``body.password`` → ``password``)."""
        result: dict[str, str] = {}
        for item in self.errors:
            name = str(item.get("field", "")).rsplit(".", 1)[-1]
            message = str(item.get("message", ""))
            if name and name not in result:
                result[name] = message
        return result


P = TypeVar("P", bound=ApiProblem)


def specialise(problem: ApiProblem, kind: type[P], **extra: Any) -> P:
    """Re-raise-ready copy of ``problem`` as a more specific subclass (e.g. one that exposes
    an extension member such as ``suggestions`` as a typed field)."""
    values = {f.name: getattr(problem, f.name) for f in fields(ApiProblem)}
    return kind(**values, **extra)
