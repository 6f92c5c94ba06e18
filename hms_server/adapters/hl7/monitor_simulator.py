"""A ward of bedside monitors: ``python -m hms_server.adapters.hl7.monitor_simulator
--endpoint HOST:PORT --bed WARD/ROOM/BED=MRN [--bed ...] [--rate R] [--count N]
[--duration S] [--faults K]``.

Each bed gets one monitor with its own persistent MLLP connection, sending ORU^R01 results
the way a monitor gateway does: heart rate, SpO2, respiratory rate, non-invasive blood
pressure and temperature coded in IEEE 11073 MDC (some as LOINC), each value a random walk
around a per-patient baseline, observation times in the hospital's zone with an offset, the
monitor's id in OBX-18, the patient by MRN in PID-3 and by bed in PV1-3 (half the monitors
send the bed only, as many monitors do). ``--faults K`` makes every K-th message carry a
defect (a wrong MRN check digit, an unknown unit, a truncated frame, an unknown MRN).

Prints one JSON summary line: sent, acknowledged by code, elapsed seconds, messages per
second, and the control ids of every AA (for checking that none was lost).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

import hl7

from hms_server.adapters.hl7.mllp import MllpConnection, MllpError, frame
from hms_server.domain.mrn import format_mrn


@dataclass
class Bed:
    ward: str
    room: str
    bed: str
    mrn: str | None


@dataclass
class Vitals:
    """A patient's current values, drifting a little with each reading."""

    hr: float
    spo2: float
    rr: float
    sys: float
    dia: float
    temp: float

    @classmethod
    def baseline(cls, rng: random.Random) -> Vitals:
        return cls(
            hr=rng.uniform(60, 100),
            spo2=rng.uniform(94, 99),
            rr=rng.uniform(12, 20),
            sys=rng.uniform(105, 150),
            dia=rng.uniform(60, 90),
            temp=rng.uniform(36.4, 37.6),
        )

    def step(self, rng: random.Random) -> None:
        def walk(value: float, spread: float, lo: float, hi: float) -> float:
            return min(hi, max(lo, value + rng.gauss(0, spread)))

        self.hr = walk(self.hr, 2.0, 45, 150)
        self.spo2 = walk(self.spo2, 0.4, 86, 100)
        self.rr = walk(self.rr, 0.6, 8, 32)
        self.sys = walk(self.sys, 2.5, 80, 190)
        self.dia = walk(self.dia, 1.5, 45, min(self.sys - 20, 115))
        self.temp = walk(self.temp, 0.03, 35.5, 40.0)


@dataclass
class Tally:
    sent: int = 0
    codes: dict[str, int] = field(default_factory=dict)
    accepted: list[str] = field(default_factory=list)
    errors: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, control: str, code: str) -> None:
        with self.lock:
            self.sent += 1
            self.codes[code] = self.codes.get(code, 0) + 1
            if code == "AA":
                self.accepted.append(control)


def _ts(at: datetime) -> str:
    return at.astimezone().strftime("%Y%m%d%H%M%S%z")


def oru_message(
    monitor_id: str,
    bed: Bed,
    vitals: Vitals,
    control: str,
    at: datetime,
    *,
    send_mrn: bool,
    fault: str | None = None,
) -> str:
    """One ORU^R01 as a monitor gateway sends it (``fault`` injects one defect)."""
    mrn = bed.mrn or ""
    if fault == "check_digit" and mrn:
        mrn = mrn[:-1] + str((int(mrn[-1]) + 1) % 10)
    if fault == "unknown_mrn":
        mrn = format_mrn("HMS", 99_999_999)  # well-formed (check digit right), but nobody's
        send_mrn = True
    pid_3 = f"{mrn}^^^HMS^MR" if send_mrn and mrn else ""
    when = _ts(at)
    bp_unit = "mm[Hg]^mm[Hg]^UCUM" if fault != "bad_units" else "kPa^kPa^UCUM"
    obx = [
        (
            "NM",
            "147842^MDC_ECG_HEART_RATE^MDC",
            f"{vitals.hr:.0f}",
            "264864^MDC_DIM_BEAT_PER_MIN^MDC",
        ),
        (
            "NM",
            "150456^MDC_PULS_OXIM_SAT_O2^MDC",
            f"{vitals.spo2:.0f}",
            "262688^MDC_DIM_PERCENT^MDC",
        ),
        ("NM", "151562^MDC_RESP_RATE^MDC", f"{vitals.rr:.0f}", "264928^MDC_DIM_RESP_PER_MIN^MDC"),
        ("NM", "8480-6^Systolic blood pressure^LN", f"{vitals.sys:.0f}", bp_unit),
        ("NM", "8462-4^Diastolic blood pressure^LN", f"{vitals.dia:.0f}", bp_unit),
        ("NM", "8310-5^Body temperature^LN", f"{vitals.temp:.1f}", "Cel^degC^UCUM"),
    ]
    segments = [
        f"MSH|^~\\&|{monitor_id}|{bed.ward}|HMS|HOSP|{when}||ORU^R01^ORU_R01|{control}|P|2.5|"
        "||AL|NE||UNICODE UTF-8",
        f"PID|||{pid_3}",
        f"PV1||I|{bed.ward}^{bed.room}^{bed.bed}",
        f"OBR|1|||VITALS^Vital signs^L|||{when}",
    ]
    for n, (kind, code, value, unit) in enumerate(obx, start=1):
        segments.append(
            f"OBX|{n}|{kind}|{code}||{value}|{unit}|||||R|||{when}||||{monitor_id}^{bed.ward}"
        )
    return "\r".join(segments)


