"""The composition root: the one place that builds HMS and connects its areas.

Everything that used to happen by side effect at import time happens here, explicitly:

- settings → the hospital context (``Hospital``: name, time zone, currency) every service
  reads through ``uow.hospital``;
- the database engine and session factory (as the least-privileged runtime role);
- the domain-event subscriptions between areas (``wire_areas``): who reacts when patients
  are merged, an appointment changes, a slot frees up, a consultation ends;
- the background workers (live-event fan-out, message dispatcher) started and stopped with
  the application;
- the HTTP application (``create_app``).

Importing any other module registers nothing. Tests, the CLI and the seed build a
``Runtime`` here too, so they run with exactly the application's wiring.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from hms_server.adapters.db import make_engine, runtime_url
from hms_server.adapters.events import EventHub
from hms_server.adapters.uow import Actor, UnitOfWork
from hms_server.config import Settings
from hms_server.domain import events as ev
from hms_server.domain.billing import BillingPolicy
from hms_server.domain.billing_gateways import BillingGateways
from hms_server.domain.hospital import Hospital
from hms_server.domain.ports import Ports

if TYPE_CHECKING:
    from fastapi import FastAPI
    from sqlalchemy.engine import URL

    from hms_server.adapters.audit_sealer import AuditSealer
    from hms_server.adapters.hl7.listener import Hl7Listener


class BackgroundWorker(Protocol):
    """A thread the application owns for its whole life (started after start-up)."""

    def start(self) -> None: ...

    def stop(self) -> None: ...


def hospital_from_settings(settings: Settings) -> Hospital:
    return Hospital(
        name=settings.hospital_name,
        timezone=settings.hospital_timezone,
        address=settings.hospital_address,
        phone=settings.hospital_phone,
        email=settings.hospital_email,
        tax_id=settings.hospital_tax_id,
        booking_url=settings.booking_url,
        mrn_prefix=settings.mrn_prefix,
        currency=settings.currency,
        currency_minor_unit=settings.currency_minor_unit,
        logo_file=settings.hospital_logo_file,
    )


def wire_areas(events: ev.DomainEvents) -> ev.DomainEvents:
    """Subscribe each area to the facts of the others it must react to.

    Read this function to see how the areas are connected; no other module subscribes.
    """
    from hms_server.services import (
        admissions,
        appointments,
        clinical,
        duplicates,
        mar,
        messaging,
        waitlist,
    )

    # Patient merge: every table that references a patient is moved by one of these
    # handlers (tests/server/integration/test_patient_merge_coverage.py walks the FKs).
    events.subscribe(ev.PatientsMerged, clinical.move_chart_on_merge)
    events.subscribe(ev.PatientsMerged, appointments.move_schedule_on_merge)
    events.subscribe(ev.PatientsMerged, messaging.move_messages_on_merge)
    events.subscribe(ev.PatientsMerged, admissions.move_inpatient_records_on_merge)
    # first day (issue 12): open duplicate flags of the merged-away record follow the survivor.
    events.subscribe(ev.PatientsMerged, duplicates.move_flags_on_merge)
    # Scheduling → messaging: confirmations, reminders and cancellations are queued in the
    # booking transaction, so a message exists exactly when its appointment does.
    events.subscribe(ev.AppointmentChanged, messaging.on_appointment_changed)
    # Appointments → waitlist (one direction: the waitlist books through appointments).
    events.subscribe(ev.SlotFreed, waitlist.on_slot_freed)
    # first day (issue 12): waitlist → messaging, the patient is told a place is held for them.
    events.subscribe(ev.WaitlistOffered, messaging.on_waitlist_offered)
    # Prescribing → wards: an admitted patient's prescription becomes inpatient orders with
    # scheduled doses (the MAR); cancelling it stops them.
    events.subscribe(ev.PrescriptionIssued, mar.on_prescription_issued)
    events.subscribe(ev.PrescriptionCancelled, mar.on_prescription_cancelled)
    # Billing (issue 9): charges are captured from what happens in the other areas, priced
    # from the price list; capture is idempotent on its source, so a repeated event never
    # charges twice; a cancelled source reverses its unbilled charge.
    from hms_server.services.billing import charges as billing
    from hms_server.services.billing import merge as billing_merge

    events.subscribe(ev.PatientsMerged, billing_merge.move_billing_on_merge)
    events.subscribe(ev.ConsultationCompleted, billing.on_consultation_completed)
    events.subscribe(ev.LabOrderPlaced, billing.on_lab_order_placed)
    events.subscribe(ev.LabOrderCancelled, billing.on_lab_order_cancelled)
    events.subscribe(ev.MedicationDispensed, billing.on_medication_dispensed)
    events.subscribe(ev.MedicationReturned, billing.on_medication_returned)
    events.subscribe(ev.BedDayOccupied, billing.on_bed_day_occupied)
    return events


def wire_ports(ports: Ports) -> Ports:
    """Plug each area's answers into the ports other areas ask through."""
    # Pharmacy: scanned medication barcodes (GS1 packs, dispensing labels) → catalogue item.
    from hms_server.services.medication_codes import resolve_medication_code

    ports.medication_codes = resolve_medication_code
    return ports


