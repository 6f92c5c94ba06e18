"""Brute-force protection per (username, address) with a much higher account-wide ceiling.

Why this shape (issue 8): a lock on the *account* after five wrong passwords let anyone lock
any account — the admin's included — from any address, again and again. Here a run of wrong
passwords locks that username only at that address, for a time that doubles with each lock
(30 s, 1 min, 2 min … up to ``lockout_max_seconds``): a guesser slows to a crawl while the
owner at her own workstation signs in as usual. Only when failures from *many* addresses
pass ``account_failure_ceiling`` within ``account_window_seconds`` is the account locked
everywhere, and even then not at an address its owner signed in from in the last
``trusted_address_days``. Every lock raises an alert for the administrators.

Rows are keyed by the username as typed (lower-cased), whether or not such an account
exists, so an unknown name is throttled and answered exactly like a real one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from hms_server.adapters.orm.security import SignInGuard
from hms_server.adapters.repositories.security import SignInGuardRepository
from hms_server.adapters.uow import UnitOfWork
from hms_server.config import Settings
from hms_server.domain.errors import AccountLockedError

ACCOUNT_WIDE = "*"  # the address of the row that counts failures from every address
_LOCK_COUNT_MEMORY = timedelta(days=1)  # a quiet day forgets earlier locks


def username_key(username: str) -> str:
    return username.strip().lower()[:64]


def address_key(address: str | None) -> str:
    return (address or "unknown")[:64]


@dataclass(frozen=True)
class Lock:
    """A lock that began with this failure: where (``address`` or ``account``) and until."""

    scope: str
    until: datetime
    lock_count: int


def locked_error(until: datetime, now: datetime) -> AccountLockedError:
    """The one answer for a locked (username, address) or account, known or unknown."""
    seconds = max(1, math.ceil((until - now).total_seconds()))
    return AccountLockedError(
        "Too many failed sign-ins for this account. Try again in "
        f"{seconds} second{'s' if seconds != 1 else ''}.",
        headers={"Retry-After": str(seconds)},
    )


def _trusted(row: SignInGuard | None, settings: Settings, now: datetime) -> bool:
    return bool(
        row is not None
        and row.last_success_at is not None
        and now - row.last_success_at < timedelta(days=settings.trusted_address_days)
    )


def check(
    uow: UnitOfWork, settings: Settings, username: str, address: str | None, now: datetime
) -> None:
    """Raise ``AccountLockedError`` (423 + Retry-After) if this username is locked at this
    address, or account-wide and this is not a workstation its owner recently used."""
    guards = uow.repo(SignInGuardRepository)
    pair = guards.guard(username_key(username), address_key(address))
    if pair is not None and pair.locked_until is not None and pair.locked_until > now:
        raise locked_error(pair.locked_until, now)
    account = guards.guard(username_key(username), ACCOUNT_WIDE)
    if (
        account is not None
        and account.locked_until is not None
        and account.locked_until > now
        and not _trusted(pair, settings, now)
    ):
        raise locked_error(account.locked_until, now)


def _lock_seconds(settings: Settings, lock_count: int) -> int:
    return int(
        min(settings.lockout_seconds * 2 ** min(lock_count - 1, 20), settings.lockout_max_seconds)
    )


def record_failure(
    uow: UnitOfWork, settings: Settings, username: str, address: str | None, now: datetime
) -> Lock | None:
    """Count a failed attempt at this address and account-wide; the lock it starts, if any
    (the longer one when both start)."""
    guards = uow.repo(SignInGuardRepository)
    key, where = username_key(username), address_key(address)
    guards.forget_stale(keep_successes_days=settings.trusted_address_days)
    pair = guards.guard_for_update(key, where, now)
    if pair.last_failure_at is not None:
        if now - pair.last_failure_at > timedelta(seconds=settings.failure_window_seconds):
            pair.failures = 0
        if now - pair.last_failure_at > _LOCK_COUNT_MEMORY:
            pair.lock_count = 0
    pair.failures += 1
    pair.last_failure_at = now
    lock: Lock | None = None
    if pair.failures >= settings.lockout_threshold:
        pair.lock_count += 1
        pair.locked_until = now + timedelta(seconds=_lock_seconds(settings, pair.lock_count))
        pair.failures = 0
        lock = Lock("address", pair.locked_until, pair.lock_count)

    account = guards.guard_for_update(key, ACCOUNT_WIDE, now)
    if now >= account.window_start + timedelta(seconds=settings.account_window_seconds):
        account.window_start, account.failures = now, 0
        if account.last_failure_at and now - account.last_failure_at > _LOCK_COUNT_MEMORY:
            account.lock_count = 0
    account.failures += 1
    account.last_failure_at = now
    if account.failures >= settings.account_failure_ceiling:
        account.lock_count += 1
        account.locked_until = now + timedelta(seconds=_lock_seconds(settings, account.lock_count))
        account.failures = 0
        account.window_start = now
        if lock is None or account.locked_until > lock.until:
            lock = Lock("account", account.locked_until, account.lock_count)
    guards.flush()
    return lock


def record_success(uow: UnitOfWork, username: str, address: str | None, now: datetime) -> None:
    """A correct sign-in here: this address's failures and locks are forgotten and it
    becomes a workstation the account-wide ceiling does not lock out."""
    uow.repo(SignInGuardRepository).record_success(
        username_key(username), address_key(address), now
    )


def clear(uow: UnitOfWork, username: str) -> None:
    """Forget every failure and lock of ``username`` (an administrator unlocked it or set a
    new password). Trusted addresses are kept."""
    uow.repo(SignInGuardRepository).clear(username_key(username))
