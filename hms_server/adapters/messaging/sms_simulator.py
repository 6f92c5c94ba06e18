"""Run the SMS gateway simulator: ``python -m hms_server.adapters.messaging.sms_simulator
--port P [--api-key K]``. Prints one ``READY {json}`` line once it is serving."""

from __future__ import annotations

import argparse
import json
import sys

from hms_server.adapters.messaging.simulators import make_sms_gateway


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="HMS SMS gateway simulator")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 = any free port")
    parser.add_argument("--api-key", default="", help="require this X-API-Key")
    args = parser.parse_args(argv)
    server = make_sms_gateway(args.host, args.port, api_key=args.api_key)
    port = server.server_address[1]
    print(
        "READY " + json.dumps({"port": port, "url": f"http://{args.host}:{port}/v1/messages"}),
        flush=True,
    )
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    sys.exit(0)


if __name__ == "__main__":
    main()
