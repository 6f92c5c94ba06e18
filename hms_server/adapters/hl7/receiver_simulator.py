"""An HL7 interface-engine simulator (the receiving side of ADT): ``python -m
hms_server.adapters.hl7.receiver_simulator --port P [--mode ack|reject|error|flaky]
[--log FILE]``. Prints one ``READY {json}`` line once it is serving.

It acknowledges every message in original mode: ``ack`` answers AA; ``reject`` AR (busy:
the sender should retry); ``error`` AE (the message cannot be processed); ``flaky`` AR to
the first delivery of each control id and AA to its retry. Each message received is
appended to ``--log`` as one JSON line ``{control_id, type, answer, message}``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import threading

import hl7

from hms_server.adapters.hl7.listener import Hl7Listener


class Receiver:
    def __init__(self, mode: str, log_path: str | None) -> None:
        self.mode = mode
        self.log_path = log_path
        self.seen: set[str] = set()
        self.lock = threading.Lock()

    def answer(self, raw: str) -> str:
        message = hl7.parse(raw.replace("\n", "\r"))
        control = str(message.segment("MSH")(10))
        kind = str(message.segment("MSH")(9))
        with self.lock:
            first = control not in self.seen
            self.seen.add(control)
            code = {"ack": "AA", "reject": "AR", "error": "AE"}.get(self.mode) or (
                "AR" if first else "AA"
            )
            if self.log_path:
                with open(self.log_path, "a", encoding="utf-8") as log:
                    log.write(
                        json.dumps(
                            {"control_id": control, "type": kind, "answer": code, "message": raw}
                        )
                        + "\n"
                    )
        ack = message.create_ack(code, application="ENGINE", facility="HOSP")
        if code == "AE":
            ack.append(
                message.create_segment(
                    [
                        message.create_field(["ERR"]),
                        message.create_field([""]),
                        message.create_field([""]),
                        message.create_field(["207"]),
                    ]
                )
            )
        return str(ack).rstrip("\r")

    def broken(self, raw: bytes, reason: str) -> str:
        return "MSH|^~\\&|ENGINE|HOSP|||" + "||ACK|0|P|2.5\rMSA|AR|"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="HL7 ADT receiver simulator")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 = any free port")
    parser.add_argument("--mode", choices=("ack", "reject", "error", "flaky"), default="ack")
    parser.add_argument("--log", default=None, help="append received messages here (JSONL)")
    args = parser.parse_args(argv)
    receiver = Receiver(args.mode, args.log)
    listener = Hl7Listener(args.host, args.port, receiver.answer, receiver.broken)
    listener.bind()
    host, port = listener.address
    print("READY " + json.dumps({"port": port, "endpoint": f"{host}:{port}"}), flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        listener.serve_forever()
    sys.exit(0)


if __name__ == "__main__":
    main()
