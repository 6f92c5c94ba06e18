"""FHIR R4 read API: a registry of resource types (``registry``) and one module per group of
resource types (``patient``, ``clinical`` ...), each calling ``registry.register`` at import.
The HTTP side is ``hms_server.api.routers.fhir``; modules here map service results to FHIR
JSON dicts and never speak HTTP."""
