"""The real TikTok client against the fake TikTok running as its own process.

Proves the two agree on docs/tiktok-api.md: consent -> code -> exchange, single-use codes, refresh
rotation, both lifetime readings, revoke, scope-limited user info, creator info for public,
private and spam-flagged creators, the creator_info rate limit, and injected failures.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from shared import errors
from shared.tiktok.client import TikTokClient, fields_for_scopes, make_http_client
from tests.integration.fake_app import CLIENT_KEY, CLIENT_SECRET, REDIRECT, client_for, running_fake

ALL_SCOPES = "user.info.basic,user.info.profile,user.info.stats,video.publish,video.upload"


@pytest.fixture(scope="module")
def fake_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_fake(tmp_path_factory.mktemp("fake-tiktok")) as url:
        yield url


@pytest.fixture
def control(fake_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=f"{fake_url}/_control", timeout=10) as http:
        http.post("/reset").raise_for_status()
        yield http


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def tiktok(fake_url: str, control: httpx.Client, sleeps: list[float]) -> Iterator[TikTokClient]:
    with make_http_client(fake_url) as http:
        yield client_for(http, fake_url, sleeps.append)


def new_user(control: httpx.Client, **fields: Any) -> str:
    response = control.post("/users", json={"display_name": "Ann", "username": "ann", **fields})
    response.raise_for_status()
    open_id: str = response.json()["open_id"]
    return open_id


def consent(
    fake_url: str,
    open_id: str,
    *,
    scope: str = ALL_SCOPES,
    granted: str | None = None,
    **extra: str,
) -> dict[str, list[str]]:
    """Press Approve (or Deny) on the fake's consent page; the redirect's query."""
    form = {
        "client_key": CLIENT_KEY,
        "redirect_uri": REDIRECT,
        "scope": scope,
        "state": "state-123",
        "open_id": open_id,
        "decision": "approve",
        **extra,
    }
    if granted is not None:
        form["granted_scopes"] = granted
    response = httpx.post(f"{fake_url}/v2/auth/authorize/decision", data=form)
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT
    return parse_qs(location.query)


def connect(tiktok: TikTokClient, fake_url: str, open_id: str, **kwargs: Any) -> Any:
    return tiktok.exchange_code(consent(fake_url, open_id, **kwargs)["code"][0])


def test_authorize_page_lists_users(
    tiktok: TikTokClient, control: httpx.Client, fake_url: str
) -> None:
    new_user(control, display_name="Page Person")
    url = tiktok.authorize_url(state="s-1", scopes=["user.info.basic", "video.publish"])
    page = httpx.get(url)
    assert page.status_code == 200
    assert "Page Person" in page.text
    bad = httpx.get(url.replace("response_type=code", "response_type=token"))
    assert bad.status_code == 400


def test_consent_code_exchange_and_single_use(
    tiktok: TikTokClient, control: httpx.Client, fake_url: str
) -> None:
    open_id = new_user(control)
    query = consent(fake_url, open_id)
    assert query["state"] == ["state-123"]
    assert query["scopes"] == [ALL_SCOPES]
    grant = tiktok.exchange_code(query["code"][0])
    assert grant.open_id == open_id
    assert grant.access_token.startswith("act.")
    assert grant.refresh_token.startswith("rft.")
    assert grant.scopes == tuple(ALL_SCOPES.split(","))
    with pytest.raises(errors.FailedPrecondition) as caught:
        tiktok.exchange_code(query["code"][0])
    assert caught.value.reason == "tiktok.invalid_grant"
    assert caught.value.details["log_id"]


def test_denied_consent_redirects_with_access_denied(control: httpx.Client, fake_url: str) -> None:
    query = consent(fake_url, new_user(control), decision="deny")
    assert query["error"] == ["access_denied"]
    assert query["state"] == ["state-123"]
    assert "code" not in query


def test_wrong_redirect_uri_is_refused(control: httpx.Client, fake_url: str) -> None:
    open_id = new_user(control)
    refused = httpx.post(
        f"{fake_url}/v2/auth/authorize/decision",
        data={
            "client_key": CLIENT_KEY,
            "redirect_uri": "https://evil.example/cb",
            "scope": ALL_SCOPES,
            "state": "s",
            "open_id": open_id,
            "decision": "approve",
        },
    )
    assert refused.status_code == 400
    assert "Location" not in refused.headers
    code = consent(fake_url, open_id)["code"][0]
    with make_http_client(fake_url) as http:
        other = TikTokClient(
            http,
            client_key=CLIENT_KEY,
            client_secret=CLIENT_SECRET,
            redirect_uri="https://app.example.com/other",
            auth_url=f"{fake_url}/v2/auth/authorize/",
        )
        with pytest.raises(errors.InvalidArgument) as caught:
            other.exchange_code(code)
    assert caught.value.reason == "tiktok.invalid_request"


def test_refresh_rotates_and_old_refresh_token_dies(
    tiktok: TikTokClient, control: httpx.Client, fake_url: str
) -> None:
    grant = connect(tiktok, fake_url, new_user(control))
    control.post("/advance", json={"seconds": 3600})
    fresh = tiktok.refresh(grant.refresh_token)
    assert fresh.refresh_token != grant.refresh_token
    assert fresh.access_token != grant.access_token
    # Remaining lifetime: it does not restart on refresh.
    assert fresh.refresh_expires_in <= grant.refresh_expires_in - 3600
    with pytest.raises(errors.FailedPrecondition) as caught:
        tiktok.refresh(grant.refresh_token)
    assert caught.value.reason == "tiktok.invalid_grant"
    assert tiktok.refresh(fresh.refresh_token).open_id == grant.open_id


def test_refresh_without_rotation_returns_the_same_token(
    tiktok: TikTokClient, control: httpx.Client, fake_url: str
) -> None:
    control.post("/config", json={"rotate_refresh_tokens": False}).raise_for_status()
    grant = connect(tiktok, fake_url, new_user(control))
    assert tiktok.refresh(grant.refresh_token).refresh_token == grant.refresh_token


@pytest.mark.parametrize(
    ("reading", "lifetimes"), [("older", (86400, 31536000)), ("newer", (7200, 15552000))]
)
def test_token_lifetimes_both_readings(
    tiktok: TikTokClient,
    control: httpx.Client,
    fake_url: str,
    reading: str,
    lifetimes: tuple[int, int],
) -> None:
    control.post("/config", json={"lifetimes": reading}).raise_for_status()
    grant = connect(tiktok, fake_url, new_user(control))
    assert lifetimes[0] - 2 <= grant.expires_in <= lifetimes[0]
    assert lifetimes[1] - 2 <= grant.refresh_expires_in <= lifetimes[1]


def test_expired_access_token_is_refused(
    tiktok: TikTokClient, control: httpx.Client, fake_url: str
) -> None:
    control.post("/config", json={"lifetimes": "newer"}).raise_for_status()
    grant = connect(tiktok, fake_url, new_user(control))
    control.post("/advance", json={"seconds": 7201})
    with pytest.raises(errors.FailedPrecondition) as caught:
        tiktok.user_info(grant.access_token, ["open_id"])
    assert caught.value.reason == "tiktok.access_token_invalid"


def test_revoke_kills_access_and_refresh_tokens(
    tiktok: TikTokClient, control: httpx.Client, fake_url: str
) -> None:
    open_id = new_user(control)
    grant = connect(tiktok, fake_url, open_id)
    tiktok.revoke(grant.access_token)
    with pytest.raises(errors.FailedPrecondition) as caught:
        tiktok.user_info(grant.access_token, ["open_id"])
    assert caught.value.reason == "tiktok.access_token_invalid"
    with pytest.raises(errors.FailedPrecondition):
        tiktok.refresh(grant.refresh_token)
    auths = control.get("/authorizations", params={"open_id": open_id}).json()["authorizations"]
    assert [(a["revoked"], a["live"]) for a in auths] == [(True, False)]
    tiktok.revoke(grant.access_token)  # idempotent


def test_user_info_honours_fields_and_scopes(
    tiktok: TikTokClient, control: httpx.Client, fake_url: str
) -> None:
    open_id = new_user(control, bio="hello", verified=True, stats={"follower_count": 12})
    grant = connect(tiktok, fake_url, open_id, granted="user.info.basic,user.info.stats")
    assert grant.scopes == ("user.info.basic", "user.info.stats")
    info = tiktok.user_info(grant.access_token, fields_for_scopes(grant.scopes))
    assert info["open_id"] == open_id
    assert info["follower_count"] == 12
    assert "bio_description" not in info
    only = tiktok.user_info(grant.access_token, ["display_name"])
    assert only == {"display_name": "Ann"}
    with pytest.raises(errors.PermissionDenied) as caught:
        tiktok.user_info(grant.access_token, ["open_id", "bio_description"])
    assert caught.value.reason == "tiktok.scope_permission_missed"
    with pytest.raises(errors.InvalidArgument) as unknown:
        tiktok.user_info(grant.access_token, ["open_id", "shoe_size"])
    assert unknown.value.reason == "tiktok.invalid_params"


def test_creator_info_public_private_and_scope(
    tiktok: TikTokClient, control: httpx.Client, fake_url: str
) -> None:
    public = connect(tiktok, fake_url, new_user(control, comment_disabled=True))
    info = tiktok.creator_info(public.access_token)
    assert info["privacy_level_options"] == [
        "PUBLIC_TO_EVERYONE",
        "MUTUAL_FOLLOW_FRIENDS",
        "SELF_ONLY",
    ]
    assert info["comment_disabled"] is True
    assert info["duet_disabled"] is False
    assert info["creator_nickname"] == "Ann"
    private = connect(tiktok, fake_url, new_user(control, private=True))
    info = tiktok.creator_info(private.access_token)
    assert info["privacy_level_options"] == [
        "FOLLOWER_OF_CREATOR",
        "MUTUAL_FOLLOW_FRIENDS",
        "SELF_ONLY",
    ]
    assert info["duet_disabled"] is True
    assert info["stitch_disabled"] is True
    no_publish = connect(tiktok, fake_url, new_user(control), granted="user.info.basic")
    with pytest.raises(errors.PermissionDenied) as caught:
        tiktok.creator_info(no_publish.access_token)
    assert caught.value.reason == "tiktok.scope_not_authorized"


@pytest.mark.parametrize("spam", ["spam_risk_too_many_posts", "reached_active_user_cap"])
def test_creator_info_spam_answer_is_a_failure(
    tiktok: TikTokClient, control: httpx.Client, fake_url: str, spam: str
) -> None:
    grant = connect(tiktok, fake_url, new_user(control, spam=spam))
    with pytest.raises(errors.FailedPrecondition) as caught:
        tiktok.creator_info(grant.access_token)
    assert caught.value.reason == f"tiktok.{spam}"


def test_creator_info_rate_limit(
    tiktok: TikTokClient, control: httpx.Client, fake_url: str, sleeps: list[float]
) -> None:
    grant = connect(tiktok, fake_url, new_user(control))
    for _ in range(20):
        tiktok.creator_info(grant.access_token)
    with pytest.raises(errors.ResourceExhausted) as caught:
        tiktok.creator_info(grant.access_token)
    assert caught.value.reason == "tiktok.rate_limit_exceeded"
    assert caught.value.retry_after is not None
    assert caught.value.retry_after > 10  # too long to wait inside a request: not retried
    assert sleeps == []
    other = connect(tiktok, fake_url, new_user(control))
    tiktok.creator_info(other.access_token)  # the limit is per token


def test_injected_failure_is_retried_for_safe_calls_only(
    tiktok: TikTokClient, control: httpx.Client, fake_url: str, sleeps: list[float]
) -> None:
    grant = connect(tiktok, fake_url, new_user(control))
    control.post("/fail", json={"endpoint": "user_info", "status": 503, "code": "internal_error"})
    assert tiktok.user_info(grant.access_token, ["open_id"])["open_id"] == grant.open_id
    assert len(sleeps) == 1
    control.post("/fail", json={"endpoint": "token", "status": 500, "code": "server_error"})
    before = control.get("/calls").json()["counts"]["token"]
    with pytest.raises(errors.Unavailable) as caught:
        tiktok.refresh(grant.refresh_token)
    assert caught.value.reason == "tiktok.server_error"
    calls = control.get("/calls").json()
    assert calls["counts"]["token"] == before + 1
    assert calls["last"]["token"]["body"]["refresh_token"] == "***"


def test_latency_becomes_deadline_exceeded(
    control: httpx.Client, fake_url: str, sleeps: list[float]
) -> None:
    control.post("/config", json={"latency_ms": {"token": 800}}).raise_for_status()
    with httpx.Client(base_url=fake_url, timeout=httpx.Timeout(0.3, connect=2)) as http:
        impatient = TikTokClient(
            http,
            client_key=CLIENT_KEY,
            client_secret=CLIENT_SECRET,
            redirect_uri=REDIRECT,
            auth_url=f"{fake_url}/v2/auth/authorize/",
            sleep=sleeps.append,
        )
        with pytest.raises(errors.DeadlineExceeded):
            impatient.refresh("rft.unknown-refresh-token")
    assert sleeps == []  # an outcome-unknown refresh is never repeated