def billing_policy(settings: Settings) -> BillingPolicy:
    """Billing (issue 9): approval thresholds and payment terms from settings."""
    return BillingPolicy(
        discount_approval_percent=settings.billing_discount_approval_percent,
        discount_approval_amount=settings.billing_discount_approval_amount,
        refund_approval_amount=settings.billing_refund_approval_amount,
        invoice_due_days=settings.invoice_due_days,
    )


def billing_gateways(settings: Settings) -> BillingGateways:
    """Billing (issue 9): the insurer (FHIR R4) and the card gateway, when configured."""
    from hms_server.adapters.billing.card_gateway import HttpCardGateway
    from hms_server.adapters.billing.payer_fhir import FhirPayerGateway
    from hms_server.domain.errors import ConfigurationError

    gateways = BillingGateways()
    if settings.payer_fhir_url:
        gateways.payer = FhirPayerGateway(
            base_url=settings.payer_fhir_url,
            provider_name=settings.hospital_name,
            timeout=settings.payer_timeout_seconds,
            retries=settings.payer_retries,
        )
    if settings.card_gateway_url:
        if len(settings.card_gateway_webhook_secret) < 16:
            raise ConfigurationError(
                "HMS_CARD_GATEWAY_WEBHOOK_SECRET must be set (16+ "
                "characters) when a card gateway is configured."
            )
        gateways.card = HttpCardGateway(
            url=settings.card_gateway_url,
            api_key=settings.card_gateway_api_key,
            webhook_secret=settings.card_gateway_webhook_secret,
            timeout=settings.card_gateway_timeout_seconds,
            tolerance_seconds=settings.card_gateway_webhook_tolerance_seconds,
        )
    return gateways


def standard_events() -> ev.DomainEvents:
    """A fresh, fully wired subscription table (cheap; build one per runtime)."""
    return wire_areas(ev.DomainEvents())


