"""The TikTok client's publishing calls against TikTok faked at the HTTP transport (pytest-httpx).

Request shapes (paths, JSON bodies, upload headers, the streamed chunk), the translation of every
answer, and what is never repeated: inits (a repeat could post twice) and chunks (the body
iterator is consumed). The upload URL is a credential: no error or log line may carry it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from pytest_httpx import HTTPXMock

from shared import errors, logs
from shared.tiktok.client import InitResult, TikTokClient, make_http_client
from shared.tiktok.models import uploaded_from_content_range

API = "https://open.tiktokapis.com"
VIDEO_INIT = f"{API}/v2/post/publish/video/init/"
INBOX_INIT = f"{API}/v2/post/publish/inbox/video/init/"
CONTENT_INIT = f"{API}/v2/post/publish/content/init/"
STATUS = f"{API}/v2/post/publish/status/fetch/"
UPLOAD = "https://open-upload.tiktokapis.com/video/?upload_id=67890&upload_token=Xza123secretUp"
LOG_ID = "202206221854370101130062072500FFA2"
TOKEN = "act.token1234567890"
PLAN = {
    "source": "FILE_UPLOAD",
    "video_size": 50000123,
    "chunk_size": 10000000,
    "total_chunk_count": 5,
}
POST_INFO = {"privacy_level": "SELF_ONLY", "title": "a #cat", "brand_content_toggle": False}


def envelope(data: dict[str, Any] | None = None, code: str = "ok", message: str = "") -> Any:
    return {"data": data or {}, "error": {"code": code, "message": message, "log_id": LOG_ID}}


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def client(sleeps: list[float]) -> Iterator[TikTokClient]:
    with make_http_client(API) as http:
        yield TikTokClient(
            http,
            client_key="aw123client",
            client_secret="s3cret-client-secret-value",
            redirect_uri="https://app.example.com/api/tiktok/callback",
            auth_url="https://www.tiktok.com/v2/auth/authorize/",
            sleep=sleeps.append,
        )


def sent_json(httpx_mock: HTTPXMock) -> Any:
    [request] = httpx_mock.get_requests()
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert request.headers["Content-Type"] == "application/json; charset=UTF-8"
    return json.loads(request.content)


# Init: request shapes -------------------------------------------------------------------------


def test_init_video_direct_shape_and_masked_upload_url(
    client: TikTokClient, httpx_mock: HTTPXMock
) -> None:
    answer = {"publish_id": "v_pub_file~v2-1.123456789", "upload_url": UPLOAD}
    httpx_mock.add_response(url=VIDEO_INIT, method="POST", json=envelope(answer))
    result = client.init_video_direct(TOKEN, post_info=POST_INFO, source_info=PLAN)
    assert result == InitResult(publish_id="v_pub_file~v2-1.123456789", upload_url=UPLOAD)
    assert sent_json(httpx_mock) == {"post_info": POST_INFO, "source_info": PLAN}
    for text in (repr(result), str(result)):
        assert "Xza123secretUp" not in text
        assert "v_pub_file~v2-1.123456789" in text
    assert "Xza123secretUp" not in logs.redact(f"saw {UPLOAD}")


def test_init_video_inbox_sends_only_source_info(
    client: TikTokClient, httpx_mock: HTTPXMock
) -> None:
    source = {"source": "PULL_FROM_URL", "video_url": "https://media.example.com/v/a.mp4"}
    httpx_mock.add_response(url=INBOX_INIT, json=envelope({"publish_id": "v_inbox_url~v2.1"}))
    result = client.init_video_inbox(TOKEN, source_info=source)
    assert result == InitResult(publish_id="v_inbox_url~v2.1", upload_url=None)
    assert sent_json(httpx_mock) == {"source_info": source}


@pytest.mark.parametrize("is_aigc", [None, True])
def test_init_photo_shape(
    client: TikTokClient, httpx_mock: HTTPXMock, is_aigc: bool | None
) -> None:
    source = {
        "source": "PULL_FROM_URL",
        "photo_images": ["https://media.example.com/p/1.jpg", "https://media.example.com/p/2.jpg"],
        "photo_cover_index": 1,
    }
    httpx_mock.add_response(url=CONTENT_INIT, json=envelope({"publish_id": "p_pub_url~v2.1"}))
    result = client.init_photo(
        TOKEN, post_mode="DIRECT_POST", post_info=POST_INFO, source_info=source, is_aigc=is_aigc
    )
    assert result.publish_id == "p_pub_url~v2.1"
    expected: dict[str, Any] = {
        "media_type": "PHOTO",
        "post_mode": "DIRECT_POST",
        "post_info": POST_INFO,
        "source_info": source,
    }
    if is_aigc is not None:
        expected["is_aigc"] = is_aigc
    assert sent_json(httpx_mock) == expected


def test_file_upload_answer_without_upload_url_is_malformed(
    client: TikTokClient, httpx_mock: HTTPXMock
) -> None:
    httpx_mock.add_response(url=VIDEO_INIT, json=envelope({"publish_id": "v_pub_file~v2-1.1"}))
    with pytest.raises(errors.Unavailable) as caught:
        client.init_video_direct(TOKEN, post_info=POST_INFO, source_info=PLAN)
    assert caught.value.reason == "tiktok.malformed_response"


# Init: never repeated --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("failure", "error", "reason"),
    [
        (httpx.ReadTimeout("slow"), errors.DeadlineExceeded, "tiktok.init_outcome_unknown"),
        (httpx.WriteTimeout("slow"), errors.DeadlineExceeded, "tiktok.init_outcome_unknown"),
        (httpx.RemoteProtocolError("gone"), errors.Unavailable, "tiktok.init_outcome_unknown"),
        (httpx.ReadError("reset"), errors.Unavailable, "tiktok.init_outcome_unknown"),
        (httpx.ConnectError("refused"), errors.Unavailable, "tiktok.unreachable"),
        ({"status_code": 500, "json": envelope(code="internal_error")}, errors.Unavailable, None),
        ({"status_code": 503, "text": "busy"}, errors.Unavailable, "tiktok.server_error"),
        (
            {"status_code": 504, "text": "<html>"},
            errors.DeadlineExceeded,
            "tiktok.init_outcome_unknown",
        ),
        (
            {"status_code": 429, "json": envelope(code="rate_limit_exceeded")},
            errors.ResourceExhausted,
            "tiktok.rate_limit_exceeded",
        ),
    ],
)
def test_init_is_sent_once(
    client: TikTokClient,
    httpx_mock: HTTPXMock,
    sleeps: list[float],
    failure: Any,
    error: type[errors.AppError],
    reason: str | None,
) -> None:
    if isinstance(failure, Exception):
        httpx_mock.add_exception(failure, url=VIDEO_INIT)
    else:
        httpx_mock.add_response(url=VIDEO_INIT, **failure)
    with pytest.raises(error) as caught:
        client.init_video_direct(TOKEN, post_info=POST_INFO, source_info=PLAN)
    assert caught.value.reason == (reason or "tiktok.internal_error")
    assert len(httpx_mock.get_requests()) == 1
    assert sleeps == []


@pytest.mark.parametrize("code", ["invalid_param", "invalid_params"])
def test_refused_plan_carries_plan_message_and_log_id(
    client: TikTokClient, httpx_mock: HTTPXMock, code: str
) -> None:
    body = envelope(code=code, message="The chunk size is invalid")
    httpx_mock.add_response(url=VIDEO_INIT, status_code=400, json=body)
    with pytest.raises(errors.InvalidArgument) as caught:
        client.init_video_direct(TOKEN, post_info=POST_INFO, source_info=PLAN)
    assert caught.value.reason == f"tiktok.{code}"
    assert caught.value.details == {
        "log_id": LOG_ID,
        "video_size": 50000123,
        "chunk_size": 10000000,
        "total_chunk_count": 5,
        "tiktok_message": "The chunk size is invalid",
    }


def test_other_refusals_keep_their_class_and_no_plan(
    client: TikTokClient, httpx_mock: HTTPXMock
) -> None:
    body = envelope(code="privacy_level_option_mismatch")
    httpx_mock.add_response(url=VIDEO_INIT, status_code=403, json=body)
    with pytest.raises(errors.InvalidArgument) as caught:
        client.init_video_direct(TOKEN, post_info=POST_INFO, source_info=PLAN)
    assert caught.value.reason == "tiktok.privacy_level_option_mismatch"
    assert caught.value.details == {"log_id": LOG_ID}


# Chunk upload -------------------------------------------------------------------------------------


class OnceIterable:
    """A chunk source that fails the test if read twice."""

    def __init__(self, pieces: list[bytes]) -> None:
        self.pieces = pieces
        self.reads = 0

    def __iter__(self) -> Iterator[bytes]:
        self.reads += 1
        assert self.reads == 1, "the chunk was read twice"
        yield from self.pieces


def upload(client: TikTokClient, chunk: Any = None, url: str = UPLOAD) -> Any:
    return client.upload_chunk(
        url,
        chunk if chunk is not None else [b"a" * 6, b"b" * 4],
        first_byte=10,
        last_byte=19,
        total_bytes=30,
    )


def test_upload_chunk_request_shape(client: TikTokClient, httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(
        url=UPLOAD, method="PUT", status_code=206, headers={"Content-Range": "bytes 0-19/30"}
    )
    chunk = OnceIterable([b"a" * 6, b"b" * 4])
    assert upload(client, chunk).uploaded_bytes == 20
    assert chunk.reads == 1
    [request] = httpx_mock.get_requests()
    assert str(request.url) == UPLOAD  # the whole URL, query included, not the API base
    assert request.headers["Content-Type"] == "video/mp4"
    assert request.headers["Content-Length"] == "10"
    assert request.headers["Content-Range"] == "bytes 10-19/30"
    assert "Transfer-Encoding" not in request.headers
    assert "Authorization" not in request.headers
    assert request.content == b"a" * 6 + b"b" * 4


def test_last_chunk_answers_201(client: TikTokClient, httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(url=UPLOAD, status_code=201, headers={"Content-Range": "bytes 0-29/30"})
    ack = upload(client)
    assert (ack.complete, ack.uploaded_bytes) == (True, 30)


def test_206_without_progress_header_counts_the_chunk(
    client: TikTokClient, httpx_mock: HTTPXMock
) -> None:
    httpx_mock.add_response(url=UPLOAD, status_code=206)
    assert upload(client).uploaded_bytes == 20


@pytest.mark.parametrize(
    ("status", "headers", "error", "reason", "details"),
    [
        (
            416,
            {"Content-Range": "bytes 0-19/30"},
            errors.FailedPrecondition,
            "upload_range_mismatch",
            {"uploaded_bytes": 20},
        ),
        (
            416,
            {"Content-Range": "bytes */30"},
            errors.FailedPrecondition,
            "upload_range_mismatch",
            {"uploaded_bytes": 0},
        ),
        (416, {}, errors.FailedPrecondition, "upload_range_mismatch", {}),
        (400, {}, errors.InvalidArgument, "upload_rejected", {}),
        (403, {}, errors.FailedPrecondition, "upload_url_expired", {}),
        (404, {}, errors.NotFound, "upload_task_not_found", {}),
        (500, {}, errors.Unavailable, "server_error", {}),
    ],
)
def test_upload_answers_are_translated_and_sent_once(
    client: TikTokClient,
    httpx_mock: HTTPXMock,
    sleeps: list[float],
    caplog: pytest.LogCaptureFixture,
    status: int,
    headers: dict[str, str],
    error: type[errors.AppError],
    reason: str,
    details: dict[str, Any],
) -> None:
    httpx_mock.add_response(url=UPLOAD, status_code=status, headers=headers)
    with caplog.at_level(logging.WARNING), pytest.raises(error) as caught:
        upload(client)
    assert caught.value.reason == f"tiktok.{reason}"
    assert caught.value.details == details
    assert len(httpx_mock.get_requests()) == 1
    assert sleeps == []
    for text in (str(caught.value), repr(caught.value.details), caplog.text):
        assert "open-upload" not in text
        assert "Xza123secretUp" not in text
    if status == 403:
        assert "1 hour" in caught.value.message


def test_upload_timeout_is_not_repeated(client: TikTokClient, httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_exception(httpx.WriteTimeout("slow"), url=UPLOAD)
    with pytest.raises(errors.DeadlineExceeded) as caught:
        upload(client)
    assert "open-upload" not in str(caught.value)
    assert len(httpx_mock.get_requests()) == 1


@pytest.mark.parametrize(
    "url", ["http://open-upload.tiktokapis.com/video/?upload_token=Xza123secretUp", "ftp://x/y"]
)
def test_plain_http_upload_host_is_refused(client: TikTokClient, url: str) -> None:
    with pytest.raises(errors.InvalidArgument) as caught:
        upload(client, url=url)
    assert "Xza123secretUp" not in str(caught.value)


def test_loopback_http_upload_is_allowed(client: TikTokClient, httpx_mock: HTTPXMock) -> None:
    url = "http://127.0.0.1:9199/upload/?upload_id=1&upload_token=t0ken-value-1"
    httpx_mock.add_response(url=url, status_code=201)
    assert upload(client, url=url).complete


@pytest.mark.parametrize("pieces", [[b"a" * 9], [b"a" * 11]])
def test_chunk_length_must_match_the_range(
    client: TikTokClient, httpx_mock: HTTPXMock, pieces: list[bytes]
) -> None:
    httpx_mock.add_response(url=UPLOAD, status_code=206, is_optional=True)
    with pytest.raises(errors.InvalidArgument) as caught:
        upload(client, pieces)
    assert caught.value.reason == "tiktok.chunk_length_mismatch"


@pytest.mark.parametrize(("first", "last", "total"), [(5, 4, 10), (0, 10, 10), (-1, 3, 10)])
def test_bad_ranges_are_refused_before_sending(
    client: TikTokClient, first: int, last: int, total: int
) -> None:
    with pytest.raises(errors.InvalidArgument):
        client.upload_chunk(UPLOAD, [b""], first_byte=first, last_byte=last, total_bytes=total)


def test_progress_header_parsing() -> None:
    assert uploaded_from_content_range("bytes 0-9999999/50000123") == 10_000_000
    assert uploaded_from_content_range("bytes */50000123") == 0
    assert uploaded_from_content_range(None) is None
    assert uploaded_from_content_range("garbage") is None


# Status --------------------------------------------------------------------------------------


def test_fetch_status_keeps_post_ids_as_strings(
    client: TikTokClient, httpx_mock: HTTPXMock
) -> None:
    big = 2**53 + 1  # a double would round it to 2**53
    raw = (
        f'{{"data": {{"status": "PUBLISH_COMPLETE", "publicaly_available_post_id": [{big}, '
        '7300000000000000001], "uploaded_bytes": 50000123}, '
        '"error": {"code": "ok", "message": "", "log_id": "x"}}'
    )
    httpx_mock.add_response(url=STATUS, method="POST", content=raw.encode())
    status = client.fetch_status(TOKEN, "v_pub_file~v2-1.1")
    assert status == {
        "status": "PUBLISH_COMPLETE",
        "post_ids": [str(big), "7300000000000000001"],
        "uploaded_bytes": 50000123,
    }
    assert sent_json(httpx_mock) == {"publish_id": "v_pub_file~v2-1.1"}


def test_fetch_status_failed_and_retried_as_a_read(
    client: TikTokClient, httpx_mock: HTTPXMock, sleeps: list[float]
) -> None:
    httpx_mock.add_response(url=STATUS, status_code=500, json=envelope(code="internal_error"))
    failed = {"status": "FAILED", "fail_reason": "video_pull_failed", "downloaded_bytes": 0}
    httpx_mock.add_response(url=STATUS, json=envelope(failed))
    assert client.fetch_status(TOKEN, "v_pub_url~v2.1") == failed
    assert len(sleeps) == 1


@pytest.mark.parametrize(
    ("code", "error"),
    [
        ("invalid_publish_id", errors.NotFound),
        ("token_not_authorized_for_specified_publish_id", errors.PermissionDenied),
    ],
)
def test_fetch_status_errors(
    client: TikTokClient, httpx_mock: HTTPXMock, code: str, error: type[errors.AppError]
) -> None:
    httpx_mock.add_response(url=STATUS, status_code=400, json=envelope(code=code))
    with pytest.raises(error) as caught:
        client.fetch_status(TOKEN, "nope")
    assert caught.value.reason == f"tiktok.{code}"


def test_float_post_id_is_malformed(client: TikTokClient, httpx_mock: HTTPXMock) -> None:
    data = {"status": "PUBLISH_COMPLETE", "publicaly_available_post_id": [7.3e18]}
    httpx_mock.add_response(url=STATUS, json=envelope(data))
    with pytest.raises(errors.Unavailable) as caught:
        client.fetch_status(TOKEN, "v_pub_file~v2-1.1")
    assert caught.value.reason == "tiktok.malformed_response"


# Cancel --------------------------------------------------------------------------------------

CANCEL = f"{API}/v2/post/publish/cancel/"


def test_cancel_sends_the_publish_id_and_reads_the_ok_envelope(
    client: TikTokClient, httpx_mock: HTTPXMock
) -> None:
    httpx_mock.add_response(url=CANCEL, method="POST", json=envelope())
    client.cancel_publish(TOKEN, "v_pub_file~v2-1.1")
    assert sent_json(httpx_mock) == {"publish_id": "v_pub_file~v2-1.1"}


@pytest.mark.parametrize(
    ("status", "code", "error"),
    [
        (400, "publish_not_cancellable", errors.FailedPrecondition),
        (400, "invalid_publish_id", errors.NotFound),
        (400, "token_not_authorized_for_specified_publish_id", errors.PermissionDenied),
        (403, "url_ownership_unverified", errors.FailedPrecondition),
        (401, "access_token_invalid", errors.FailedPrecondition),
        (401, "scope_not_authorized", errors.PermissionDenied),
    ],
)
def test_cancel_errors_are_translated(
    client: TikTokClient,
    httpx_mock: HTTPXMock,
    status: int,
    code: str,
    error: type[errors.AppError],
) -> None:
    httpx_mock.add_response(url=CANCEL, status_code=status, json=envelope(code=code))
    with pytest.raises(error) as caught:
        client.cancel_publish(TOKEN, "v_pub_url~v2.1")
    assert caught.value.reason == f"tiktok.{code}"


def test_cancel_is_retried_after_a_server_error(
    client: TikTokClient, httpx_mock: HTTPXMock, sleeps: list[float]
) -> None:
    httpx_mock.add_response(url=CANCEL, status_code=500, json=envelope(code="internal_error"))
    httpx_mock.add_response(url=CANCEL, json=envelope())
    client.cancel_publish(TOKEN, "v_pub_url~v2.1")
    assert len(sleeps) == 1
