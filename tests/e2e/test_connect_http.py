"""Connecting TikTok accounts over real HTTP: dev server, emulators, fake KMS, fake TikTok.

Sign in -> connect through the fake consent page -> list -> creator info -> disconnect, and every
refusal of the callback. Promises P3 (no token plaintext stored), P4 (isolation) and P6.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from emulator.stack import Stack
from shared import runtime
from tests.openapi import check_response
from tests.support import (
    AuthEmulator,
    FakeTikTok,
    all_documents,
    connect_account,
    follow_callback,
    new_browser,
    start_connect,
)

pytestmark = pytest.mark.e2e


@pytest.fixture
def ann(devserver: Stack, auth_emulator: AuthEmulator) -> httpx.Client:
    return new_browser(devserver, auth_emulator, "ann@example.com")


@pytest.fixture
def creator(fake_tiktok: FakeTikTok) -> dict[str, object]:
    return fake_tiktok.create_user(
        display_name="Casey Creates",
        username="casey",
        avatar_url="https://p16.example/casey.jpg",
        bio_description="I make things",
        is_verified=True,
        stats={"follower_count": 1200, "following_count": 3, "likes_count": 99, "video_count": 7},
    )


def landed(response: httpx.Response, stack: Stack) -> tuple[str, dict[str, list[str]]]:
    assert response.status_code == 302, response.text
    location = response.headers["location"]
    assert location.startswith(stack.functions_url + "/")
    parts = urlsplit(location)
    return parts.path, parse_qs(parts.query)


def test_connect_list_creator_info_disconnect(
    ann: httpx.Client, fake_tiktok: FakeTikTok, creator: dict[str, object], devserver: Stack
) -> None:
    open_id = str(creator["open_id"])
    path, query = landed(connect_account(ann, fake_tiktok, open_id), devserver)
    assert (path, query) == ("/accounts", {"connected": [open_id]})

    listed = ann.get("/api/tiktok/accounts")
    check_response("GET", "/api/tiktok/accounts", listed)
    [account] = listed.json()["accounts"]
    assert account["open_id"] == open_id
    assert account["display_name"] == "Casey Creates"
    assert account["username"] == "casey"
    assert account["follower_count"] == 1200
    assert account["is_verified"] is True
    assert account["status"] == "active"
    assert "video.publish" in account["scopes"]
    assert not any("token" in key and "expires" not in key for key in account)

    info = ann.get(f"/api/tiktok/accounts/{open_id}/creator-info")
    check_response("GET", "/api/tiktok/accounts/{open_id}/creator-info", info)
    assert info.json()["creator_username"] == "casey"
    assert "SELF_ONLY" in info.json()["privacy_level_options"]

    gone = ann.delete(f"/api/tiktok/accounts/{open_id}")
    check_response("DELETE", "/api/tiktok/accounts/{open_id}", gone)
    assert gone.json() == {
        "disconnected": open_id,
        "revoked_at_tiktok": True,
        "tiktok_revoked": "revoked",
        "cancelled_scheduled": 0,
    }
    assert ann.get("/api/tiktok/accounts").json() == {"accounts": []}
    authorizations = fake_tiktok.authorizations(open_id)
    assert authorizations
    assert all(a["revoked"] for a in authorizations)  # P6: revoked at TikTok.
    assert not [d for d in all_documents(devserver) if "/accounts/" in d["name"]]  # P6: deleted.


def test_no_token_plaintext_is_stored(
    ann: httpx.Client, fake_tiktok: FakeTikTok, creator: dict[str, object], devserver: Stack
) -> None:
    """P3: every stored document is scanned; tokens exist only as versioned vault ciphertext."""
    connect_account(ann, fake_tiktok, str(creator["open_id"]))
    documents = all_documents(devserver)
    dump = json.dumps(documents)
    assert "act." not in dump
    assert "rft." not in dump
    [account] = [d for d in documents if d["name"].split("/")[-2] == "accounts"]
    for field in ("access_token_enc", "refresh_token_enc"):
        assert account["fields"][field]["stringValue"].startswith("v1.")
    assert not {"access_token", "refresh_token"} & set(account["fields"])


def test_connecting_again_updates_and_several_accounts_are_kept(
    ann: httpx.Client, fake_tiktok: FakeTikTok, creator: dict[str, object], devserver: Stack
) -> None:
    open_id = str(creator["open_id"])
    connect_account(ann, fake_tiktok, open_id)
    first = ann.get("/api/tiktok/accounts").json()["accounts"][0]
    connect_account(ann, fake_tiktok, open_id)
    second = fake_tiktok.create_user(display_name="Second", username="second", avatar_url="x")
    connect_account(ann, fake_tiktok, str(second["open_id"]))
    accounts = ann.get("/api/tiktok/accounts").json()["accounts"]
    assert [a["open_id"] for a in accounts] == [open_id, second["open_id"]]
    assert accounts[0]["connected_at"] == first["connected_at"]


def test_scopes_the_user_did_not_grant_are_not_read(
    ann: httpx.Client, fake_tiktok: FakeTikTok, creator: dict[str, object], devserver: Stack
) -> None:
    open_id = str(creator["open_id"])
    landed(connect_account(ann, fake_tiktok, open_id, granted_scopes="user.info.basic"), devserver)
    [account] = ann.get("/api/tiktok/accounts").json()["accounts"]
    assert account["scopes"] == ["user.info.basic"]
    assert account["username"] is None
    assert "follower_count" not in account
    asked = fake_tiktok.control("GET", "calls")["last"]["user_info"]["query"]["fields"]
    assert set(asked.split(",")) == {
        "open_id", "union_id", "avatar_url", "avatar_url_100", "avatar_large_url", "display_name"
    }  # fmt: skip
    refused = ann.get(f"/api/tiktok/accounts/{open_id}/creator-info")
    assert refused.status_code == 403
    assert refused.json()["error"]["reason"] == "tiktok.scope_not_authorized"
    listed = ann.get("/api/tiktok/accounts").json()["accounts"][0]
    assert listed["status"] == "needs_reconnect"


def test_denied_consent_is_a_friendly_redirect(
    ann: httpx.Client, fake_tiktok: FakeTikTok, creator: dict[str, object], devserver: Stack
) -> None:
    response = connect_account(ann, fake_tiktok, str(creator["open_id"]), approve=False)
    assert landed(response, devserver) == ("/accounts", {"error": ["access_denied"]})
    assert ann.get("/api/tiktok/accounts").json() == {"accounts": []}


@pytest.mark.parametrize(
    ("return_to", "approve", "path", "query", "fragment"),
    [
        ("/x#frag", True, "/x", "connected", "frag"),
        ("/x#frag", False, "/x", "error", "frag"),
        ("/x?tab=2#a?b", True, "/x", "connected", "a?b"),
        ("/x?tab=2#a?b", False, "/x", "error", "a?b"),
    ],
)
def test_the_result_goes_in_the_query_before_return_tos_fragment(
    ann: httpx.Client,
    fake_tiktok: FakeTikTok,
    creator: dict[str, object],
    devserver: Stack,
    return_to: str,
    approve: bool,
    path: str,
    query: str,
    fragment: str,
) -> None:
    started = start_connect(ann, return_to)
    assert started.status_code == 302, started.text
    location = fake_tiktok.consent(
        started.headers["location"], str(creator["open_id"]), approve=approve
    )
    response = follow_callback(ann, location)
    assert response.status_code == 302, response.text
    parts = urlsplit(response.headers["location"])
    assert (parts.path, parts.fragment) == (path, fragment)
    params = parse_qs(parts.query)
    expected = str(creator["open_id"]) if approve else "access_denied"
    assert params[query] == [expected]
    assert params.get("tab", ["2"]) == ["2"]


@pytest.mark.parametrize("query", ["code=abc", "code=abc&state=", "code=abc&state=made-up"])
def test_missing_or_unknown_state_is_refused(
    ann: httpx.Client, devserver: Stack, fake_tiktok: FakeTikTok, query: str
) -> None:
    response = ann.get(f"/api/tiktok/callback?{query}")
    assert landed(response, devserver) == ("/", {"error": ["invalid_state"]})
    assert fake_tiktok.calls().get("token", 0) == 0


def test_reused_state_is_refused(
    ann: httpx.Client, fake_tiktok: FakeTikTok, creator: dict[str, object], devserver: Stack
) -> None:
    started = start_connect(ann)
    location = fake_tiktok.consent(started.headers["location"], str(creator["open_id"]))
    assert "connected" in landed(follow_callback(ann, location), devserver)[1]
    assert landed(follow_callback(ann, location), devserver)[1] == {"error": ["invalid_state"]}


def test_expired_state_is_refused(
    ann: httpx.Client, fake_tiktok: FakeTikTok, creator: dict[str, object], devserver: Stack
) -> None:
    started = start_connect(ann)
    db = runtime.firestore_client()
    [state] = list(db.collection("oauth_states").stream())
    state.reference.update({"expire_at": datetime.now(UTC) - timedelta(seconds=1)})
    location = fake_tiktok.consent(started.headers["location"], str(creator["open_id"]))
    assert landed(follow_callback(ann, location), devserver)[1] == {"error": ["invalid_state"]}
    assert ann.get("/api/tiktok/accounts").json() == {"accounts": []}


def test_another_users_state_is_refused_and_not_burnt(
    ann: httpx.Client,
    bob: httpx.Client,
    fake_tiktok: FakeTikTok,
    creator: dict[str, object],
    devserver: Stack,
) -> None:
    started = start_connect(ann)
    location = fake_tiktok.consent(started.headers["location"], str(creator["open_id"]))
    assert landed(follow_callback(bob, location), devserver) == ("/", {"error": ["invalid_state"]})
    assert bob.get("/api/tiktok/accounts").json() == {"accounts": []}
    assert "connected" in landed(follow_callback(ann, location), devserver)[1]


@pytest.mark.parametrize(
    "return_to", ["https://evil.example/x", "//evil.example/x", "/\\evil.example", "accounts"]
)
def test_open_redirects_are_refused(ann: httpx.Client, return_to: str) -> None:
    response = start_connect(ann, return_to)
    assert response.status_code == 400
    check_response("GET", "/api/tiktok/connect", response)
    assert "return_to must be a path" in response.json()["error"]["message"]


def test_connect_needs_a_session(devserver: Stack, clean: Stack) -> None:
    response = httpx.get(f"{devserver.functions_url}/api/tiktok/connect")
    assert response.status_code == 401


def test_users_cannot_see_or_touch_each_others_accounts(
    ann: httpx.Client,
    bob: httpx.Client,
    fake_tiktok: FakeTikTok,
    creator: dict[str, object],
    devserver: Stack,
) -> None:
    """P4 for every route of this issue."""
    open_id = str(creator["open_id"])
    connect_account(ann, fake_tiktok, open_id)
    assert bob.get("/api/tiktok/accounts").json() == {"accounts": []}
    for response in (
        bob.get(f"/api/tiktok/accounts/{open_id}/creator-info"),
        bob.delete(f"/api/tiktok/accounts/{open_id}"),
    ):
        assert response.status_code == 404
        assert "Casey" not in response.text
    assert [a["open_id"] for a in ann.get("/api/tiktok/accounts").json()["accounts"]] == [open_id]
    authorizations = fake_tiktok.authorizations(open_id)
    assert authorizations
    assert all(a["live"] for a in authorizations)


def test_disconnect_deletes_even_when_tiktok_revoke_fails(
    ann: httpx.Client, fake_tiktok: FakeTikTok, creator: dict[str, object], devserver: Stack
) -> None:
    open_id = str(creator["open_id"])
    connect_account(ann, fake_tiktok, open_id)
    fake_tiktok.control(
        "POST",
        "fail",
        json={"endpoint": "revoke", "status": 500, "code": "server_error", "times": 10},
    )
    response = ann.delete(f"/api/tiktok/accounts/{open_id}")
    assert response.status_code == 200
    assert response.json()["revoked_at_tiktok"] is False
    assert response.json()["tiktok_revoked"] == "failed"
    assert "could not be told" in response.json()["message"]
    assert ann.get("/api/tiktok/accounts").json() == {"accounts": []}
