"""The TikTok client against TikTok faked at the HTTP transport (pytest-httpx).

Each test registers exactly the answers TikTok gives; pytest-httpx fails a test that leaves one
unrequested, and counting the requests proves which calls are (not) retried.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from pytest_httpx import HTTPXMock

from shared import errors, logs
from shared.tiktok.client import (
    ERRORS,
    TikTokClient,
    TokenGrant,
    fields_for_scopes,
    make_http_client,
)

API = "https://open.tiktokapis.com"
TOKEN_URL = f"{API}/v2/oauth/token/"
REVOKE_URL = f"{API}/v2/oauth/revoke/"
CREATOR_URL = f"{API}/v2/post/publish/creator_info/query/"
AUTH_URL = "https://www.tiktok.com/v2/auth/authorize/"
REDIRECT = "https://app.example.com/api/tiktok/callback"
LOG_ID = "202206221854370101130062072500FFA2"

GRANT: dict[str, Any] = {
    "access_token": "act.example12345Example12345Example",
    "expires_in": 86400,
    "open_id": "afd97af1-b87b-48b9-ac98-410aghda5344",
    "refresh_expires_in": 31536000,
    "refresh_token": "rft.example12345Example12345Example",
    "scope": "user.info.basic,video.list",
    "token_type": "Bearer",
}
CREATOR: dict[str, Any] = {
    "creator_avatar_url": "https://p16.example/a.jpeg",
    "creator_username": "tiktok",
    "creator_nickname": "TikTok Official",
    "privacy_level_options": ["PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "SELF_ONLY"],
    "comment_disabled": False,
    "duet_disabled": False,
    "stitch_disabled": True,
    "max_video_post_duration_sec": 300,
}


def envelope(data: dict[str, Any] | None = None, code: str = "ok", message: str = "") -> Any:
    return {"data": data or {}, "error": {"code": code, "message": message, "log_id": LOG_ID}}


def user_info_url(fields: str) -> str:
    return f"{API}/v2/user/info/?fields={fields.replace(',', '%2C')}"


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def client(sleeps: list[float]) -> Iterator[TikTokClient]:
    http = make_http_client(API)
    yield TikTokClient(
        http,
        client_key="aw123client",
        client_secret="s3cret-client-secret-value",
        redirect_uri=REDIRECT,
        auth_url=AUTH_URL,
        sleep=sleeps.append,
    )
    http.close()


# Success is error.code == "ok", never the HTTP status --------------------------------------------


def test_user_info_returns_only_requested_fields(
    client: TikTokClient, httpx_mock: HTTPXMock
) -> None:
    httpx_mock.add_response(
        url=user_info_url("open_id,display_name"),
        json=envelope({"user": {"open_id": "o1", "display_name": "Ann", "extra": 1}}),
    )
    info = client.user_info("act.token1234567", ["open_id", "display_name"])
    assert info == {"open_id": "o1", "display_name": "Ann"}
    request = httpx_mock.get_requests()[0]
    assert request.headers["Authorization"] == "Bearer act.token1234567"


def test_envelope_error_with_http_200_is_a_failure(
    client: TikTokClient, httpx_mock: HTTPXMock
) -> None:
    httpx_mock.add_response(url=user_info_url("open_id"), json=envelope(code="invalid_params"))
    with pytest.raises(errors.InvalidArgument) as caught:
        client.user_info("act.token1234567", ["open_id"])
    assert caught.value.reason == "tiktok.invalid_params"
    assert caught.value.details["log_id"] == LOG_ID


@pytest.mark.parametrize(
    ("code", "error"),
    [
        ("spam_risk_too_many_posts", errors.FailedPrecondition),
        ("spam_risk_user_banned_from_posting", errors.PermissionDenied),
        ("reached_active_user_cap", errors.FailedPrecondition),
    ],
)
def test_creator_info_spam_answers_with_200_are_failures(
    client: TikTokClient, httpx_mock: HTTPXMock, code: str, error: type[errors.AppError]
) -> None:
    httpx_mock.add_response(url=CREATOR_URL, status_code=200, json=envelope(code=code))
    with pytest.raises(error) as caught:
        client.creator_info("act.token1234567")
    assert caught.value.reason == f"tiktok.{code}"
    assert caught.value.details == {"log_id": LOG_ID}
    assert len(httpx_mock.get_requests()) == 1  # a refusal is not retried


def test_creator_info_success(client: TikTokClient, httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(url=CREATOR_URL, json=envelope(CREATOR))
    assert client.creator_info("act.token1234567") == CREATOR


def test_creator_info_with_missing_fields_is_unavailable(
    client: TikTokClient, httpx_mock: HTTPXMock
) -> None:
    httpx_mock.add_response(url=CREATOR_URL, json=envelope({"creator_nickname": "x"}))
    with pytest.raises(errors.Unavailable) as caught:
        client.creator_info("act.token1234567")
    assert caught.value.reason == "tiktok.malformed_response"


def test_unreadable_gateway_answer_is_unavailable(
    client: TikTokClient, httpx_mock: HTTPXMock
) -> None:
    for _ in range(3):
        httpx_mock.add_response(url=CREATOR_URL, status_code=502, text="<html>bad gateway")
    with pytest.raises(errors.Unavailable):
        client.creator_info("act.token1234567")


# OAuth: flat errors, whatever the status -------------------------------------------------------


def test_exchange_code_posts_the_documented_form(
    client: TikTokClient, httpx_mock: HTTPXMock
) -> None:
    httpx_mock.add_response(url=TOKEN_URL, method="POST", json=GRANT)
    grant = client.exchange_code("code*1!abc.va")
    assert grant.access_token == GRANT["access_token"]
    assert grant.scopes == ("user.info.basic", "video.list")
    assert (grant.expires_in, grant.refresh_expires_in) == (86400, 31536000)
    request = httpx_mock.get_requests()[0]
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    form = parse_qs(request.content.decode())
    assert form == {
        "client_key": ["aw123client"],
        "client_secret": ["s3cret-client-secret-value"],
        "code": ["code*1!abc.va"],
        "grant_type": ["authorization_code"],
        "redirect_uri": [REDIRECT],
    }


@pytest.mark.parametrize("status", [200, 400, 401])
def test_flat_oauth_error_is_a_failure_at_any_status(
    client: TikTokClient, httpx_mock: HTTPXMock, status: int
) -> None:
    body = {"error": "invalid_grant", "error_description": "Code expired.", "log_id": LOG_ID}
    httpx_mock.add_response(url=TOKEN_URL, status_code=status, json=body)
    with pytest.raises(errors.FailedPrecondition) as caught:
        client.refresh("rft.old-refresh-token")
    assert caught.value.reason == "tiktok.invalid_grant"
    assert caught.value.message == "Code expired."
    assert caught.value.details == {"log_id": LOG_ID}


def test_missing_access_token_with_200_is_a_failure(
    client: TikTokClient, httpx_mock: HTTPXMock
) -> None:
    httpx_mock.add_response(
        url=TOKEN_URL, json={k: v for k, v in GRANT.items() if k != "access_token"}
    )
    with pytest.raises(errors.Unavailable):
        client.exchange_code("code-1234567890")
    assert len(httpx_mock.get_requests()) == 1


@pytest.mark.parametrize(
    "change",
    [{"expires_in": "86400"}, {"refresh_expires_in": None}, {"expires_in": True}, {"open_id": 5}],
)
def test_token_grant_types_are_validated(
    client: TikTokClient, httpx_mock: HTTPXMock, change: dict[str, Any]
) -> None:
    httpx_mock.add_response(url=TOKEN_URL, json={**GRANT, **change})
    with pytest.raises(errors.Unavailable) as caught:
        client.exchange_code("code-1234567890")
    assert caught.value.reason == "tiktok.malformed_response"


def test_revoke_succeeds_on_empty_object(client: TikTokClient, httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(url=REVOKE_URL, method="POST", json={})
    client.revoke("act.token1234567")
    form = parse_qs(httpx_mock.get_requests()[0].content.decode())
    assert form["token"] == ["act.token1234567"]
    assert form["client_key"] == ["aw123client"]


# The one table ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("code", "error"), sorted(ERRORS.items()))
def test_every_envelope_code_is_translated(
    httpx_mock: HTTPXMock, code: str, error: type[errors.AppError]
) -> None:
    httpx_mock.add_response(url=CREATOR_URL, status_code=400, json=envelope(code=code))
    with make_http_client(API) as http, pytest.raises(error) as caught:
        TikTokClient(
            http,
            client_key="k",
            client_secret="s",
            redirect_uri=REDIRECT,
            auth_url=AUTH_URL,
            max_attempts=1,  # one answer per code, whether or not its error is retryable
        ).creator_info("act.token1234567")
    assert type(caught.value) is error
    assert caught.value.reason == f"tiktok.{code}"
    assert caught.value.details["log_id"] == LOG_ID


@pytest.mark.parametrize(("code", "error"), sorted(ERRORS.items()))
def test_every_oauth_code_is_translated(
    client: TikTokClient, httpx_mock: HTTPXMock, code: str, error: type[errors.AppError]
) -> None:
    httpx_mock.add_response(
        url=TOKEN_URL,
        status_code=400,
        json={"error": code, "error_description": "d", "log_id": LOG_ID},
    )
    with pytest.raises(error) as caught:
        client.exchange_code("code-1234567890")
    assert caught.value.reason == f"tiktok.{code}"


def test_tiktok_401s_never_become_our_unauthenticated() -> None:
    assert errors.Unauthenticated not in ERRORS.values()
    assert ERRORS["access_token_invalid"] is errors.FailedPrecondition


def test_undocumented_code_falls_back_to_status(
    client: TikTokClient, httpx_mock: HTTPXMock
) -> None:
    httpx_mock.add_response(url=CREATOR_URL, status_code=403, json=envelope(code="brand_new"))
    with pytest.raises(errors.PermissionDenied) as caught:
        client.creator_info("act.token1234567")
    assert caught.value.reason == "tiktok.brand_new"


# Retries: only safe calls, honouring Retry-After -----------------------------------------------


def test_rate_limit_honours_retry_after(
    client: TikTokClient, httpx_mock: HTTPXMock, sleeps: list[float]
) -> None:
    httpx_mock.add_response(
        url=CREATOR_URL,
        status_code=429,
        headers={"Retry-After": "3"},
        json=envelope(code="rate_limit_exceeded"),
    )
    httpx_mock.add_response(url=CREATOR_URL, json=envelope(CREATOR))
    assert client.creator_info("act.token1234567")["creator_nickname"] == "TikTok Official"
    assert len(sleeps) == 1
    assert sleeps[0] >= 3


def test_long_retry_after_is_returned_not_waited(
    client: TikTokClient, httpx_mock: HTTPXMock, sleeps: list[float]
) -> None:
    httpx_mock.add_response(
        url=CREATOR_URL,
        status_code=429,
        headers={"Retry-After": "60"},
        json=envelope(code="rate_limit_exceeded"),
    )
    with pytest.raises(errors.ResourceExhausted) as caught:
        client.creator_info("act.token1234567")
    assert caught.value.retry_after == 60
    assert sleeps == []


def test_safe_call_retries_5xx_and_connection_errors_with_backoff(
    client: TikTokClient, httpx_mock: HTTPXMock, sleeps: list[float]
) -> None:
    httpx_mock.add_exception(httpx.ConnectError("refused"), url=user_info_url("open_id"))
    httpx_mock.add_response(
        url=user_info_url("open_id"), status_code=500, json=envelope(code="internal_error")
    )
    httpx_mock.add_response(url=user_info_url("open_id"), json=envelope({"user": {"open_id": "o"}}))
    assert client.user_info("act.token1234567", ["open_id"]) == {"open_id": "o"}
    assert len(sleeps) == 2
    assert 0.5 <= sleeps[0] <= 1.0
    assert 1.0 <= sleeps[1] <= 2.0


def test_safe_call_gives_up_after_max_attempts(
    client: TikTokClient, httpx_mock: HTTPXMock, sleeps: list[float]
) -> None:
    for _ in range(3):
        httpx_mock.add_exception(httpx.ReadTimeout("slow"), url=REVOKE_URL)
    with pytest.raises(errors.DeadlineExceeded) as caught:
        client.revoke("act.token1234567")
    assert isinstance(caught.value.__cause__, httpx.ReadTimeout)
    assert len(sleeps) == 2


@pytest.mark.parametrize(
    "failure",
    [
        {"status_code": 500, "json": {"error": "server_error", "log_id": LOG_ID}},
        {"status_code": 503, "text": "unavailable"},
        httpx.ReadTimeout("slow"),
        httpx.RemoteProtocolError("dropped"),
    ],
)
@pytest.mark.parametrize("call", ["exchange_code", "refresh"])
def test_code_exchange_and_refresh_are_sent_once(
    client: TikTokClient, httpx_mock: HTTPXMock, sleeps: list[float], failure: Any, call: str
) -> None:
    if isinstance(failure, Exception):
        httpx_mock.add_exception(failure, url=TOKEN_URL)
        expected: type[errors.AppError] = (
            errors.DeadlineExceeded
            if isinstance(failure, httpx.TimeoutException)
            else errors.Unavailable
        )
    else:
        httpx_mock.add_response(url=TOKEN_URL, **failure)
        expected = errors.Unavailable
    with pytest.raises(expected):
        getattr(client, call)("rft.or-code-123456")
    assert len(httpx_mock.get_requests()) == 1
    assert sleeps == []


def test_refresh_retries_when_tiktok_provably_did_nothing(
    client: TikTokClient, httpx_mock: HTTPXMock, sleeps: list[float]
) -> None:
    httpx_mock.add_exception(httpx.ConnectError("refused"), url=TOKEN_URL)
    httpx_mock.add_response(
        url=TOKEN_URL, status_code=429, json={"error": "rate_limit_exceeded", "log_id": LOG_ID}
    )
    httpx_mock.add_response(url=TOKEN_URL, json=GRANT)
    assert client.refresh("rft.old-refresh-token").refresh_token == GRANT["refresh_token"]
    assert len(sleeps) == 2


def test_exchange_code_is_not_retried_even_when_not_sent(
    client: TikTokClient, httpx_mock: HTTPXMock
) -> None:
    httpx_mock.add_exception(httpx.ConnectError("refused"), url=TOKEN_URL)
    with pytest.raises(errors.Unavailable) as caught:
        client.exchange_code("code-1234567890")
    assert caught.value.reason == "tiktok.unreachable"


# TLS, secrets, helpers -------------------------------------------------------------------------


@pytest.mark.parametrize("base", ["http://example.com", "ftp://example.com", "http://10.0.0.1"])
def test_plain_http_api_base_is_refused(base: str) -> None:
    with pytest.raises(errors.ConfigError):
        make_http_client(base)
    with httpx.Client(base_url=base) as http, pytest.raises(errors.ConfigError):
        TikTokClient(
            http, client_key="k", client_secret="s", redirect_uri=REDIRECT, auth_url=AUTH_URL
        )


@pytest.mark.parametrize("base", ["http://127.0.0.1:9000", "http://localhost:9000", API])
def test_https_or_loopback_is_accepted(base: str) -> None:
    with make_http_client(base) as http:
        TikTokClient(
            http, client_key="k", client_secret="s", redirect_uri=REDIRECT, auth_url=AUTH_URL
        )


def test_token_grant_repr_masks_tokens() -> None:
    grant = TokenGrant.from_json(GRANT)
    for text in (repr(grant), str(grant)):
        assert GRANT["access_token"] not in text
        assert GRANT["refresh_token"] not in text
        assert "act.***" in text
        assert GRANT["open_id"] in text


def test_tokens_and_codes_are_registered_for_redaction(
    client: TikTokClient, httpx_mock: HTTPXMock
) -> None:
    httpx_mock.add_response(url=TOKEN_URL, json=GRANT)
    client.exchange_code("plain-code-value-42")
    line = logs.redact(f"x {GRANT['refresh_token']} plain-code-value-42 {GRANT['access_token']}")
    assert "Example" not in line
    assert "plain-code-value-42" not in line


def test_authorize_url_uses_comma_scopes_and_no_pkce(client: TikTokClient) -> None:
    url = client.authorize_url(state="st4te-value", scopes=["user.info.basic", "video.publish"])
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == AUTH_URL
    assert parse_qs(parts.query) == {
        "client_key": ["aw123client"],
        "scope": ["user.info.basic,video.publish"],
        "redirect_uri": [REDIRECT],
        "state": ["st4te-value"],
        "response_type": ["code"],
    }


def test_fields_for_scopes() -> None:
    assert fields_for_scopes(["user.info.basic"]) == [
        "open_id",
        "union_id",
        "avatar_url",
        "avatar_url_100",
        "avatar_large_url",
        "display_name",
    ]
    assert fields_for_scopes(["user.info.stats", "video.publish"]) == [
        "follower_count",
        "following_count",
        "likes_count",
        "video_count",
    ]
    profile = fields_for_scopes(["user.info.profile"])
    assert set(profile) == {
        "bio_description",
        "profile_deep_link",
        "is_verified",
        "username",
        "profile_web_link",
    }
    assert fields_for_scopes([]) == []
