"""The offline list of common and breached passwords the password policy refuses.

``resources/reference-data/common-passwords.txt.gz`` is Django 5.2.8's list (20,000 most
common passwords from Royce Williams' breach corpus; BSD-3-Clause, see
``common-passwords.NOTICE`` beside it), shipped in the wheel with the other reference data so
nothing is downloaded at run time.
"""

from __future__ import annotations

import gzip
from functools import lru_cache

from hms_server.resources import reference_data_dir

LIST_FILE = "common-passwords.txt.gz"


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """The list, lower-cased (loaded once per process, ~20k entries)."""
    data = (reference_data_dir() / LIST_FILE).read_bytes()
    text = gzip.decompress(data).decode("utf-8")
    return frozenset(line.strip().lower() for line in text.splitlines() if line.strip())
