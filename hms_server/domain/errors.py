"""Domain errors. Each carries a stable machine ``code`` and an HTTP status for the API layer.

The API maps these to RFC 9457 problem documents; services raise them, never HTTP exceptions.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """Base of every error a user can cause; ``code`` is stable, ``detail`` is human text."""

    status = 400
    code = "bad_request"
    title = "Bad request"

    def __init__(self, detail: str, *, extra: dict[str, Any] | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra or {}
        self.headers = headers or {}


class NotAuthenticatedError(DomainError):
    status, code, title = 401, "not_authenticated", "Not authenticated"


class InvalidCredentialsError(DomainError):
    status, code, title = 401, "invalid_credentials", "Invalid credentials"


class TotpRequiredError(DomainError):
    status, code, title = 401, "totp_required", "One-time code required"


class InvalidTotpError(DomainError):
    status, code, title = 401, "invalid_totp", "Invalid one-time code"


class AccountLockedError(DomainError):
    status, code, title = 423, "account_locked", "Account temporarily locked"


class TooManyAttemptsError(DomainError):
    status, code, title = 429, "too_many_attempts", "Too many attempts"


class ForbiddenError(DomainError):
    status, code, title = 403, "forbidden", "Forbidden"


class NotFoundError(DomainError):
    status, code, title = 404, "not_found", "Not found"


class ConflictError(DomainError):
    status, code, title = 409, "conflict", "Conflict"


class VersionConflictError(ConflictError):
    code, title = "version_conflict", "Record changed"


class ValidationFailedError(DomainError):
    status, code, title = 422, "validation_error", "Invalid input"


class WeakPasswordError(ValidationFailedError):
    code, title = "weak_password", "Password too weak"


class IdempotencyKeyReusedError(ValidationFailedError):
    code, title = "idempotency_key_reused", "Idempotency key reused"
