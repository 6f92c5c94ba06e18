"""``hms-desktop`` entry point.

hms-desktop [--server URL] [--ca-file FILE]
hms-desktop --server URL --user U --password-stdin --screenshot-dir DIR [--totp CODE]
hms-desktop print invoice|receipt|statement REF --pdf FILE --server URL --user U
    --password-stdin   (headless printing, see hms_desktop/print_cli.py)
"""

from __future__ import annotations

import argparse
import os
import sys
import time


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="hms-desktop", description="HMS desktop client")
    parser.add_argument("--server", help="server address, e.g. https://hms.hospital.lan:8443")
    parser.add_argument("--ca-file", help="the hospital's LAN CA certificate (PEM) to trust")
    tour = parser.add_argument_group("screenshot tour")
    tour.add_argument("--screenshot-dir", help="sign in, save PNGs of each workspace, exit")
    tour.add_argument("--user", help="username for the screenshot tour")
    tour.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from the first line of standard input",
    )
    tour.add_argument("--totp", help="authenticator code, if the account needs one")
    args = parser.parse_args(argv)
    if args.screenshot_dir and not (args.server and args.user and args.password_stdin):
        parser.error("--screenshot-dir needs --server, --user and --password-stdin")
    return args


def _headless() -> bool:
    if not sys.platform.startswith("linux"):
        return False
    return not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def main(argv: list[str] | None = None) -> int:
    arguments = sys.argv[1:] if argv is None else argv
    if arguments[:1] == ["print"]:
        from hms_desktop.print_cli import run_print

        return run_print(arguments[1:])
    args = parse_args(argv)
    if args.screenshot_dir:
        if _headless() and not os.environ.get("QT_QPA_PLATFORM"):
            os.environ["QT_QPA_PLATFORM"] = "offscreen"
        password = sys.stdin.readline().rstrip("\r\n")
        from hms_desktop.screenshot_tour import run_screenshot_tour

        return run_screenshot_tour(
            args.server,
            args.user,
            password,
            args.screenshot_dir,
            totp=args.totp,
            ca_file=args.ca_file,
        )

    from hms_desktop.app import DesktopApp, create_application

    app = create_application(sys.argv[:1])
    probe = os.environ.get("HMS_STARTUP_PROBE")

    def on_login_shown(dialog) -> None:
        if probe:
            # For measuring start-up: report when the window is on screen, then leave.
            from hms_desktop.qt import QTimer

            def report() -> None:
                print(f"HMS_LOGIN_SHOWN {time.time():.3f}", flush=True)
                app.quit()

            QTimer.singleShot(0, report)

    desktop = DesktopApp(
        app, server=args.server, ca_file=args.ca_file, on_login_shown=on_login_shown
    )
    desktop.start()
    code = app.exec()
    desktop.shutdown()
    return code


if __name__ == "__main__":
    sys.exit(main())
