"""Multi-factor sign-in: enrol your own authenticator; admins reset a lost one."""

from __future__ import annotations

from fastapi import APIRouter, Response

from hms_contract.mfa import TotpConfirm, TotpEnrolmentRead, TotpEnrolmentStart, TotpResetRead
from hms_server.api.deps import SignedIn, UserAdmin
from hms_server.api.problems import PROBLEM_RESPONSES
from hms_server.services import mfa

router = APIRouter(tags=["auth"], responses=PROBLEM_RESPONSES)


@router.post("/me/totp", operation_id="start_totp_enrolment")
def start_enrolment(body: TotpEnrolmentStart, ctx: SignedIn) -> TotpEnrolmentRead:
    """Get a new TOTP secret for your account; confirm it with a code to switch MFA on (or
    to replace your authenticator). Needs your password, and the current code when one is
    enrolled; wrong answers count like failed sign-ins and too many end the session."""
    enrolment = mfa.start_enrolment(
        ctx.uow(), ctx.settings, ctx.principal, password=body.password, code=body.code
    )
    return TotpEnrolmentRead(secret=enrolment.secret, provisioning_uri=enrolment.provisioning_uri)


@router.post("/me/totp/confirm", operation_id="confirm_totp_enrolment", status_code=204)
def confirm_enrolment(body: TotpConfirm, ctx: SignedIn) -> Response:
    """Confirm the pending secret with a current code; from then on sign-in needs a code."""
    mfa.confirm_enrolment(ctx.uow(), ctx.principal.user_id, body.code)
    return Response(status_code=204)


@router.post("/users/{user_id}/reset-totp", operation_id="reset_user_totp")
def reset_totp(user_id: int, ctx: UserAdmin) -> TotpResetRead:
    """Replace a lost authenticator: ends the user's sessions; for roles that require MFA a
    new secret is returned once."""
    enrolment = mfa.reset_totp(ctx.uow(), ctx.settings, user_id)
    if enrolment is None:
        return TotpResetRead(totp_enabled=False)
    return TotpResetRead(
        totp_enabled=True,
        enrolment=TotpEnrolmentRead(
            secret=enrolment.secret, provisioning_uri=enrolment.provisioning_uri
        ),
    )
