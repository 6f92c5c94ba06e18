"""Staff account administration (admin only)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse

from hms_contract.auth import UserRead
from hms_contract.common import Page
from hms_contract.users import PasswordReset, UserCreate, UserCreated, UserUpdate
from hms_server.api.deps import UserAdmin
from hms_server.api.idempotency import IdempotencyKey, run_idempotent
from hms_server.api.problems import PROBLEM_RESPONSES
from hms_server.services import users as user_service

router = APIRouter(prefix="/users", tags=["users"], responses=PROBLEM_RESPONSES)

UserSort = Annotated[
    str,
    Query(
        pattern=r"^-?(username|full_name|created_at|id)$",
        description="username, full_name, created_at; '-' = desc",
    ),
]


@router.get("", operation_id="list_users")
def list_users(
    ctx: UserAdmin,
    q: Annotated[str | None, Query(max_length=100)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    sort: UserSort = "username",
) -> Page[UserRead]:
    """Search staff accounts by username or name fragment."""
    rows, total = user_service.list_users(ctx.uow(), q=q, limit=limit, offset=offset, sort=sort)
    return Page[UserRead](items=[UserRead.model_validate(u) for u in rows], total=total)


@router.post("", operation_id="create_user", status_code=201, response_model=UserCreated)
def create_user(
    body: UserCreate, request: Request, ctx: UserAdmin, idempotency_key: IdempotencyKey = None
) -> JSONResponse:
    """Create an account. For roles that require MFA the TOTP provisioning URI is returned
    once, here, and never again."""
    return run_idempotent(
        ctx,
        request,
        idempotency_key,
        body.model_dump(exclude={"password"}),
        lambda uow: user_service.create_user(
            uow,
            ctx.settings,
            username=body.username,
            full_name=body.full_name,
            roles=body.roles,
            password=body.password,
        ),
        lambda created: UserCreated(
            **UserRead.model_validate(created.user).model_dump(),
            totp_provisioning_uri=created.totp_provisioning_uri,
        ),
        headers=lambda created: {"Location": f"/api/v1/users/{created.user.id}"},
    )


@router.get("/{user_id}", operation_id="get_user")
def get_user(user_id: int, ctx: UserAdmin) -> UserRead:
    return UserRead.model_validate(user_service.get_user(ctx.uow(), user_id))


@router.patch("/{user_id}", operation_id="update_user")
def update_user(user_id: int, body: UserUpdate, ctx: UserAdmin) -> UserRead:
    """Change name or roles; ``version`` must match the current record (else 409)."""
    user = user_service.update_user(
        ctx.uow(), user_id, version=body.version, full_name=body.full_name, roles=body.roles
    )
    return UserRead.model_validate(user)


@router.post("/{user_id}/disable", operation_id="disable_user")
def disable_user(user_id: int, ctx: UserAdmin) -> UserRead:
    """Disable the account and end all its sessions immediately."""
    return UserRead.model_validate(user_service.set_user_active(ctx.uow(), user_id, active=False))


@router.post("/{user_id}/enable", operation_id="enable_user")
def enable_user(user_id: int, ctx: UserAdmin) -> UserRead:
    return UserRead.model_validate(user_service.set_user_active(ctx.uow(), user_id, active=True))


@router.post("/{user_id}/unlock", operation_id="unlock_user")
def unlock_user(user_id: int, ctx: UserAdmin) -> UserRead:
    """Clear the account's sign-in locks at every address (the password is unchanged)."""
    return UserRead.model_validate(user_service.unlock_user(ctx.uow(), user_id))


@router.post("/{user_id}/reset-password", operation_id="reset_user_password", status_code=204)
def reset_password(user_id: int, body: PasswordReset, ctx: UserAdmin) -> Response:
    """Set a new password; all the user's sessions end."""
    user_service.reset_password(ctx.uow(), user_id, new_password=body.new_password)
    return Response(status_code=204)
