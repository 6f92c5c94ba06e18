"""FastAPI dependencies: settings, unit of work, the signed-in principal, permissions.

Every route declares what it needs with ``Depends(Require(Perm.X))`` or ``Depends(PUBLIC)``;
the authorization-matrix test walks the dependency tree of every route and fails on a route
that declares neither, so nothing is reachable by default.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Depends, Header, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session, sessionmaker

from hms_server.adapters.repositories.identity import SignInRepository
from hms_server.adapters.uow import Actor, UnitOfWork
from hms_server.config import Settings
from hms_server.domain.errors import ForbiddenError, NotAuthenticatedError
from hms_server.domain.hospital import Hospital
from hms_server.domain.permissions import Perm
from hms_server.services.access import check_patient_scope
from hms_server.services.auth import Principal, authenticate

if TYPE_CHECKING:
    from hms_server.bootstrap import Runtime

_bearer = HTTPBearer(auto_error=False, description="Access token from POST /api/v1/auth/login")


def get_settings(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


def get_session_factory(request: Request) -> sessionmaker[Session]:
    return request.app.state.session_factory  # type: ignore[no-any-return]


def get_runtime(request: Request) -> Runtime:
    return request.app.state.runtime  # type: ignore[no-any-return]


def uow_for(request: Request, actor: Actor | None) -> UnitOfWork:
    """A wired unit of work for a route without a signed-in user (sign-in, public pages)."""
    return get_runtime(request).uow(actor)


SettingsDep = Annotated[Settings, Depends(get_settings)]


def client_address(request: Request) -> str | None:
    return request.client.host if request.client else None


def _workstation(value: str | None) -> str | None:
    if not value:
        return None
    cleaned = "".join(ch for ch in value if ch.isprintable())[:128]
    return cleaned or None


def anonymous_actor(
    request: Request,
    x_workstation: Annotated[str | None, Header(description="Workstation host name")] = None,
) -> Actor:
    return Actor(
        user_id=None,
        username=None,
        workstation=_workstation(x_workstation),
        address=client_address(request),
    )


AnonymousActor = Annotated[Actor, Depends(anonymous_actor)]


class Public:
    """Marks a route as deliberately reachable without signing in."""

    permission = None

    def __call__(self) -> None:
        return None


PUBLIC = Public()


@dataclass(frozen=True)
class RequestContext:
    """Everything a route needs to call a service on behalf of the signed-in user."""

    principal: Principal
    actor: Actor
    runtime: Runtime
    #: What this request already established (the chart-access basis), for its services.
    memo: dict[Hashable, Any] = field(default_factory=dict, compare=False)

    @property
    def settings(self) -> Settings:
        return self.runtime.settings

    @property
    def hospital(self) -> Hospital:
        return self.runtime.hospital

    @property
    def session_factory(self) -> sessionmaker[Session]:
        return self.runtime.session_factory

    def uow(self) -> UnitOfWork:
        return self.runtime.uow(self.actor, request_memo=self.memo)


# Routes holding these permissions and a ``{patient_id}`` in their path are about one chart.
CHART_PERMISSIONS = frozenset({Perm.CLINICAL_READ, Perm.CLINICAL_WRITE, Perm.PRESCRIBE})
_BIGINT_MAX = 2**63 - 1


class Require:
    """Dependency that authenticates the bearer token and checks one permission.

    A refused request is audited (who tried what) in its own transaction, then 403.

    On a chart route (a ``CHART_PERMISSIONS`` permission and a ``{patient_id}`` in the path)
    it then checks the care relationship *before* the route looks anything up, so a clinician
    outside the patient's care gets the same 403 ``care_relationship_required`` whether the
    patient, or the note/document/order asked for, exists or not (issue 8: 403 vs 404 told
    which ids exist). ``patient_scope=False`` opts out (break-the-glass, which is how one gets
    in).
    """

    def __init__(self, permission: Perm, *, patient_scope: bool = True):
        self.permission = permission
        self.patient_scope = patient_scope and permission in CHART_PERMISSIONS

    def __call__(
        self,
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
        x_workstation: Annotated[str | None, Header(description="Workstation host name")] = None,
    ) -> RequestContext:
        if credentials is None or credentials.scheme.lower() != "bearer":
            raise NotAuthenticatedError(
                "Sign in first: this request needs a bearer access token.",
                headers={"WWW-Authenticate": "Bearer"},
            )
        runtime = get_runtime(request)
        memo: dict[Hashable, Any] = {}
        # One unit of work (one pooled connection) for the token check and, on a chart
        # route, the care-relationship check; the service reuses the basis found here.
        uow = runtime.uow(request_memo=memo)
        with uow:
            principal = authenticate(
                uow.repo(SignInRepository), runtime.settings, credentials.credentials
            )
            actor = Actor(
                user_id=principal.user_id,
                username=principal.username,
                roles=principal.roles,
                workstation=_workstation(x_workstation),
                address=client_address(request),
                session_id=str(principal.session_id),
            )
            uow.actor = actor
            if self.permission not in principal.permissions:
                denied = uow.child()
                with denied:
                    denied.audit(
                        "access_control",
                        "access.denied",
                        outcome="denied",
                        detail={
                            "permission": self.permission.value,
                            "method": request.method,
                            "path": request.url.path,
                        },
                    )
                    denied.commit()
                raise ForbiddenError(
                    f"Your role does not allow this action (needs '{self.permission.value}')."
                )
            if self.patient_scope:
                raw = str(request.path_params.get("patient_id", ""))
                # A malformed id is left to the route's own validation (422).
                if raw.isdigit() and 0 < int(raw) <= _BIGINT_MAX:
                    check_patient_scope(uow, int(raw))
        request.state.actor = actor
        return RequestContext(principal=principal, actor=actor, runtime=runtime, memo=memo)


def requirement(perm: Perm, *, patient_scope: bool = True) -> type[RequestContext]:
    """``ctx: requirement(Perm.X)`` — shorthand for an annotated ``Require`` dependency."""
    return Annotated[
        RequestContext,  # type: ignore[return-value]
        Depends(Require(perm, patient_scope=patient_scope)),
    ]


# Aliases used by routers (FastAPI full-stack template style).
SignedIn = requirement(Perm.SELF)
UserAdmin = requirement(Perm.USERS_MANAGE)
AuditReader = requirement(Perm.AUDIT_READ)
