"""One module per hospital area, each exposing ``USERS``: the locust user classes (with their
``weight``, i.e. how many of the simulated staff do that job) the area adds to the mix.

A new area (billing, dispensing, ward rounds) adds ``bench/load/areas/<area>.py`` with its
users; the locustfile picks every module up. Data the users need (ids, MRNs, accounts) comes
from ``HmsUser.data``, prepared by ``bench/load_morning.py`` (``prepare_data``).
"""
