"""Negative fuzzing: every body, query and path of openapi.yaml, schema-violating on purpose.

schemathesis generates requests that break the spec (wrong types, missing or extra fields, out of
range numbers, odd strings in paths and queries) and requests that follow it, for every
operation, as a signed-in user with a connected account, a draft and a post, so the cases reach
past the 404s into the parsers and services. No case may get a 5xx or a body that is not JSON
(the one exception: the CSV export, a zip). Seeded (derandomized) and bounded: a fixed number of
examples per operation and mode, destructive operations last.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import quote

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.core.result import Ok

from emulator.stack import Stack
from tests.openapi import SPEC_PATH
from tests.support import AuthEmulator, FakeTikTok, connect_account, new_browser

pytestmark = pytest.mark.e2e

EXAMPLES = 6  # per operation and set of ids: the whole run stays under a minute on a quiet machine
LAST = ("DELETE /api/tiktok/accounts/{open_id}", "DELETE /api/me")  # they end the fixtures' state


# Inputs that broke Python's or Firestore's limits, fed to every path parameter, query parameter
# and JSON body the spec declares, besides what schemathesis generates.
HOSTILE_TEXT = ("²", "١٢", "9" * 5_000, "-1", "__x__", "..", "\x00", "a" * 2_000, "%ED%A0%80")
HOSTILE_BODIES = (
    "[" * 10_000 + "]" * 10_000,
    '{"a": ' + "7" * 4_301 + "}",
    '{"a": "\\ud800"}',
    '{"\\udfff": 1}',
    '{"a": ' + str(2**64) + "}",
    '{"a": NaN}',
    '{"a": 1e400}',
    '{"a": ' + "[" * 30 + "]" * 30 + "}",
)


@pytest.fixture(scope="module")
def world(devserver: Stack) -> dict[str, Any]:
    """Headers of a signed-in browser, and ids that exist: its account, a draft, a post."""
    fake = FakeTikTok(devserver.tiktok_url)
    creator = fake.create_user(display_name="Fuzz", username="fuzz")
    browser: httpx.Client = new_browser(devserver, AuthEmulator(devserver), "fuzz2@example.com")
    assert connect_account(browser, fake, creator["open_id"]).status_code == 302
    base = {"open_id": creator["open_id"], "mode": "inbox"}
    media = {"type": "video", "source": "file", "size": 1000}
    draft = browser.post("/api/publish/drafts", json={**base, "media": media})
    assert draft.status_code == 201, draft.text
    post = browser.post("/api/publish", json={**base, "media": media})
    assert post.status_code == 201, post.text
    return {
        "headers": {
            "Origin": devserver.functions_url,
            "Cookie": f"__session={browser.cookies['__session']}",
        },
        "path": {
            "open_id": creator["open_id"],
            "draft_id": draft.json()["draft"]["id"],
            "post_id": post.json()["post"]["id"],
        },
    }


def check_plain(where: str, response: httpx.Response) -> None:
    """The same rules as :func:`check`, for the hand-made hostile requests."""
    assert response.status_code < 500, f"{where} -> {response.status_code} {response.text[:300]}"
    if response.status_code == 302 or not response.content:
        return
    if not response.request.url.path.startswith(("/api/", "/media/")):
        return  # a ".." took the request out of the API, to the web app's own (HTML) pages
    kind = response.headers.get("content-type", "")
    if kind == "application/zip" and where.startswith("GET /api/me/export"):
        return
    assert kind.startswith("application/json"), f"{where} -> {response.status_code} {kind}"
    response.json()


def hostile_requests(operation: Any, ids: dict[str, str]) -> list[tuple[str, str, dict[str, Any]]]:
    """(method, url, httpx arguments) for each hostile value in each part of the operation."""
    names = [p.name for p in operation.path_parameters]

    def url(**values: str) -> str:
        filled = {n: quote(values.get(n, ids.get(n, "0")), safe="%") for n in names}
        return str(operation.path).format(**filled)

    method = operation.method.upper()
    made: list[tuple[str, str, dict[str, Any]]] = []
    for name in names:
        made += [(method, url(**{name: text}), {}) for text in HOSTILE_TEXT]
    for param in operation.query:
        made += [(method, url(), {"params": {param.name: text}}) for text in HOSTILE_TEXT]
    if any(body.media_type == "application/json" for body in operation.body):
        json_type = {"Content-Type": "application/json"}
        made += [(method, url(), {"content": raw, "headers": json_type}) for raw in HOSTILE_BODIES]
    return made


def check(case: Any, response: Any) -> None:
    """No 5xx; every body is JSON (the CSV export's zip aside)."""
    where = f"{case.method} {case.formatted_path} query={case.query!r} body={case.body!r}"
    assert response.status_code < 500, f"{where} -> {response.status_code} {response.text[:300]}"
    if response.status_code == 302 or not response.content:
        return
    kind = (response.headers.get("content-type") or [""])[0]
    if kind == "application/zip" and case.path == "/api/me/export":
        return
    assert kind.startswith("application/json"), f"{where} -> {response.status_code} {kind}"
    response.json()


def test_no_request_gets_a_5xx_or_a_body_that_is_not_json(
    devserver: Stack, world: dict[str, Any]
) -> None:
    schema = schemathesis.openapi.from_path(SPEC_PATH)
    schema.config.update(base_url=devserver.functions_url, request_timeout=30)
    operations = []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result.err()
        operations.append(result.ok())
    assert len(operations) >= 15
    operations.sort(key=lambda op: op.label in LAST)
    failures: dict[str, str] = {}
    started = time.monotonic()
    for operation in operations:
        names = {p.name for p in operation.path_parameters}
        known = {k: v for k, v in world["path"].items() if k in names}
        # Schema-valid cases are the conformance test's (test_api_conformance.py); these break it.
        for mode in (schemathesis.GenerationMode.NEGATIVE,):
            for fixed in ({}, known) if known else ({},):
                try:
                    strategy = operation.as_strategy(generation_mode=mode, path_parameters=fixed)
                except Unsatisfiable:
                    continue

                @given(case=strategy)
                @settings(
                    max_examples=EXAMPLES,
                    deadline=None,
                    suppress_health_check=list(HealthCheck),
                    derandomize=True,
                    database=None,
                    phases=[Phase.explicit, Phase.generate],  # no shrinking: the case is printed
                )
                def run(case: Any) -> None:
                    check(case, case.call(headers=world["headers"]))

                try:
                    run()
                except Unsatisfiable:
                    continue
                except AssertionError as exc:
                    label = f"{operation.label} [{mode.value}{' fixed ids' if fixed else ''}]"
                    failures[label] = str(exc)[:1500]
        with httpx.Client(
            base_url=devserver.functions_url, headers=world["headers"], timeout=30
        ) as client:
            for method, url, extra in hostile_requests(operation, world["path"]):
                headers = {**world["headers"], **extra.pop("headers", {})}
                where = f"{method} {url} {extra!r}"[:300]
                try:
                    check_plain(where, client.request(method, url, headers=headers, **extra))
                except AssertionError as exc:
                    failures.setdefault(f"{operation.label} [hostile]", str(exc)[:1500])
    elapsed = time.monotonic() - started
    print(f"fuzzed {len(operations)} operations in {elapsed:.1f} s")
    assert not failures, "\n\n".join(f"{label}:\n{text}" for label, text in failures.items())
