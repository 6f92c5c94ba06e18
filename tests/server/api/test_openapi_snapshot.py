"""The API's shape changes only together with the contract package both programs share.

``openapi.snapshot.json`` holds the OpenAPI document and the checksum of ``hms_contract/``
it was generated with. A route that starts answering a different shape (or a changed
parameter, path or status) without the contract changing with it fails here; so does a
contract change whose effect on the API was not looked at. Regenerate with
``make openapi-snapshot`` and commit the snapshot with the change.
"""

from __future__ import annotations

from tests.server.api.openapi_snapshot import contract_checksum, current_openapi, load

REGENERATE = "regenerate with 'make openapi-snapshot' and commit the snapshot with the change"


def _changed_paths(old: dict, new: dict) -> list[str]:  # type: ignore[type-arg]
    paths = sorted(set(old.get("paths", {})) | set(new.get("paths", {})))
    changed = [p for p in paths if old["paths"].get(p) != new["paths"].get(p)]
    schemas = sorted(
        set(old.get("components", {}).get("schemas", {}))
        | set(new.get("components", {}).get("schemas", {}))
    )
    changed += [
        f"schema {s}"
        for s in schemas
        if old["components"]["schemas"].get(s) != new["components"]["schemas"].get(s)
    ]
    return changed


def test_openapi_changes_only_with_the_contract():
    snapshot = load()
    document, checksum = current_openapi(), contract_checksum()
    changed = _changed_paths(snapshot["openapi"], document)
    if checksum == snapshot["contract_sha256"]:
        assert document == snapshot["openapi"], (
            "The OpenAPI document changed but hms_contract/ did not: routes now answer or "
            f"accept something the shared contract does not describe ({', '.join(changed[:12])}"
            f"). Change the contract with it, then {REGENERATE}."
        )
    else:
        effect = ", ".join(changed[:12]) or "no visible change"
        assert document == snapshot["openapi"] and checksum == snapshot["contract_sha256"], (
            f"hms_contract/ changed; check its effect on the API ({effect}), then {REGENERATE}."
        )
