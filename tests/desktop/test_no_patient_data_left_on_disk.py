"""The desktop leaves no patient data on disk: after a real session (sign in, patient list
and chart screens loaded, sign out), the profile, cache, config and temp folders hold none
of the patient's identifying values."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx


def _files_containing(root: Path, needles: list[bytes]) -> list[str]:
    found = []
    for path in root.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            found += [f"{path}: {n!r}" for n in needles if n in data]
    return found


def test_a_reception_session_leaves_no_patient_data_in_profile_or_temp(
    live_server, make_user, tmp_path
):
    username, password = make_user("receptionist")[:2]
    token = httpx.post(
        f"{live_server.url}/api/v1/auth/login", json={"username": username, "password": password}
    ).json()["access_token"]
    patient = httpx.post(
        f"{live_server.url}/api/v1/patients",
        headers={"Authorization": f"Bearer {token}"},
        json={
            "given_name": "Ottoline",
            "family_name": "Quarrendon",
            "date_of_birth": "1966-09-02",
            "sex": "female",
            "phone": "+44 7700 900461",
            "confirm_new": True,
        },
    ).json()

    home, shots = tmp_path / "home", tmp_path / "screens"
    dirs = {name: home / name for name in ("config", "cache", "data", "tmp", "runtime")}
    for folder in dirs.values():
        folder.mkdir(parents=True)
    env = {
        **os.environ,
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(dirs["config"]),
        "XDG_CACHE_HOME": str(dirs["cache"]),
        "XDG_DATA_HOME": str(dirs["data"]),
        "XDG_RUNTIME_DIR": str(dirs["runtime"]),
        "TMPDIR": str(dirs["tmp"]),
        "QT_QPA_PLATFORM": "offscreen",
        "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring",
    }
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "hms_desktop.main",
            "--server",
            live_server.url,
            "--user",
            username,
            "--password-stdin",
            "--screenshot-dir",
            str(shots),
        ],
        input=password + "\n",
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert (shots / "reception.png").exists()
    leaks = _files_containing(
        home, [b"Ottoline", b"Quarrendon", b"900461", patient["mrn"].encode()]
    )
    assert leaks == []
