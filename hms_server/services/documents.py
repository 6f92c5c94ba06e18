"""Patient documents (PDF, PNG, JPEG): stored in the database with a SHA-256 checksum.

The content type is decided from the file's first bytes; what the client claims is ignored,
so a renamed executable cannot be stored as a "PDF".
"""

from __future__ import annotations

import hashlib

from hms_server.adapters.orm.base import utcnow
from hms_server.adapters.orm.clinical import PatientDocument
from hms_server.adapters.repositories.clinical import ChartRepository
from hms_server.adapters.uow import UnitOfWork
from hms_server.domain.errors import NotFoundError, TooLargeError, UnsupportedMediaError
from hms_server.services.access import ensure_chart_access, ensure_chart_write_access
from hms_server.services.clinical import actor_id, audit_read, check_encounter

MAX_DOCUMENT_BYTES = 10 * 1024 * 1024

_SIGNATURES = (
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
)


class DocumentTooLargeError(TooLargeError):
    code, title = "document_too_large", "Document too large"


class UnsupportedDocumentError(UnsupportedMediaError):
    code, title = "unsupported_document_type", "Unsupported document type"


def sniff_content_type(data: bytes) -> str | None:
    """The media type the magic bytes say, or None if not an accepted type."""
    for magic, media_type in _SIGNATURES:
        if data.startswith(magic):
            return media_type
    return None


def upload_document(
    uow: UnitOfWork,
    patient_id: int,
    *,
    title: str,
    category: str | None,
    filename: str | None,
    data: bytes,
    encounter_id: int | None,
) -> PatientDocument:
    if len(data) > MAX_DOCUMENT_BYTES:
        raise DocumentTooLargeError(
            f"Documents may be at most {MAX_DOCUMENT_BYTES // (1024 * 1024)} MiB.",
            extra={"max_bytes": MAX_DOCUMENT_BYTES},
        )
    content_type = sniff_content_type(data)
    if content_type is None:
        raise UnsupportedDocumentError(
            "Only PDF, PNG and JPEG files can be attached (checked from the file's content).",
            extra={"accepted": [t for _, t in _SIGNATURES]},
        )
    with uow:
        ensure_chart_write_access(uow, patient_id)
        check_encounter(uow, encounter_id, patient_id)
        doc = PatientDocument(
            patient_id=patient_id,
            encounter_id=encounter_id,
            title=title.strip(),
            category=category,
            filename=(filename or "")[-255:] or None,
            content_type=content_type,
            size_bytes=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            content=data,
            uploaded_by_user_id=actor_id(uow),
            uploaded_at=utcnow(),
        )
        uow.repo(ChartRepository).add(doc)
        uow.audit(
            "documents",
            "document.upload",
            patient_id=patient_id,
            detail={"document_id": doc.id, "sha256": doc.sha256, "size_bytes": doc.size_bytes},
        )
        uow.publish("document.uploaded", {"document_id": doc.id, "patient_id": patient_id})
        uow.commit()
        return doc


def list_documents(
    uow: UnitOfWork, patient_id: int, *, limit: int, offset: int
) -> tuple[list[PatientDocument], int]:
    with uow:
        basis = ensure_chart_access(uow, patient_id)
        rows, total = uow.repo(ChartRepository).documents(patient_id, limit=limit, offset=offset)
        audit_read(uow, basis, "documents")
        uow.commit()
        return rows, total


def get_document(
    uow: UnitOfWork, patient_id: int, document_id: int, *, with_content: bool
) -> PatientDocument:
    with uow:
        doc = uow.repo(ChartRepository).get(PatientDocument, document_id)
        if doc is None or doc.patient_id != patient_id:
            raise NotFoundError(f"No document with id {document_id} for this patient.")
        basis = ensure_chart_access(uow, patient_id)
        if with_content:
            _ = doc.content  # load the deferred column before the session closes
        audit_read(uow, basis, "documents", document_id=document_id, download=with_content)
        uow.commit()
        return doc
