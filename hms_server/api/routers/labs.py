"""Laboratory orders and results, and patient documents (multipart upload)."""

from __future__ import annotations

import hashlib
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import JSONResponse, Response

from hms_contract.clinical import (
    DocumentRead,
    LabOrderCreate,
    LabOrderRead,
    LabOrderStatus,
    LabResultCreate,
    LabResultRead,
    LabTestRead,
)
from hms_contract.common import Page
from hms_server.api.deps import requirement
from hms_server.api.idempotency import IdempotencyKey, run_idempotent
from hms_server.api.params import Limit, Offset
from hms_server.api.problems import PROBLEM_RESPONSES
from hms_server.api.views import combined, read
from hms_server.domain.errors import ValidationFailedError
from hms_server.domain.permissions import Perm
from hms_server.services import documents as document_service
from hms_server.services import labs as lab_service
from hms_server.services.labs import LabOrderView

router = APIRouter(tags=["clinical"], responses=PROBLEM_RESPONSES)

ClinicalRead = requirement(Perm.CLINICAL_READ)
ClinicalWrite = requirement(Perm.CLINICAL_WRITE)


def order_read(view: LabOrderView) -> LabOrderRead:
    result = None
    if view.result is not None:
        result = _result_read(view.result, view.test)
    return read(
        LabOrderRead,
        combined(
            view.order,
            test=read(LabTestRead, view.test),
            ordered_by_name=view.ordered_by_name,
            result=result,
        ),
    )


def _result_read(result: Any, test: Any) -> LabResultRead:
    """A result with its test's code, name and LOINC code."""
    return read(
        LabResultRead, combined(result, test_code=test.code, test_name=test.name, loinc=test.loinc)
    )


