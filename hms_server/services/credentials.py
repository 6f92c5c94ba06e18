"""Password hashing (argon2id), TOTP, access tokens (JWT) and opaque refresh tokens."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import jwt
import pyotp
from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from hms_server.config import Settings
from hms_server.domain.errors import NotAuthenticatedError

# OWASP minimum for argon2id: m = 19 MiB, t = 2, p = 1.
PASSWORD_HASHER = PasswordHasher(
    time_cost=2, memory_cost=19 * 1024, parallelism=1, hash_len=32, salt_len=16, type=Type.ID
)
# Verified against when the username does not exist, so response time does not reveal it.
_DUMMY_HASH = PASSWORD_HASHER.hash("not-a-real-password-only-for-timing")

JWT_ALGORITHM = "HS256"
ACCESS_TOKEN_TYP = "at+jwt"  # noqa: S105 - RFC 9068 header value


def hash_password(password: str) -> str:
    return PASSWORD_HASHER.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    try:
        return PASSWORD_HASHER.verify(stored_hash or _DUMMY_HASH, password) and bool(stored_hash)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return PASSWORD_HASHER.check_needs_rehash(stored_hash)


def new_totp_secret() -> str:
    return pyotp.random_base32()


def totp_provisioning_uri(secret: str, username: str, issuer: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=issuer)


def verify_totp(secret: str, code: str, last_step: int | None, now: datetime) -> int | None:
    """Return the matched time step (to store against replay), or None if the code is wrong.

    One step of clock drift either way is accepted; a step at or before the last one used
    is refused so an observed code cannot be replayed.
    """
    totp = pyotp.TOTP(secret)
    code = code.strip().replace(" ", "")
    current = int(now.timestamp()) // totp.interval
    for step in (current, current - 1, current + 1):
        if secrets.compare_digest(totp.generate_otp(step), code):
            if last_step is not None and step <= last_step:
                return None
            return step
    return None


def new_refresh_token() -> tuple[str, str]:
    """Return (token for the client, SHA-256 hex stored in the database)."""
    token = secrets.token_urlsafe(32)
    return token, hash_refresh_token(token)


def hash_refresh_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class AccessClaims:
    user_id: int
    session_id: uuid.UUID


def issue_access_token(
    settings: Settings, user_id: int, session_id: uuid.UUID, now: datetime
) -> str:
    claims = {
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "sub": str(user_id),
        "sid": str(session_id),
        "typ": "access",
        "iat": int(now.timestamp()),
        "nbf": int(now.timestamp()) - 5,
        "exp": int((now + timedelta(minutes=settings.access_token_minutes)).timestamp()),
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(
        claims, settings.jwt_secret, algorithm=JWT_ALGORITHM, headers={"typ": ACCESS_TOKEN_TYP}
    )


def decode_access_token(settings: Settings, token: str) -> AccessClaims:
    """Validate signature (HS256 only: no ``none``, no key confusion), exp, aud, iss and typ."""
    try:
        header = jwt.get_unverified_header(token)
        if header.get("typ") != ACCESS_TOKEN_TYP or header.get("alg") != JWT_ALGORITHM:
            raise NotAuthenticatedError("The access token is not valid.")
        claims = jwt.decode(
            token,
            settings.jwt_secret,
            algorithms=[JWT_ALGORITHM],
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
            options={"require": ["exp", "iat", "sub", "aud", "iss", "sid", "typ"]},
            leeway=5,
        )
        if claims.get("typ") != "access":
            raise NotAuthenticatedError("The access token is not valid.")
        return AccessClaims(user_id=int(claims["sub"]), session_id=uuid.UUID(claims["sid"]))
    except jwt.ExpiredSignatureError as exc:
        raise NotAuthenticatedError("The access token has expired.") from exc
    except (jwt.PyJWTError, ValueError, KeyError, TypeError) as exc:
        raise NotAuthenticatedError("The access token is not valid.") from exc
