"""``hms-server seed-demo``: a small, realistic demo hospital.

Each business area adds its own seeding step to ``SEED_STEPS``; steps are idempotent so the
command can be run again safely.
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from random import Random

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from hms_server.adapters.orm.identity import User
from hms_server.adapters.uow import Actor, UnitOfWork
from hms_server.bootstrap import Runtime
from hms_server.config import Settings
from hms_server.services import users as user_service

log = logging.getLogger("hms_server.seed")

# Demo only: every demo account shares this password, and the demo admin a fixed TOTP seed,
# so a first-time visitor can sign in. Never used outside seed-demo.
DEMO_PASSWORD = "Demo-Ward-2026!"  # noqa: S105
DEMO_ADMIN_TOTP_SECRET = "HMSDEMOADMINTOTPSECRETBASE32AAAA"  # noqa: S105

DEMO_USERS = [
    ("admin", "Alex Admin", ["admin"]),
    ("reception", "Rita Reyes", ["receptionist"]),
    ("doctor", "Dr. Daniel Okafor", ["doctor"]),
    ("nurse", "Nadia Novak", ["nurse"]),
    ("pharmacist", "Paul Mensah", ["pharmacist"]),
    ("billing", "Bea Lindqvist", ["billing_clerk"]),
    ("hr", "Hana Sato", ["hr_officer"]),
    ("manager", "Marcus Byrne", ["manager"]),
]


@dataclass
class SeedContext:
    runtime: Runtime
    patients: int
    rng: Random

    @property
    def session_factory(self) -> sessionmaker[Session]:
        return self.runtime.session_factory

    @property
    def settings(self) -> Settings:
        return self.runtime.settings

    def uow(self, actor: Actor | None = None) -> UnitOfWork:
        """A unit of work wired like the server's (other areas react to what seeding does)."""
        return self.runtime.uow(actor or Actor.system("seed-demo"))


def seed_users(ctx: SeedContext) -> None:
    for username, full_name, roles in DEMO_USERS:
        with ctx.session_factory() as session:
            if session.scalar(select(User.id).where(func.lower(User.username) == username)):
                continue
        created = user_service.create_user(
            ctx.uow(),
            ctx.settings,
            username=username,
            full_name=full_name,
            roles=roles,
            password=DEMO_PASSWORD,
        )
        if created.user.totp_secret:
            with ctx.session_factory() as session, session.begin():
                row = session.get(User, created.user.id)
                assert row is not None
                row.totp_secret = DEMO_ADMIN_TOTP_SECRET


def _discover_steps() -> list[tuple[int, Callable[[SeedContext], None]]]:
    """Each module in ``hms_server.seed`` may define ``SEED_ORDER`` (int) and ``seed(ctx)``;
    areas add a module instead of editing a shared list."""
    import hms_server.seed as package

    steps: list[tuple[int, Callable[[SeedContext], None]]] = [(0, seed_users)]
    for info in pkgutil.iter_modules(package.__path__):
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        if hasattr(module, "SEED_ORDER") and hasattr(module, "seed"):
            steps.append((int(module.SEED_ORDER), module.seed))
    return sorted(steps, key=lambda s: s[0])


def seed_demo(runtime: Runtime, *, patients: int = 200, seed: int = 2026) -> None:
    ctx = SeedContext(runtime, patients, Random(seed))
    for _, step in _discover_steps():
        log.info("seeding: %s", step.__module__)
        step(ctx)
