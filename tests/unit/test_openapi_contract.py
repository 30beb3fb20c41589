"""openapi.yaml as a contract an integrator can generate a client from.

It is valid OpenAPI (openapi-spec-validator) and clean under Redocly's strict recommended rules;
every reason the code can raise is in its enums; every request body refuses unknown fields;
every operation has an example that fits its own schema; and the clients generated from it
(openapi-python-client, openapi-typescript + ``tsc --strict`` over ``tests/contract/client.ts``)
build, so the spec and the web app cannot drift apart.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
from openapi_spec_validator import validate
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from shared.store.accounts import ACTIVE, NEEDS_RECONNECT, REVOKED
from shared.tiktok.errors import _UPLOAD_ANSWERS, ERRORS
from shared.tiktok.settings import BOOLEAN_SETTINGS
from tests.openapi import SPEC_PATH, spec
from tests.reasons import HOLE, reasons

ROOT = SPEC_PATH.parent
TOOLS = ROOT / "tools" / "node_modules" / ".bin"
CLIENT_TS = ROOT / "tests" / "contract" / "client.ts"
METHODS = ("get", "post", "put", "patch", "delete")
BASE = "urn:openapi"
# Reasons built from a runtime value: the template the scan finds -> every value it can take.
FAMILIES: dict[str, set[str]] = {
    "tiktok.{}": {f"tiktok.{code}" for code in ERRORS}
    | {f"tiktok.{code}" for _, code, _ in _UPLOAD_ANSWERS.values()},
    "account.{}": {f"account.{status}" for status in (NEEDS_RECONNECT, REVOKED)},
    "post.{}_disabled_by_creator": {
        f"post.{setting}_disabled_by_creator"
        for setting in ("allow_comment", "allow_duet", "allow_stitch")
    },
    "request.media.urls[{}]": {"request.media.urls[0]", "request.media.urls[34]"},
    # _bad(f"post.{name}") over the declared settings (a boolean or a text one).
    "request.post.{}": {
        f"request.post.{name}" for name in (*BOOLEAN_SETTINGS, "title", "description")
    },
}
UNCHECKED_BODIES = {"tiktokWebhook"}  # TikTok's events may grow fields: never refused for them


def operations() -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in spec()["paths"].items():
        for method in METHODS:
            if method in item:
                yield path, method, item[method]


def validator(pointer: str) -> jsonschema.Draft202012Validator:
    registry: Registry[Any] = Registry().with_resource(
        BASE, Resource.from_contents(spec(), default_specification=DRAFT202012)
    )
    return jsonschema.Draft202012Validator({"$ref": f"{BASE}#{pointer}"}, registry=registry)


def escape(part: str) -> str:
    return part.replace("~", "~0").replace("/", "~1")


def resolve(node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        name = node["$ref"].removeprefix("#/components/schemas/")
        node = spec()["components"]["schemas"][name]
    return node


def enum_values(schema: str) -> set[str]:
    values: set[str] = set()
    for branch in spec()["components"]["schemas"][schema]["anyOf"]:
        values |= set(resolve(branch).get("enum", []))
    return values


def test_spec_is_valid_openapi() -> None:
    validate(spec())


def test_redocly_finds_no_problem() -> None:
    redocly = TOOLS / "redocly"
    assert redocly.exists(), "Redocly is installed by scripts/setup (tools/package.json)"
    env = {**os.environ, "REDOCLY_TELEMETRY": "off", "REDOCLY_SUPPRESS_UPDATE_NOTICE": "true"}
    done = subprocess.run(
        [str(redocly), "lint", "--config", "tools/redocly.yaml", "openapi.yaml"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Your API description is valid" in done.stdout + done.stderr


def test_every_reason_the_code_raises_is_in_the_spec() -> None:
    error_reasons = validator("/components/schemas/ErrorReason")
    stale_reasons = validator("/components/schemas/StaleReason")
    listed = enum_values("ErrorReason")
    missing: list[str] = []
    for found in reasons():
        check = stale_reasons if found.keyword == "stale_reason" else error_reasons
        if HOLE in found.value:
            assert found.value in FAMILIES, (
                f"{found.where} builds {found.keyword} {found.value!r} from a runtime value: list "
                "what it can be in FAMILIES (this test) and in openapi.yaml's ErrorReason"
            )
            values = FAMILIES[found.value]
        else:
            values = {found.value}
        missing += [f"{v} ({found.where})" for v in sorted(values) if not check.is_valid(v)]
    assert not missing, "reasons the code raises that openapi.yaml lacks:\n" + "\n".join(missing)
    # The documented families are listed one by one, not only matched by a pattern.
    for template, values in FAMILIES.items():
        if not template.startswith("request.media.urls"):
            assert values <= listed, template
    assert not error_reasons.is_valid("request.no_such_field")  # the enum is closed


def test_the_reason_scan_sees_through_helpers_and_loops() -> None:
    """The scan is not vacuous: it finds reasons made by a helper, a loop and an f-string."""
    found = {f.value for f in reasons()}
    assert "request.media.url" in found  # _bad(...) through _https_url(raw, "media.url", ...)
    assert "request.post.{}" in found  # _bad(f"post.{name}") over BOOLEAN_SETTINGS
    assert "tiktok.{}" in found
    assert "account.{}" in found
    assert {f.value for f in reasons() if f.keyword == "stale_reason"} == {"poll_budget"}
    assert ACTIVE not in {v.removeprefix("account.") for v in FAMILIES["account.{}"]}


def object_schemas(
    node: Any, where: str, seen: frozenset[str] = frozenset()
) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every object schema reachable from ``node``, following $refs (each once per branch)."""
    if isinstance(node, list):
        for i, item in enumerate(node):
            yield from object_schemas(item, f"{where}[{i}]", seen)
        return
    if not isinstance(node, dict):
        return
    if "$ref" in node:
        name = node["$ref"].removeprefix("#/components/schemas/")
        if name not in seen:
            yield from object_schemas(spec()["components"]["schemas"][name], name, seen | {name})
        return
    if node.get("type") == "object" or "properties" in node:
        yield where, node
    for key in ("properties", "items", "oneOf", "anyOf", "allOf", "additionalProperties"):
        if key in node and key != "not":
            child = node[key]
            if key == "properties":
                for name, sub in child.items():
                    yield from object_schemas(sub, f"{where}.{name}", seen)
            else:
                yield from object_schemas(child, f"{where}/{key}", seen)