def run_monitor(
    endpoint: str,
    monitor_id: str,
    bed: Bed,
    *,
    rate: float,
    count: int,
    deadline: float,
    faults: int,
    seed: int,
    tally: Tally,
) -> None:
    rng = random.Random(seed)
    vitals = Vitals.baseline(rng)
    # Control ids are unique per monitor across runs, as a real monitor's are.
    run = f"{time.time_ns() // 1_000_000:x}"
    connection = MllpConnection(endpoint, timeout=30)
    # Half the monitors name the patient by MRN too; the others send the bed only.
    send_mrn = bed.mrn is not None and seed % 2 == 0
    interval = 1.0 / rate if rate > 0 else 0.0
    next_at = time.monotonic()
    try:
        for n in range(count):
            if time.monotonic() > deadline:
                break
            vitals.step(rng)
            control = f"{monitor_id}-{run}-{n:06d}"
            fault = None
            if faults and (n + 1) % faults == 0:
                fault = ("check_digit", "bad_units", "truncated", "unknown_mrn")[(n // faults) % 4]
            message = oru_message(
                monitor_id, bed, vitals, control, datetime.now(UTC), send_mrn=send_mrn, fault=fault
            )
            try:
                if fault == "truncated":
                    # Half a frame, then the rest of the stream carries on: the listener
                    # sees a new frame start before this one ended.
                    connection.send_raw(frame(message)[: len(message) // 2])
                    connection.send_raw(frame(message.replace(control, control + "T")))
                    first = connection.receive()
                    tally.add(control, "AR" if "|AR|" in first else "??")
                    answer = connection.receive()
                else:
                    answer = connection.request(message)
                code = str(hl7.parse(answer).segment("MSA")(1))
                tally.add(control if fault != "truncated" else control + "T", code)
            except (OSError, MllpError):
                with tally.lock:
                    tally.errors += 1
                connection.close()
            if interval:
                next_at += interval
                pause = next_at - time.monotonic()
                if pause > 0:
                    time.sleep(pause)
    finally:
        connection.close()


def parse_bed(text: str) -> Bed:
    where, _, mrn = text.partition("=")
    parts = where.split("/")
    if len(parts) != 3:
        raise argparse.ArgumentTypeError("a bed is WARD/ROOM/BED[=MRN]")
    return Bed(parts[0], parts[1], parts[2], mrn or None)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Bedside monitor simulator (HL7 ORU^R01)")
    parser.add_argument("--endpoint", required=True, help="listener host:port")
    parser.add_argument(
        "--bed",
        type=parse_bed,
        action="append",
        required=True,
        help="WARD/ROOM/BED=MRN, one monitor per bed (repeat)",
    )
    parser.add_argument(
        "--rate",
        type=float,
        default=1.0,
        help="messages per second per monitor (0 = as fast as acknowledged)",
    )
    parser.add_argument("--count", type=int, default=10, help="messages per monitor")
    parser.add_argument("--duration", type=float, default=3600.0, help="stop after seconds")
    parser.add_argument("--faults", type=int, default=0, help="every K-th message is faulty")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args(argv)
    tally = Tally()
    started = time.monotonic()
    deadline = started + args.duration
    threads = [
        threading.Thread(
            target=run_monitor,
            kwargs={
                "endpoint": args.endpoint,
                "monitor_id": f"MON{n + 1:03d}",
                "bed": bed,
                "rate": args.rate,
                "count": args.count,
                "deadline": deadline,
                "faults": args.faults,
                "seed": args.seed + n,
                "tally": tally,
            },
        )
        for n, bed in enumerate(args.bed)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    print(
        json.dumps(
            {
                "sent": tally.sent,
                "codes": tally.codes,
                "errors": tally.errors,
                "elapsed_s": round(elapsed, 3),
                "per_second": round(tally.sent / elapsed, 1) if elapsed else None,
                "accepted": tally.accepted,
            }
        ),
        flush=True,
    )
    sys.exit(0 if tally.errors == 0 else 1)


if __name__ == "__main__":
    main()
