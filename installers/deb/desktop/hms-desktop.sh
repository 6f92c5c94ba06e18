#!/bin/sh
# /usr/bin/hms-desktop: the HMS desktop client with this workstation's settings from
# /etc/hms/desktop.ini (server address, LAN CA file); command-line arguments win.
exec /opt/hms-desktop/bin/python -m hms_desktop_launcher "$@"