def test_request_bodies_refuse_unknown_fields() -> None:
    checked = 0
    for path, method, op in operations():
        body = op.get("requestBody", {}).get("content", {}).get("application/json")
        if body is None or op["operationId"] in UNCHECKED_BODIES:
            continue
        for where, schema in object_schemas(body["schema"], f"{method.upper()} {path}"):
            assert schema.get("additionalProperties") is False, f"{where} accepts unknown fields"
            checked += 1
    assert checked >= 8  # session, videos query, drafts, publish, media variants, post settings
    error = spec()["components"]["schemas"]["Error"]["properties"]["error"]["properties"]
    assert "field" in error
    assert "request.unknown_field" in enum_values("ErrorReason")


def examples_of(content: dict[str, Any]) -> list[Any]:
    if "example" in content:
        return [content["example"]]
    return [e["value"] for e in content.get("examples", {}).values()]


def test_every_operation_has_examples_that_fit_its_schemas() -> None:
    for path, method, op in operations():
        label = f"{method.upper()} {path}"
        base = f"/paths/{escape(path)}/{method}"
        body = op.get("requestBody", {}).get("content", {}).get("application/json")
        if body is not None:
            samples = examples_of(body)
            assert samples, f"{label}: no request example"
            check = validator(f"{base}/requestBody/content/application~1json/schema")
            for sample in samples:
                check.validate(sample)
        shown = 0
        for status, response in op["responses"].items():
            if not status.startswith(("2", "3")):
                continue
            pointer = f"{base}/responses/{status}"
            for media_type, content in response.get("content", {}).items():
                if media_type != "application/json":
                    continue
                check = validator(f"{pointer}/content/application~1json/schema")
                for sample in examples_of(content):
                    check.validate(sample)
                    shown += 1
            for header in response.get("headers", {}).values():
                shown += "example" in header
        assert shown, f"{label}: no example of its answer"