@dataclass
class Runtime:
    """The built application core: what every entry point (HTTP, CLI, seed, tests) uses."""

    settings: Settings
    hospital: Hospital
    events: ev.DomainEvents
    engine: Engine
    session_factory: sessionmaker[Session]
    workers: list[BackgroundWorker] = field(default_factory=list)
    #: Questions one area answers for another (see ``domain.ports``), wired in ``wire_ports``.
    ports: Ports = field(default_factory=Ports)
    #: Live-event fan-out to desktops (``GET /api/v1/events``); set for application servers.
    event_hub: EventHub | None = None
    #: Chains committed audit rows (leader-elected across servers); set for app servers.
    audit_sealer: AuditSealer | None = None
    #: Sessions for read-only work that may lag the primary by a moment (reports): on the
    #: streaming replica of ``HMS_DATABASE_REPLICA_URL`` when set, else the primary.
    read_only_session_factory: sessionmaker[Session] | None = None
    #: Billing (issue 9): insurer and card gateway adapters, approval thresholds.
    billing: BillingGateways = field(default_factory=BillingGateways)
    billing_policy: BillingPolicy = field(default_factory=BillingPolicy)

    def read_only_sessions(self) -> sessionmaker[Session]:
        return self.read_only_session_factory or self.session_factory

    def uow(
        self, actor: Actor | None = None, *, request_memo: dict[Hashable, Any] | None = None
    ) -> UnitOfWork:
        return UnitOfWork(
            self.session_factory,
            actor,
            hospital=self.hospital,
            events=self.events,
            request_memo=request_memo,
            read_only_factory=self.read_only_session_factory,
        )

    def uow_factory(self, actor: Actor | None = None) -> Callable[[], UnitOfWork]:
        return lambda: self.uow(actor)

    def start_workers(self) -> None:
        for worker in self.workers:
            worker.start()

    def stop_workers(self) -> None:
        for worker in reversed(self.workers):
            worker.stop()

    def close(self) -> None:
        self.stop_workers()
        self.engine.dispose()
        if self.read_only_session_factory is not None:
            bind = self.read_only_session_factory.kw.get("bind")
            if isinstance(bind, Engine):
                bind.dispose()


def build_runtime(
    settings: Settings,
    *,
    as_owner: bool = False,
    pool_size: int | None = None,
    session_factory: sessionmaker[Session] | None = None,
) -> Runtime:
    """Engine (runtime role unless ``as_owner``), hospital context and area wiring.

    ``session_factory`` lets tests supply savepoint-isolated sessions.
    """
    url = (
        settings.database_url
        if as_owner
        else runtime_url(settings.database_url, settings.runtime_database_url)
    )
    engine = make_engine(url, pool_size=pool_size or settings.pool_size)
    factory = session_factory or sessionmaker(engine, expire_on_commit=False)
    read_only = None
    if settings.database_replica_url and session_factory is None:
        # The replica is a physical copy: the runtime role and its password are the same.
        replica = make_engine(
            runtime_url(settings.database_replica_url)
            if not as_owner
            else settings.database_replica_url,
            pool_size=pool_size or settings.pool_size,
        )
        read_only = sessionmaker(replica, expire_on_commit=False)
    return Runtime(
        settings=settings,
        hospital=hospital_from_settings(settings),
        events=standard_events(),
        engine=engine,
        session_factory=factory,
        ports=wire_ports(Ports()),
        read_only_session_factory=read_only,
        billing=billing_gateways(settings),
        billing_policy=billing_policy(settings),
    )


def wire_hl7_adt(events: ev.DomainEvents, messaging: object) -> None:
    """Wards → HL7: inpatient movements (and corrections of an inpatient's identifying
    details) queue ADT messages, when an endpoint is configured."""
    from hms_server.adapters.messaging.config import MessagingSettings
    from hms_server.services.hl7_adt import AdtPublisher

    assert isinstance(messaging, MessagingSettings)
    if messaging.hl7_adt_endpoint:
        publisher = AdtPublisher(
            messaging.hl7_adt_endpoint,
            messaging.hl7_sending_facility,
            messaging.hl7_receiving_application,
            messaging.hl7_receiving_facility,
        )
        events.subscribe(ev.AdmissionChanged, publisher)
        events.subscribe(ev.PatientDetailsChanged, publisher.details_changed)


def hl7_listener(runtime: Runtime, host: str, port: int) -> Hl7Listener:
    """The bedside-monitor (ORU^R01) listener, storing readings through the wards area."""
    from hms_server.adapters.hl7.listener import Hl7Listener
    from hms_server.services import device_vitals

    def on_message(raw: str) -> str:
        return device_vitals.receive_message(runtime.uow(device_vitals.DEVICE_ACTOR), raw).ack

    def on_broken(raw: bytes, reason: str) -> str:
        return device_vitals.record_broken_frame(
            runtime.uow(device_vitals.DEVICE_ACTOR), raw, reason
        ).ack

    return Hl7Listener(host, port, on_message, on_broken)


