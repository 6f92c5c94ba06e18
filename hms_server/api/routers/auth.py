"""Sign-in, token refresh, sign-out, unlock, and the signed-in user's profile."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response

from hms_contract.auth import (
    HospitalRead,
    LoginRequest,
    MeRead,
    ReauthenticateRequest,
    RefreshRequest,
    TokenResponse,
    UserRead,
)
from hms_server.adapters.hospital_logo import read_logo
from hms_server.api.deps import PUBLIC, AnonymousActor, SettingsDep, SignedIn, uow_for
from hms_server.api.problems import PROBLEM_RESPONSES
from hms_server.domain.permissions import workspaces_for
from hms_server.services import auth as auth_service
from hms_server.services.auth import TokenPair
from hms_server.services.users import get_user

router = APIRouter(tags=["auth"], responses=PROBLEM_RESPONSES)


def _tokens(pair: TokenPair) -> TokenResponse:
    return TokenResponse(
        access_token=pair.access_token,
        refresh_token=pair.refresh_token,
        expires_in=pair.expires_in,
        user=UserRead.model_validate(pair.user),
    )


@router.post("/auth/login", operation_id="login", dependencies=[Depends(PUBLIC)])
def login(
    body: LoginRequest, request: Request, settings: SettingsDep, actor: AnonymousActor
) -> TokenResponse:
    """Exchange username + password (+ TOTP when required) for an access/refresh token pair."""
    uow = uow_for(request, actor)
    pair = auth_service.login(
        uow, settings, username=body.username, password=body.password, totp=body.totp, actor=actor
    )
    return _tokens(pair)


@router.post("/auth/refresh", operation_id="refresh_tokens", dependencies=[Depends(PUBLIC)])
def refresh(
    body: RefreshRequest, request: Request, settings: SettingsDep, actor: AnonymousActor
) -> TokenResponse:
    """Rotate the refresh token. Each is single-use; replaying one ends the session."""
    uow = uow_for(request, actor)
    return _tokens(
        auth_service.refresh(uow, settings, refresh_token=body.refresh_token, actor=actor)
    )


@router.post("/auth/logout", operation_id="logout", status_code=204)
def logout(ctx: SignedIn) -> Response:
    """End this session: its access and refresh tokens stop working at once."""
    auth_service.logout(ctx.uow(), ctx.principal)
    return Response(status_code=204)


@router.post("/auth/reauthenticate", operation_id="reauthenticate", status_code=204)
def reauthenticate(body: ReauthenticateRequest, ctx: SignedIn) -> Response:
    """Confirm the password of the signed-in user (desktop idle-lock resume). Throttled like
    sign-in; too many wrong passwords end the session (401 ``session_ended``)."""
    auth_service.reauthenticate(ctx.uow(), ctx.settings, ctx.principal, body.password)
    return Response(status_code=204)


@router.get("/me", operation_id="me")
def me(ctx: SignedIn) -> MeRead:
    """The signed-in user, their permissions and the desktop workspaces they may open."""
    user = ctx.principal.user or get_user(ctx.uow(), ctx.principal.user_id)
    base = UserRead.model_validate(user).model_dump()
    return MeRead(
        **base,
        permissions=sorted(p.value for p in ctx.principal.permissions),
        workspaces=workspaces_for(ctx.principal.roles),
        hospital=HospitalRead(
            name=ctx.hospital.name,
            timezone=ctx.hospital.timezone,
            address=ctx.hospital.address,
            phone=ctx.hospital.phone,
            email=ctx.hospital.email,
            tax_id=ctx.hospital.tax_id,
            currency=ctx.hospital.currency,
            currency_minor_unit=ctx.hospital.currency_minor_unit,
            has_logo=read_logo(ctx.hospital.logo_file) is not None,
        ),
    )
