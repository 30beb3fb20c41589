"""Request bodies over real HTTP: every field is known or refused, and no input makes a 500.

A field the operation does not know (``caption`` for ``title``) is refused with 400
``request.unknown_field`` naming its dotted path, never dropped; input Python or Firestore cannot
handle (JSON nested 10,000 deep, a 5,000-digit integer, a lone surrogate, an integer past int64,
``?cursor=²``) gets a 4xx naming what is wrong, and nothing is stored.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from emulator.stack import Stack
from tests.openapi import check_response
from tests.support import FakeTikTok, all_documents

pytestmark = pytest.mark.e2e


@pytest.fixture
def creator(fake_tiktok: FakeTikTok) -> dict[str, Any]:
    return fake_tiktok.create_user(display_name="Casey", username="casey")


def publish_body(open_id: str, **post: Any) -> dict[str, Any]:
    return {
        "open_id": open_id,
        "mode": "direct",
        "media": {"type": "video", "source": "file", "size": 1_000_000},
        "post": {"privacy_level": "SELF_ONLY", **post},
        "duration_sec": 12.0,
    }


def stored_kinds(stack: Stack) -> set[str]:
    """The collections that hold documents (``users``, ``posts``, ``drafts``, …)."""
    return {doc["name"].split("/")[-2] for doc in all_documents(stack)}


def assert_unknown_field(response: httpx.Response, field: str) -> None:
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert (error["code"], error["reason"], error["field"]) == (
        "INVALID_ARGUMENT",
        "request.unknown_field",
        field,
    )
    assert repr(field) in error["message"]


@pytest.mark.parametrize(
    ("path", "template"),
    [("/api/publish", "/api/publish"), ("/api/publish/drafts", "/api/publish/drafts")],
)
def test_a_caption_for_a_title_is_refused_and_nothing_is_posted(
    ann: httpx.Client,
    creator: dict[str, Any],
    fake_tiktok: FakeTikTok,
    devserver: Stack,
    path: str,
    template: str,
) -> None:
    before = stored_kinds(devserver)
    response = ann.post(path, json=publish_body(creator["open_id"], caption="my #cat"))
    assert_unknown_field(response, "post.caption")
    check_response("POST", template, response)
    assert stored_kinds(devserver) == before
    assert not {"video_init", "inbox_init", "content_init"} & set(fake_tiktok.calls())


def test_unknown_top_level_and_media_fields_are_refused(
    ann: httpx.Client, creator: dict[str, Any]
) -> None:
    body = publish_body(creator["open_id"])
    assert_unknown_field(ann.post("/api/publish", json={**body, "titel": "x"}), "titel")
    body["media"]["url"] = "https://cdn.example/v.mp4"  # only for source "url"
    assert_unknown_field(ann.post("/api/publish", json=body), "media.url")
    draft = {**publish_body(creator["open_id"]), "draft_id": "d1"}  # drafts have no draft_id
    assert_unknown_field(ann.post("/api/publish/drafts", json=draft), "draft_id")


def test_sign_in_and_video_query_refuse_unknown_fields(
    ann: httpx.Client, creator: dict[str, Any], api: httpx.Client
) -> None:
    response = api.post("/api/session", json={"id_token": "t", "remember_me": True})
    assert_unknown_field(response, "remember_me")
    check_response("POST", "/api/session", response)
    url = f"/api/tiktok/accounts/{creator['open_id']}/videos/query"
    response = ann.post(url, json={"ids": ["1"], "fields": ["title"]})
    assert_unknown_field(response, "fields")
    check_response("POST", "/api/tiktok/accounts/{open_id}/videos/query", response)


def post_raw(browser: httpx.Client, path: str, raw: str) -> httpx.Response:
    return browser.post(path, content=raw.encode(), headers={"Content-Type": "application/json"})


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("[" * 10_000 + "]" * 10_000, "request.too_deep"),
        ('{"open_id": ' + "7" * 4_301 + "}", "request.integer_out_of_range"),
    ],
)
def test_bodies_python_cannot_parse_are_400_not_500(
    ann: httpx.Client, creator: dict[str, Any], raw: str, reason: str
) -> None:
    for path in ("/api/publish", "/api/publish/drafts"):
        response = post_raw(ann, path, raw)
        assert response.status_code == 400, response.text
        assert response.json()["error"]["reason"] == reason


def photo_draft(open_id: str) -> dict[str, Any]:
    return {
        "open_id": open_id,
        "mode": "inbox",
        "media": {"type": "photo", "urls": ["https://cdn.example/1.jpg"]},
        "post": {"title": "t"},
    }


@pytest.mark.parametrize(
    ("change", "reason", "field"),
    [
        (
            {
                "post": {
                    "title": {"a": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}
                }
            },
            "request.too_deep",
            "post.title.a" + "[0]" * 17,
        ),
        ({"post": {"": "x"}}, "request.unknown_field", "post."),
        ({"post": {"__x__": "x"}}, "request.unknown_field", "post.__x__"),
        ({"duration_sec": 2**63}, "request.integer_out_of_range", "duration_sec"),
        (
            {"post": {"title": "t", "cover_timestamp_ms": 2**70}},
            "request.integer_out_of_range",
            "post.cover_timestamp_ms",
        ),
    ],
)
def test_a_draft_firestore_could_not_store_is_400_naming_the_field(
    ann: httpx.Client,
    creator: dict[str, Any],
    devserver: Stack,
    change: dict[str, Any],
    reason: str,
    field: str,
) -> None:
    response = ann.post("/api/publish/drafts", json={**photo_draft(creator["open_id"]), **change})
    assert response.status_code == 400, response.text
    check_response("POST", "/api/publish/drafts", response)
    error = response.json()["error"]
    assert (error["reason"], error["field"]) == (reason, field)
    assert "drafts" not in stored_kinds(devserver)


def test_a_lone_surrogate_open_id_is_a_4xx_in_a_body_or_a_path(
    ann: httpx.Client, creator: dict[str, Any]
) -> None:
    body = '{"open_id": "\\ud800", "mode": "inbox", "media": {"type": "photo", "urls": []}}'
    for path in ("/api/publish", "/api/publish/drafts"):
        response = post_raw(ann, path, body)
        assert response.status_code == 400, response.text
        assert response.json()["error"]["field"] == "open_id"
    for path in (
        "/api/tiktok/accounts/%ED%A0%80/videos",
        "/api/tiktok/accounts/%ED%A0%80/creator-info",
        "/api/publish/drafts/%ED%A0%80",
        "/api/publish/%ED%A0%80/status",
    ):
        response = ann.get(path)
        assert response.status_code == 404, (path, response.text)
        assert response.json()["error"]["code"] == "NOT_FOUND"


@pytest.mark.parametrize("cursor", ["²", "١٢", "9" * 5_000, "-1", "1.5"])
def test_a_cursor_that_is_not_ascii_digits_is_400(
    ann: httpx.Client, creator: dict[str, Any], cursor: str
) -> None:
    url = f"/api/tiktok/accounts/{creator['open_id']}/videos"
    response = ann.get(url, params={"cursor": cursor})
    assert response.status_code == 400, response.text
    assert response.json()["error"]["reason"] == "request.cursor"
    query = ann.post(url + "/query", json={"ids": [cursor]})
    assert query.status_code == 400, query.text