def add_server_workers(runtime: Runtime, *, messaging_settings: object | None = None) -> None:
    """The background work an application server does besides answering requests."""
    from hms_server.adapters.hl7.config import Hl7ListenerSettings
    from hms_server.adapters.messaging.config import MessagingSettings, build_adapters
    from hms_server.services.messaging import MessageDispatcher
    from hms_server.services.ward_worker import WardMaintenance

    url = runtime_url(runtime.settings.database_url, runtime.settings.runtime_database_url)
    runtime.event_hub = EventHub(url, runtime.session_factory)
    runtime.workers.append(runtime.event_hub)
    # Pharmacy: lots past their expiry date become unpickable ("expired") without waiting
    # for anyone to notice.
    from hms_server.services.stock import ExpirySweeper

    runtime.workers.append(ExpirySweeper(runtime.uow_factory(Actor.system("pharmacy"))))
    # Audit: one sealer per process; the one holding the database's leader lock seals.
    runtime.audit_sealer = build_audit_sealer(runtime.settings, url)
    runtime.workers.append(runtime.audit_sealer)
    messaging = messaging_settings or MessagingSettings()
    assert isinstance(messaging, MessagingSettings)
    if messaging.enabled:
        runtime.workers.append(
            MessageDispatcher(
                runtime.uow_factory(Actor.system("messaging")),
                build_adapters(messaging),  # type: ignore[arg-type]
                interval=messaging.messaging_dispatch_interval_seconds,
                batch_size=messaging.messaging_batch_size,
            )
        )
    # Wards: ADT out, bed-days and dose top-up, and (by setting) the bedside-monitor listener.
    wire_hl7_adt(runtime.events, messaging)
    devices = Hl7ListenerSettings()
    runtime.workers.append(
        WardMaintenance(
            runtime.uow_factory(Actor.system("wards")),
            interval=devices.ward_maintenance_interval_seconds,
        )
    )
    if devices.hl7_listen_in_server:
        runtime.workers.append(
            hl7_listener(runtime, devices.hl7_listen_host, devices.hl7_listen_port)
        )


def build_audit_sealer(settings: Settings, url: URL) -> AuditSealer:
    """The audit sealer with this server's key and checkpoint destinations."""
    from hms_server.adapters.audit_checkpoints import CheckpointLog
    from hms_server.adapters.audit_key import checkpoint_dir, load_audit_key
    from hms_server.adapters.audit_sealer import AuditSealer

    return AuditSealer(
        url,
        load_audit_key(settings, create=True),
        CheckpointLog(checkpoint_dir(settings), settings.audit_syslog),
        interval=settings.audit_seal_interval_seconds,
        checkpoint_seconds=settings.audit_checkpoint_seconds,
    )


def create_app(
    settings: Settings | None = None, *, messaging_settings: object | None = None
) -> FastAPI:
    """The HMS application server: runtime + workers + the HTTP API."""
    from hms_server.api.http_app import build_http_app
    from hms_server.config import get_settings

    settings = settings or get_settings()
    runtime = build_runtime(settings)
    add_server_workers(runtime, messaging_settings=messaging_settings)
    return build_http_app(runtime)


def wired_uow(
    session_factory: sessionmaker[Session],
    actor: Actor | None = None,
    *,
    settings: Settings | None = None,
    events: ev.DomainEvents | None = None,
) -> UnitOfWork:
    """A unit of work on ``session_factory`` with the standard wiring, for tools, benchmarks
    and tests that hold a session factory rather than a ``Runtime``."""
    hospital = hospital_from_settings(settings) if settings is not None else Hospital()
    return UnitOfWork(session_factory, actor, hospital=hospital, events=events or standard_events())
