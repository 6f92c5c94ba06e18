"""Domain errors. Each carries a stable machine ``code`` and a human ``detail``.

Errors are grouped into a few kinds by their base class (not found, conflict, invalid input,
not allowed, …); the API layer alone decides which HTTP status each kind becomes
(``hms_server.api.problems``). Services raise these, never HTTP exceptions. A new error
subclasses the kind it is: ``class InsufficientStockError(ConflictError): code = ...``.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """Base of every error a user can cause; ``code`` is stable, ``detail`` is human text."""

    code = "bad_request"
    title = "Bad request"

    def __init__(
        self,
        detail: str,
        *,
        extra: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra or {}
        self.headers = headers or {}


# --- kinds -------------------------------------------------------------------------------


class NotAuthenticatedError(DomainError):
    code, title = "not_authenticated", "Not authenticated"


class ForbiddenError(DomainError):
    code, title = "forbidden", "Forbidden"


class NotFoundError(DomainError):
    code, title = "not_found", "Not found"


class ConflictError(DomainError):
    code, title = "conflict", "Conflict"


class ValidationFailedError(DomainError):
    code, title = "validation_error", "Invalid input"


class LockedError(DomainError):
    """The resource is locked for a while (e.g. an account after failed sign-ins)."""

    code, title = "locked", "Locked"


class RateLimitedError(DomainError):
    code, title = "too_many_requests", "Too many requests"


class TooLargeError(DomainError):
    code, title = "payload_too_large", "Payload too large"


class UnsupportedMediaError(DomainError):
    code, title = "unsupported_media_type", "Unsupported media type"


class UnavailableError(DomainError):
    """A service the request depends on (an insurer, a gateway) is unreachable now."""

    code, title = "service_unavailable", "Service unavailable"


class ConfigurationError(DomainError):
    """The server is misconfigured; nothing the user can fix."""

    code, title = "configuration_error", "Server misconfigured"


# --- specific errors ------------------------------------------------------------------------


class InvalidCredentialsError(NotAuthenticatedError):
    code, title = "invalid_credentials", "Invalid credentials"


class TotpRequiredError(NotAuthenticatedError):
    code, title = "totp_required", "One-time code required"


class InvalidTotpError(NotAuthenticatedError):
    code, title = "invalid_totp", "Invalid one-time code"


class SessionEndedError(NotAuthenticatedError):
    """The session was ended for safety (e.g. too many wrong passwords while signed in)."""

    code, title = "session_ended", "Session ended"


class AccountLockedError(LockedError):
    code, title = "account_locked", "Account temporarily locked"


class TooManyAttemptsError(RateLimitedError):
    code, title = "too_many_attempts", "Too many attempts"


class VersionConflictError(ConflictError):
    code, title = "version_conflict", "Record changed"


class WeakPasswordError(ValidationFailedError):
    code, title = "weak_password", "Password too weak"


class IdempotencyKeyReusedError(ValidationFailedError):
    code, title = "idempotency_key_reused", "Idempotency key reused"
