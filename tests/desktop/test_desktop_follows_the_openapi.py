"""The desktop and its test fakes follow the real server's OpenAPI document.

- Every route of every fake server stands for an operation the server has (same method and
  path), answers with the success status the server declares, and validates its answers
  with the very contract model the server declares for it. So a fake cannot drift from the
  server: renaming a route, a field or a model on the server fails here or in the fakes.
- Every path the desktop's API layer (``hms_desktop/api/*.py``) calls exists on the server
  with that method, including calls no fake implements yet.
"""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path
from typing import Any

import pytest

from tests.desktop.fake_server import FakeHmsServer, Route

HERE = Path(__file__).resolve().parent
API_DIR = HERE.parents[1] / "hms_desktop" / "api"
TRANSPORT_METHODS = {
    "get": "GET",
    "post": "POST",
    "patch": "PATCH",
    "put": "PUT",
    "delete": "DELETE",
    "get_bytes": "GET",
    "post_form": "POST",
    "stream": "GET",
    "_list": "GET",
}  # ClinicalApi._list: a GET of a Page
# Answers the server sends without declaring a model: the contract model exists, and the
# server should adopt it (then this entry goes, and the check below covers the route).
UNDECLARED = {("GET", "/api/v1/health"): "HealthRead"}


def _template(path: str) -> str:
    return re.sub(r"\{[^}]*\}", "{}", path)


@pytest.fixture(scope="module")
def operations(app) -> dict[tuple[str, str], dict[str, Any]]:
    """``(METHOD, /path/{}/template) -> operation`` of the real server's OpenAPI document."""
    return {
        (method.upper(), _template(path)): operation
        for path, item in app.openapi()["paths"].items()
        for method, operation in item.items()
    }


def _success(operation: dict[str, Any]) -> tuple[str, str | None]:
    """The declared success status and the component name of its JSON answer (or None)."""
    status, answer = next(
        (code, body) for code, body in operation["responses"].items() if code.startswith("2")
    )
    schema = answer.get("content", {}).get("application/json", {}).get("schema", {})
    ref = schema.get("$ref")
    return status, ref.rsplit("/", 1)[-1] if ref else None


def _component_names(model: Any) -> set[str]:
    """How FastAPI names ``model``'s schema: ``Page[UserRead]`` -> ``Page_UserRead_``, and
    module-qualified when two contract modules use the same class name."""
    name = re.sub(r"\W", "_", model.__name__)
    return {name, model.__module__.replace(".", "__") + "__" + name}


def _fakes() -> list[type[FakeHmsServer]]:
    """Every fake server class in ``tests/desktop/fake_*.py`` (a new one is found alone)."""
    for module in sorted(HERE.glob("fake_*.py")):
        importlib.import_module(f"tests.desktop.{module.stem}")
    found, todo = [], [FakeHmsServer]
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo.extend(cls.__subclasses__())
    return sorted(set(found), key=lambda c: c.__name__)


def test_every_fake_is_checked():
    assert {c.__name__ for c in _fakes()} >= {
        "FakeHmsServer",
        "FakeReceptionServer",
        "FakeClinicalServer",
        "FakeClinicalQueueServer",
        "FakeReceptionQueueServer",
    }


def _fake_routes() -> list[tuple[str, Route]]:
    seen: dict[tuple[str, str], tuple[str, Route]] = {}
    for fake in _fakes():
        for route in fake().routes():
            seen.setdefault((route.method, route.path), (fake.__name__, route))
    return list(seen.values())


@pytest.mark.parametrize(
    ("fake", "route"),
    _fake_routes(),
    ids=lambda v: f"{v.method} {v.path}" if isinstance(v, Route) else v,
)
def test_fake_route_is_a_server_operation_with_the_same_answer_model(operations, fake, route):
    key = (route.method, _template("/api/v1" + route.path))
    assert key in operations, f"{fake}: the server has no {route.method} {route.path}"
    status, component = _success(operations[key])
    if key in UNDECLARED:
        assert component is None, f"the server now declares {component}: drop it from UNDECLARED"
        assert route.answers.__name__ == UNDECLARED[key]
        return
    if route.answers is None:
        assert component is None, f"{fake}: the server answers {component} here"
        return
    assert int(status) == route.status, f"{fake}: the server answers {status}"
    assert component in _component_names(route.answers), (
        f"{fake}: answers {route.answers.__name__}, the server declares {component}"
    )


def _desktop_calls() -> list[tuple[str, str, str]]:
    """``(file, METHOD, path template)`` of every transport call in ``hms_desktop/api``."""
    calls = []
    for source in sorted(API_DIR.glob("*.py")):
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            if not (
                isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.args
            ):
                continue
            receiver, name = ast.unparse(node.func.value), node.func.attr
            if name == "_request" and isinstance(node.args[0], ast.Constant):
                method, path = str(node.args[0].value), node.args[1]  # the transport itself
            elif name in TRANSPORT_METHODS and receiver in ("self.api", "self", "self._http"):
                method, path = TRANSPORT_METHODS[name], node.args[0]
            else:
                continue
            if isinstance(path, ast.JoinedStr):
                text = "".join(
                    v.value if isinstance(v, ast.Constant) else "{}" for v in path.values
                )
            elif isinstance(path, ast.Constant) and isinstance(path.value, str):
                text = path.value
            elif isinstance(path, ast.Attribute) and ast.unparse(path) == "self.path":
                text = "/events"  # EventStream's default path
            else:
                continue
            if text.startswith("/"):
                calls.append((source.name, method, text))
    return calls


def test_the_desktop_api_layer_is_read_by_this_test():
    files = {name for name, _method, _path in _desktop_calls()}
    assert {
        "patients.py",
        "scheduling.py",
        "clinical.py",
        "users.py",
        "audit.py",
        "client.py",
        "events.py",
    } <= files


@pytest.mark.parametrize(("source", "method", "path"), _desktop_calls(), ids=lambda v: str(v))
def test_desktop_calls_only_operations_the_server_has(operations, source, method, path):
    # A formatted segment may stand for a path parameter or a literal (``{action}``).
    pattern = re.escape("/api/v1" + path).replace(re.escape("{}"), "[^/]+")
    assert any(m == method and re.fullmatch(pattern, p) for m, p in operations), (
        f"{source}: the server has no {method} {path}"
    )