@router.get("/lab-tests", operation_id="list_lab_tests")
def list_lab_tests(
    ctx: ClinicalRead,
    q: Annotated[str | None, Query(max_length=100)] = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Page[LabTestRead]:
    """The laboratory catalogue (LOINC codes where known)."""
    rows, total = lab_service.list_lab_tests(ctx.uow(), q=q, limit=limit, offset=offset)
    return Page[LabTestRead](items=[LabTestRead.model_validate(t) for t in rows], total=total)


@router.post(
    "/patients/{patient_id}/lab-orders",
    operation_id="order_lab_test",
    status_code=201,
    response_model=LabOrderRead,
)
def order_lab_test(
    patient_id: int,
    body: LabOrderCreate,
    request: Request,
    ctx: ClinicalWrite,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Order a test from the catalogue (by ``test_id`` or ``test_code``)."""
    return run_idempotent(
        ctx,
        request,
        idempotency_key,
        body,
        lambda uow: lab_service.order_lab(
            uow,
            patient_id,
            test_id=body.test_id,
            test_code=body.test_code,
            priority=body.priority,
            notes=body.notes,
            encounter_id=body.encounter_id,
        ),
        order_read,
    )


@router.get("/patients/{patient_id}/lab-orders", operation_id="list_lab_orders")
def list_lab_orders(
    patient_id: int,
    ctx: ClinicalRead,
    status: LabOrderStatus | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[LabOrderRead]:
    rows, total = lab_service.list_lab_orders(
        ctx.uow(), patient_id, status=status, limit=limit, offset=offset
    )
    return Page[LabOrderRead](items=[order_read(v) for v in rows], total=total)


@router.post(
    "/patients/{patient_id}/lab-orders/{order_id}/result",
    operation_id="record_lab_result",
    status_code=201,
)
def record_lab_result(
    patient_id: int, order_id: int, body: LabResultCreate, ctx: ClinicalWrite
) -> LabOrderRead:
    """Enter the result; unit, reference range and the abnormal flag come from the
    catalogue."""
    return order_read(
        lab_service.record_lab_result(
            ctx.uow(),
            patient_id,
            order_id,
            value_numeric=body.value_numeric,
            value_text=body.value_text,
            comment=body.comment,
            version=body.version,
        )
    )


@router.post("/patients/{patient_id}/lab-orders/{order_id}/cancel", operation_id="cancel_lab_order")
def cancel_lab_order(patient_id: int, order_id: int, ctx: ClinicalWrite) -> LabOrderRead:
    return order_read(lab_service.cancel_lab_order(ctx.uow(), patient_id, order_id))


@router.get("/patients/{patient_id}/lab-results", operation_id="list_lab_results")
def list_lab_results(
    patient_id: int,
    ctx: ClinicalRead,
    test_code: Annotated[str | None, Query(max_length=32)] = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Page[LabResultRead]:
    rows, total = lab_service.list_lab_results(
        ctx.uow(), patient_id, test_code=test_code, limit=limit, offset=offset
    )
    return Page[LabResultRead](items=[_result_read(r, t) for r, t in rows], total=total)


# ---------------------------------------------------------------- documents


@router.post(
    "/patients/{patient_id}/documents",
    operation_id="upload_document",
    status_code=201,
    response_model=DocumentRead,
)
async def upload_document(
    patient_id: int,
    request: Request,
    ctx: ClinicalWrite,
    file: Annotated[UploadFile, File(description="PDF, PNG or JPEG, at most 10 MiB")],
    title: Annotated[str | None, Form(max_length=200)] = None,
    category: Annotated[str | None, Form(max_length=64)] = None,
    encounter_id: Annotated[int | None, Form(ge=1, le=2**63 - 1)] = None,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Attach a document. The type is read from the file's content; the declared
    content type and file name are not trusted."""
    data = await file.read(document_service.MAX_DOCUMENT_BYTES + 1)
    if not data:
        raise ValidationFailedError(
            "The file is empty.",
            extra={"errors": [{"field": "body.file", "message": "empty file", "type": "missing"}]},
        )
    name = (file.filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    clean_title = "".join(ch for ch in (title or name or "Document") if ch.isprintable())
    payload = {
        "title": clean_title,
        "category": category,
        "encounter_id": encounter_id,
        "sha256": hashlib.sha256(data).hexdigest(),
    }
    return run_idempotent(
        ctx,
        request,
        idempotency_key,
        payload,
        lambda uow: document_service.upload_document(
            uow,
            patient_id,
            title=clean_title.strip() or "Document",
            category=category,
            filename=name or None,
            data=data,
            encounter_id=encounter_id,
        ),
        DocumentRead.model_validate,
    )


@router.get("/patients/{patient_id}/documents", operation_id="list_documents")
def list_documents(
    patient_id: int, ctx: ClinicalRead, limit: Limit = 50, offset: Offset = 0
) -> Page[DocumentRead]:
    rows, total = document_service.list_documents(ctx.uow(), patient_id, limit=limit, offset=offset)
    return Page[DocumentRead](items=[DocumentRead.model_validate(d) for d in rows], total=total)


@router.get("/patients/{patient_id}/documents/{document_id}", operation_id="get_document")
def get_document(patient_id: int, document_id: int, ctx: ClinicalRead) -> DocumentRead:
    return DocumentRead.model_validate(
        document_service.get_document(ctx.uow(), patient_id, document_id, with_content=False)
    )


@router.get(
    "/patients/{patient_id}/documents/{document_id}/content",
    operation_id="download_document",
    responses={200: {"content": {"application/pdf": {}, "image/png": {}, "image/jpeg": {}}}},
)
def download_document(patient_id: int, document_id: int, ctx: ClinicalRead) -> Response:
    """The stored bytes, with the sniffed content type and the checksum as ETag."""
    doc = document_service.get_document(ctx.uow(), patient_id, document_id, with_content=True)
    return Response(
        content=doc.content,
        media_type=doc.content_type,
        headers={
            "ETag": f'"{doc.sha256}"',
            "Cache-Control": "no-store",
            "Content-Disposition": f'attachment; filename="document-{doc.id}"',
        },
    )