def test_post_fields_are_typed_as_enums() -> None:
    post = spec()["components"]["schemas"]["Post"]["properties"]
    assert resolve(post["mode"])["enum"] == ["direct", "inbox"]
    assert post["media_type"]["enum"] == ["video", "photo"]
    assert post["source"]["enum"] == ["FILE_UPLOAD", "PULL_FROM_URL"]


def test_retry_after_is_documented_on_every_429_and_503() -> None:
    count = 0
    for path, method, op in operations():
        for status in ("429", "503"):
            if status in op["responses"]:
                ref = op["responses"][status]["$ref"]
                headers = spec()["components"]["responses"][ref.rsplit("/", 1)[1]]["headers"]
                assert "Retry-After" in headers, f"{method.upper()} {path} {status}"
                count += 1
    assert count >= 10


def test_the_csv_export_is_a_zip_not_json() -> None:
    content = spec()["paths"]["/api/me/export"]["get"]["responses"]["200"]["content"]
    archive = resolve(content["application/zip"]["schema"])
    assert archive["type"] == "string"
    assert archive["format"] == "binary"
    assert archive["contentMediaType"] == "application/zip"


def snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def test_a_python_client_generates_from_the_spec(tmp_path: Path) -> None:
    generator = Path(sys.executable).parent / "openapi-python-client"
    env = {**os.environ, "PATH": f"{generator.parent}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run(
        [
            str(generator),
            "generate",
            "--path",
            str(SPEC_PATH),
            "--meta",
            "none",
            "--config",
            str(ROOT / "tools" / "openapi-python-client.yaml"),
            "--output-path",
            str(tmp_path / "client"),
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "Warning" not in output, output
    generated = tmp_path / "client"
    operations_made = {p.stem for p in (generated / "api" / "default").glob("*.py")}
    expected = {snake(op["operationId"]) for *_, op in operations()}
    assert expected == operations_made - {"__init__"}
    # The zip's own operation is read as bytes, never parsed as JSON.
    csv_zip = (generated / "api" / "default" / "export_my_data_csv.py").read_text()
    ok_branch = csv_zip.split("if response.status_code == 200:", 1)[1].split("if ", 1)[0]
    assert "File(" in ok_branch
    assert ".json()" not in ok_branch
    compiled = subprocess.run(
        [sys.executable, "-m", "compileall", "-q", str(generated)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert compiled.returncode == 0, compiled.stdout + compiled.stderr


def test_typescript_types_compile_with_the_client_under_strict(tmp_path: Path) -> None:
    node = shutil.which("node")
    assert node is not None, "node is required (README)"
    for tool in ("openapi-typescript", "tsc"):
        assert (TOOLS / tool).exists(), f"{tool} is installed by scripts/setup (tools/package.json)"
    # --default-non-nullable=false: a request field with a default stays optional to send.
    subprocess.run(
        [
            str(TOOLS / "openapi-typescript"),
            str(SPEC_PATH),
            "-o",
            str(tmp_path / "api.d.ts"),
            "--default-non-nullable=false",
        ],
        capture_output=True,
        check=True,
        timeout=120,
    )
    shutil.copy(CLIENT_TS, tmp_path / "client.ts")
    done = subprocess.run(
        [
            str(TOOLS / "tsc"),
            "--strict",
            "--noEmit",
            "--target",
            "es2022",
            "--module",
            "es2022",
            "--moduleResolution",
            "bundler",
            "--lib",
            "es2022,dom",
            "client.ts",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
