"""Headless printing for automation and tests::

    echo PASSWORD | hms-desktop print invoice INV-2026-000123 --pdf invoice.pdf \\
        --server https://hms.lan:8443 --user billing --password-stdin

Documents: ``invoice NUMBER``, ``receipt NUMBER``, ``statement PATIENT_ID [--from --to]``.
Signs in, fetches the document, renders exactly what the workspace previews (same
renderers, letterhead from ``GET /me`` and the logo), writes the PDF (atomically), records
the print (audited), signs out. No Qt. Exit codes: 0 done, 1 not found / refused, 2 sign-in
failed, 3 server unavailable.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Callable
from datetime import date
from pathlib import Path

from hms_desktop.api.billing import BillingApi
from hms_desktop.api.client import ApiClient
from hms_desktop.api.errors import ApiProblem, ServerUnavailableError
from hms_desktop.printing.billing_common import Letterhead
from hms_desktop.printing.invoice import render_invoice
from hms_desktop.printing.receipt import render_receipt
from hms_desktop.printing.statement import render_statement

DOCUMENTS = ("invoice", "receipt", "statement")


def parse_print_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="hms-desktop print", description="Render a billing document to a PDF file"
    )
    parser.add_argument("document", choices=DOCUMENTS)
    parser.add_argument("reference", help="invoice or receipt number, or the patient id")
    parser.add_argument("--pdf", required=True, help="the PDF file to write")
    parser.add_argument("--server", required=True)
    parser.add_argument("--user", required=True)
    parser.add_argument(
        "--password-stdin",
        action="store_true",
        required=True,
        help="read the password from the first line of standard input",
    )
    parser.add_argument("--totp", help="authenticator code, if the account needs one")
    parser.add_argument("--ca-file", help="the hospital's LAN CA certificate (PEM)")
    parser.add_argument(
        "--from",
        dest="period_from",
        type=date.fromisoformat,
        help="statement: first day (YYYY-MM-DD)",
    )
    parser.add_argument(
        "--to", dest="period_to", type=date.fromisoformat, help="statement: last day (YYYY-MM-DD)"
    )
    return parser.parse_args(argv)


def _write(path: Path, data: bytes) -> None:
    """Write ``data`` so a reader never sees half a PDF."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".hms-print-", suffix=".pdf")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def render_document(
    billing: BillingApi,
    document: str,
    reference: str,
    *,
    period_from: date | None = None,
    period_to: date | None = None,
) -> bytes:
    """Fetch ``document`` and render it; records the print."""
    head = Letterhead.from_hospital(billing.hospital(), billing.logo())
    if document == "invoice":
        invoice = billing.invoice_by_number(reference)
        pdf = render_invoice(invoice, head)
        billing.record_print("invoice", invoice_id=invoice.id)
    elif document == "receipt":
        payment = billing.payment_by_receipt(reference)
        pdf = render_receipt(payment, head)
        billing.record_print("receipt", payment_id=payment.id)
    else:
        if not reference.isdigit():
            raise ValueError("a statement needs the patient's id")
        statement = billing.statement(int(reference), period_from=period_from, period_to=period_to)
        pdf = render_statement(statement, head)
        billing.record_print("statement", patient_id=statement.patient_id)
    return pdf


def run_print(
    argv: list[str],
    *,
    password: str | None = None,
    api_factory: Callable[[str], ApiClient] | None = None,
) -> int:
    args = parse_print_args(argv)
    secret = password if password is not None else sys.stdin.readline().rstrip("\r\n")
    api = (api_factory or (lambda url: ApiClient(url, ca_file=args.ca_file)))(args.server)
    try:
        try:
            api.login(args.user, secret, args.totp)
        except ApiProblem as problem:
            print(f"Sign-in failed: {problem.detail} [{problem.code}]", file=sys.stderr)
            return 2
        try:
            pdf = render_document(
                BillingApi(api),
                args.document,
                args.reference,
                period_from=args.period_from,
                period_to=args.period_to,
            )
        except ApiProblem as problem:
            print(
                f"Cannot print {args.document} {args.reference}: {problem.detail} [{problem.code}]",
                file=sys.stderr,
            )
            return 1
        except ValueError as error:
            print(str(error), file=sys.stderr)
            return 1
        _write(Path(args.pdf), pdf)
        print(f"wrote {args.pdf} ({len(pdf)} bytes)")
        return 0
    except ServerUnavailableError as error:
        print(str(error), file=sys.stderr)
        return 3
    finally:
        try:
            if api.is_authenticated:
                api.logout()
        except (ApiProblem, ServerUnavailableError):
            pass
        api.close()
