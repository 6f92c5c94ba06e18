"""Run the SMTP relay simulator (aiosmtpd): ``python -m
hms_server.adapters.messaging.smtp_simulator --port P [--control-port C] [--tls-cert F
--tls-key F] [--auth USER:PASS]``. Prints one ``READY {json}`` line once it is serving."""

from __future__ import annotations

import argparse
import json
import signal
import threading

from hms_server.adapters.messaging.simulators import (
    SimulatorState,
    make_control_server,
    make_smtp_controller,
)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="HMS SMTP relay simulator")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True, help="SMTP port")
    parser.add_argument(
        "--control-port",
        type=int,
        default=0,
        help="HTTP control/inspection port (0 = any free port)",
    )
    parser.add_argument("--tls-cert", default="", help="PEM certificate: offer STARTTLS")
    parser.add_argument("--tls-key", default="")
    parser.add_argument(
        "--auth",
        default="",
        help="USER:PASS to accept (needs STARTTLS when a certificate is given)",
    )
    args = parser.parse_args(argv)
    auth = tuple(args.auth.split(":", 1)) if args.auth else None
    state = SimulatorState()
    controller = make_smtp_controller(
        state, args.host, args.port, tls_cert=args.tls_cert, tls_key=args.tls_key, auth=auth
    )  # type: ignore[arg-type]
    controller.start()
    control = make_control_server(state, args.host, args.control_port)
    thread = threading.Thread(
        target=control.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True
    )
    thread.start()
    print(
        "READY " + json.dumps({"port": args.port, "control_port": control.server_address[1]}),
        flush=True,
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    control.shutdown()
    controller.stop()


if __name__ == "__main__":
    main()
