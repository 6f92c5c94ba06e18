"""The hospital's own facts for screens and printouts: ``GET /hospital`` and the letterhead
logo ``GET /hospital/logo``."""

from __future__ import annotations

from fastapi import APIRouter, Response

from hms_contract.auth import HospitalRead
from hms_server.adapters.hospital_logo import read_logo
from hms_server.api.deps import RequestContext, requirement
from hms_server.api.problems import PROBLEM_RESPONSES
from hms_server.domain.errors import NotFoundError
from hms_server.domain.permissions import Perm

router = APIRouter(prefix="/hospital", tags=["hospital"], responses=PROBLEM_RESPONSES)

SignedIn = requirement(Perm.SELF)


def hospital_read(ctx: RequestContext) -> HospitalRead:
    h = ctx.hospital
    return HospitalRead(
        name=h.name,
        timezone=h.timezone,
        address=h.address,
        phone=h.phone,
        email=h.email,
        tax_id=h.tax_id,
        currency=h.currency,
        currency_minor_unit=h.currency_minor_unit,
        has_logo=read_logo(h.logo_file) is not None,
    )


@router.get("", operation_id="get_hospital")
def get_hospital(ctx: SignedIn) -> HospitalRead:
    """Name, address, phone, time zone and currency, as every printout shows them."""
    return hospital_read(ctx)


@router.get(
    "/logo",
    operation_id="get_hospital_logo",
    responses={
        200: {
            "content": {"image/png": {}, "image/jpeg": {}},
            "description": "The letterhead logo (PNG or JPEG)",
        }
    },
)
def get_hospital_logo(ctx: SignedIn) -> Response:
    """The letterhead logo (``HMS_HOSPITAL_LOGO_FILE``); 404 ``not_found`` when none is set."""
    logo = read_logo(ctx.hospital.logo_file)
    if logo is None:
        raise NotFoundError("This hospital has no letterhead logo configured.")
    return Response(
        logo.content, media_type=logo.media_type, headers={"Cache-Control": "private, max-age=3600"}
    )
