"""The real TikTok client's publishing calls against the fake TikTok running as its own process.

Proves both follow docs/tiktok-api.md §3.2-3.6, §4.3-4.4 and §7: a chunked FILE_UPLOAD that TikTok
receives byte for byte (SHA-256 checked) and publishes, every init refusal, out-of-order and
expired uploads, PULL_FROM_URL from a loopback media server, photos, inbox uploads, the init rate
limit and status errors. The fake's clock is moved instead of sleeping.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from shared import errors
from shared.tiktok.client import ChunkAck, InitResult, TikTokClient, make_http_client
from tests.integration.fake_app import client_for, running_fake
from tests.media_server import MediaServer, media_pieces, media_sha256

SCOPES = ["user.info.basic", "video.publish", "video.upload"]
MB = 1_000_000


@pytest.fixture(scope="module")
def fake_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_fake(tmp_path_factory.mktemp("fake-tiktok-publish")) as url:
        yield url


@pytest.fixture(scope="module")
def media() -> Iterator[MediaServer]:
    with MediaServer() as server:
        yield server


@pytest.fixture
def control(fake_url: str, media: MediaServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=f"{fake_url}/_control", timeout=10) as http:
        http.post("/reset").raise_for_status()
        http.post(
            "/config",
            json={"verified_url_prefixes": [f"{media.base}/media/"], "processing_seconds": 0.2},
        ).raise_for_status()
        yield http


@pytest.fixture
def tiktok(fake_url: str, control: httpx.Client) -> Iterator[TikTokClient]:
    with make_http_client(fake_url) as http:
        yield client_for(http, fake_url)


@pytest.fixture
def creator(tiktok: TikTokClient, control: httpx.Client) -> Callable[..., str]:
    """A connected creator's access token; keyword arguments are the fake user's fields."""

    def make(scopes: list[str] = SCOPES, **fields: Any) -> str:
        user = control.post("/users", json={"display_name": "Ann", **fields})
        user.raise_for_status()
        code = control.post("/codes", json={"open_id": user.json()["open_id"], "scopes": scopes})
        code.raise_for_status()
        return tiktok.exchange_code(code.json()["code"]).access_token

    return make


def plan(size: int, chunk: int) -> dict[str, Any]:
    return {
        "source": "FILE_UPLOAD",
        "video_size": size,
        "chunk_size": chunk,
        "total_chunk_count": size // chunk,
    }


def upload_all(
    tiktok: TikTokClient, init: InitResult, size: int, chunk: int, name: str
) -> list[ChunkAck]:
    assert init.upload_url is not None
    acks = []
    count = size // chunk
    for index in range(count):
        first = index * chunk
        last = size - 1 if index == count - 1 else first + chunk - 1
        acks.append(
            tiktok.upload_chunk(
                init.upload_url,
                media_pieces(name, first, last),
                first_byte=first,
                last_byte=last,
                total_bytes=size,
            )
        )
    return acks


def wait_for(check: Callable[[], bool], timeout: float = 10.0) -> None:
    """Poll a background effect (a real download) with a deadline, never a fixed sleep."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def publish_view(control: httpx.Client, publish_id: str) -> dict[str, Any]:
    response = control.get(f"/publishes/{publish_id}")
    response.raise_for_status()
    view: dict[str, Any] = response.json()
    return view


DIRECT = {"privacy_level": "PUBLIC_TO_EVERYONE", "title": "a #cat", "brand_content_toggle": False}


# FILE_UPLOAD ------------------------------------------------------------------------------------


def test_thirty_megabytes_in_three_chunks_is_published(
    tiktok: TikTokClient, control: httpx.Client, creator: Callable[..., str]
) -> None:
    token = creator()
    size, chunk = 30 * MB + 123, 10 * MB
    init = tiktok.init_video_direct(token, post_info=DIRECT, source_info=plan(size, chunk))
    assert init.publish_id.startswith("v_pub_file~v2-1.")
    assert "upload_token" not in repr(init)
    acks = upload_all(tiktok, init, size, chunk, "clip.mp4")
    assert [(a.complete, a.uploaded_bytes) for a in acks] == [
        (False, 10 * MB),
        (False, 20 * MB),
        (True, size),
    ]
    status = tiktok.fetch_status(token, init.publish_id)
    assert status["status"] == "PROCESSING_UPLOAD"
    assert status["uploaded_bytes"] == size
    control.post("/advance", json={"seconds": 1}).raise_for_status()
    done = tiktok.fetch_status(token, init.publish_id)
    assert done["status"] == "PUBLISH_COMPLETE"
    [post_id] = done["post_ids"]
    assert isinstance(post_id, str)
    assert int(post_id) > 2**53
    view = publish_view(control, init.publish_id)
    assert view["sha256"] == media_sha256(size, "clip.mp4")
    assert (view["chunks_received"], view["received_bytes"]) == (3, size)
    assert [h["status"] for h in view["history"]] == ["PROCESSING_UPLOAD", "PUBLISH_COMPLETE"]
    assert len(control.get("/publishes").json()["publishes"]) == 1  # posted once


def test_out_of_order_and_repeated_chunks_get_416_with_progress(
    tiktok: TikTokClient, creator: Callable[..., str]
) -> None:
    token = creator()
    size, chunk = 10 * MB + 7, 5 * MB
    init = tiktok.init_video_direct(token, post_info=DIRECT, source_info=plan(size, chunk))
    assert init.upload_url is not None

    def send(first: int, last: int) -> Any:
        return tiktok.upload_chunk(
            init.upload_url,  # type: ignore[arg-type]
            media_pieces("o.mp4", first, last),
            first_byte=first,
            last_byte=last,
            total_bytes=size,
        )

    with pytest.raises(errors.FailedPrecondition) as early:
        send(chunk, size - 1)
    assert early.value.reason == "tiktok.upload_range_mismatch"
    assert early.value.details["uploaded_bytes"] == 0
    assert send(0, chunk - 1).uploaded_bytes == chunk
    with pytest.raises(errors.FailedPrecondition) as again:
        send(0, chunk - 1)  # TikTok already holds this chunk: the caller can tell
    assert again.value.details["uploaded_bytes"] == chunk
    assert init.upload_url not in str(again.value) + repr(again.value.details)
    assert send(chunk, size - 1).complete


def test_expired_and_unknown_upload_urls(
    tiktok: TikTokClient, control: httpx.Client, creator: Callable[..., str]
) -> None:
    token = creator()
    init = tiktok.init_video_inbox(token, source_info=plan(MB, MB))
    assert init.publish_id.startswith("v_inbox_file~v2.")
    assert init.upload_url is not None
    forged = init.upload_url.replace("upload_token=", "upload_token=x")
    with pytest.raises(errors.NotFound) as unknown:
        tiktok.upload_chunk(forged, [b"\0" * MB], first_byte=0, last_byte=MB - 1, total_bytes=MB)
    assert unknown.value.reason == "tiktok.upload_task_not_found"
    control.post("/advance", json={"seconds": 3601}).raise_for_status()
    with pytest.raises(errors.FailedPrecondition) as expired:
        tiktok.upload_chunk(
            init.upload_url, [b"\0" * MB], first_byte=0, last_byte=MB - 1, total_bytes=MB
        )
    assert expired.value.reason == "tiktok.upload_url_expired"
    assert "1 hour" in expired.value.message


def test_fake_refuses_bad_upload_headers(tiktok: TikTokClient, creator: Callable[..., str]) -> None:
    """Headers the client never sends, checked on the wire."""
    token = creator()
    init = tiktok.init_video_inbox(token, source_info=plan(MB, MB))
    assert init.upload_url is not None
    base = {"Content-Range": f"bytes 0-{MB - 1}/{MB}"}
    wrong_type = httpx.put(
        init.upload_url, content=b"\0" * MB, headers={**base, "Content-Type": "image/png"}
    )
    assert wrong_type.status_code == 400
    short = httpx.put(
        init.upload_url, content=b"\0" * 10, headers={**base, "Content-Type": "video/mp4"}
    )
    assert short.status_code == 400
    ok = httpx.put(
        init.upload_url, content=b"\0" * MB, headers={**base, "Content-Type": "video/mp4"}
    )
    assert ok.status_code == 201
    assert ok.headers["Content-Range"] == f"bytes 0-{MB - 1}/{MB}"


def test_inbox_upload_ends_in_the_inbox(
    tiktok: TikTokClient, control: httpx.Client, creator: Callable[..., str]
) -> None:
    token = creator()
    init = tiktok.init_video_inbox(token, source_info=plan(3 * MB, 3 * MB))
    [ack] = upload_all(tiktok, init, 3 * MB, 3 * MB, "inbox.mp4")
    assert ack.complete
    control.post("/advance", json={"seconds": 1}).raise_for_status()
    status = tiktok.fetch_status(token, init.publish_id)
    assert status["status"] == "SEND_TO_USER_INBOX"
    assert status.get("post_ids") == []


# Init refusals, each once -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source_info", "message"),
    [
        (plan(30 * MB, 4 * MB), "chunk size"),  # chunk under 5 MB
        ({**plan(30 * MB, 10 * MB), "total_chunk_count": 4}, "floor"),
        ({**plan(30 * MB, 10 * MB), "video_size": str(30 * MB)}, "integer"),
        (plan(100 * MB, 64 * MB), "several chunks"),  # over 64 MB in one chunk
        (plan(4 * MB, 2 * MB), "under 5 MB"),
        (plan(300 * MB, 5 * MB) | {"video_size": 5_001 * MB}, "video_size"),
        ({"source": "URL", "video_url": "https://x.example/a.mp4"}, "source"),
    ],
)
def test_refused_plans_carry_the_plan(
    tiktok: TikTokClient, creator: Callable[..., str], source_info: dict[str, Any], message: str
) -> None:
    token = creator()
    with pytest.raises(errors.InvalidArgument) as caught:
        tiktok.init_video_direct(token, post_info=DIRECT, source_info=source_info)
    assert caught.value.reason == "tiktok.invalid_param"
    assert message in caught.value.message
    assert caught.value.details["log_id"]
    if source_info["source"] == "FILE_UPLOAD":
        assert caught.value.details["video_size"] == source_info["video_size"]
        assert caught.value.details["total_chunk_count"] == source_info["total_chunk_count"]
        assert caught.value.details["tiktok_message"] == caught.value.message


def test_last_chunk_may_carry_the_remainder(
    tiktok: TikTokClient, creator: Callable[..., str]
) -> None:
    # 10 chunks of 5 MB and a last chunk of 9.99 MB: accepted.
    init = tiktok.init_video_direct(
        creator(),
        post_info=DIRECT,
        source_info=plan(59_990_000, 5 * MB) | {"total_chunk_count": 11},
    )
    assert init.upload_url


@pytest.mark.parametrize(
    ("post_info", "fields", "error", "reason"),
    [
        ({"title": "no privacy"}, {}, errors.InvalidArgument, "privacy_level_option_mismatch"),
        (DIRECT, {"private": True}, errors.InvalidArgument, "privacy_level_option_mismatch"),
        (DIRECT | {"title": "😀" * 1100 + "x"}, {}, errors.InvalidArgument, "invalid_param"),
        (DIRECT | {"disable_duet": "no"}, {}, errors.InvalidArgument, "invalid_param"),
        (DIRECT, {"spam": "spam_risk_user_banned_from_posting"}, errors.PermissionDenied, None),
    ],
)
def test_direct_post_refusals(
    tiktok: TikTokClient,
    creator: Callable[..., str],
    post_info: dict[str, Any],
    fields: dict[str, Any],
    error: type[errors.AppError],
    reason: str | None,
) -> None:
    token = creator(**fields)
    with pytest.raises(error) as caught:
        tiktok.init_video_direct(token, post_info=post_info, source_info=plan(MB, MB))
    assert caught.value.reason == f"tiktok.{reason or fields.get('spam')}"


def test_title_of_exactly_2200_utf16_units_is_accepted(
    tiktok: TikTokClient, creator: Callable[..., str]
) -> None:
    post_info = DIRECT | {"title": "😀" * 1100}
    assert tiktok.init_video_direct(creator(), post_info=post_info, source_info=plan(MB, MB))


def test_unaudited_client_and_caps(
    tiktok: TikTokClient, control: httpx.Client, creator: Callable[..., str]
) -> None:
    # Tokens outlive the day this test skips.
    control.post("/config", json={"audited": False, "access_expires_in": 2 * 86400})
    with pytest.raises(errors.FailedPrecondition) as public:
        tiktok.init_video_direct(creator(), post_info=DIRECT, source_info=plan(MB, MB))
    assert public.value.reason == "tiktok.unaudited_client_can_only_post_to_private_accounts"
    private = creator(private=True)
    self_only = {"privacy_level": "SELF_ONLY"}
    tiktok.init_video_direct(private, post_info=self_only, source_info=plan(MB, MB))
    control.post("/config", json={"audited": True, "daily_post_cap": 1}).raise_for_status()
    with pytest.raises(errors.FailedPrecondition) as capped:
        tiktok.init_video_direct(private, post_info=self_only, source_info=plan(MB, MB))
    assert capped.value.reason == "tiktok.spam_risk_too_many_posts"
    control.post("/advance", json={"seconds": 86401}).raise_for_status()  # a day later
    tiktok.init_video_direct(private, post_info=self_only, source_info=plan(MB, MB))


def test_creator_info_tells_a_creator_at_the_daily_cap_they_cannot_post(
    tiktok: TikTokClient, control: httpx.Client, creator: Callable[..., str]
) -> None:
    """TikTok answers creator info with HTTP 200 and spam_risk_too_many_posts once the creator
    reached the cap (docs/tiktok-api.md §3.1, §4.4), not only the next init."""
    control.post("/config", json={"daily_post_cap": 2, "access_expires_in": 2 * 86400})
    token, other = creator(), creator()
    for _ in range(2):
        assert tiktok.creator_info(token)["privacy_level_options"]
        tiktok.init_video_direct(token, post_info=DIRECT, source_info=plan(MB, MB))
    with pytest.raises(errors.FailedPrecondition) as told:
        tiktok.creator_info(token)
    assert told.value.reason == "tiktok.spam_risk_too_many_posts"
    with pytest.raises(errors.FailedPrecondition) as refused:
        tiktok.init_video_direct(token, post_info=DIRECT, source_info=plan(MB, MB))
    assert refused.value.reason == "tiktok.spam_risk_too_many_posts"
    assert tiktok.creator_info(other)["privacy_level_options"]  # the cap is per creator
    tiktok.init_video_inbox(token, source_info=plan(MB, MB))  # drafts are not Direct Posts
    control.post("/advance", json={"seconds": 86401}).raise_for_status()  # a day later
    assert tiktok.creator_info(token)["privacy_level_options"]


def test_creator_info_tells_an_unaudited_apps_extra_creator_the_app_is_at_its_cap(
    tiktok: TikTokClient, control: httpx.Client, creator: Callable[..., str]
) -> None:
    control.post("/config", json={"audited": False, "unaudited_user_cap": 1})
    first, second = creator(private=True), creator(private=True)
    self_only = {"privacy_level": "SELF_ONLY"}
    tiktok.init_video_direct(first, post_info=self_only, source_info=plan(MB, MB))
    assert tiktok.creator_info(first)["privacy_level_options"]  # already among the day's
    with pytest.raises(errors.FailedPrecondition) as told:
        tiktok.creator_info(second)
    assert told.value.reason == "tiktok.reached_active_user_cap"


def test_pending_share_cap(tiktok: TikTokClient, creator: Callable[..., str]) -> None:
    token = creator()
    for _ in range(5):
        tiktok.init_video_inbox(token, source_info=plan(MB, MB))
    with pytest.raises(errors.FailedPrecondition) as caught:
        tiktok.init_video_inbox(token, source_info=plan(MB, MB))
    assert caught.value.reason == "tiktok.spam_risk_too_many_pending_share"


def test_inbox_needs_video_upload_scope(tiktok: TikTokClient, creator: Callable[..., str]) -> None:
    token = creator(scopes=["user.info.basic", "video.publish"])
    with pytest.raises(errors.PermissionDenied) as caught:
        tiktok.init_video_inbox(token, source_info=plan(MB, MB))
    assert caught.value.reason == "tiktok.scope_not_authorized"


def test_seventh_init_in_a_minute_is_rate_limited(
    tiktok: TikTokClient, control: httpx.Client, creator: Callable[..., str]
) -> None:
    token = creator()
    for _ in range(6):
        tiktok.init_video_direct(token, post_info=DIRECT, source_info=plan(MB, MB))
    with pytest.raises(errors.ResourceExhausted) as caught:
        tiktok.init_video_direct(token, post_info=DIRECT, source_info=plan(MB, MB))
    assert caught.value.reason == "tiktok.rate_limit_exceeded"
    assert caught.value.retry_after
    assert control.get("/calls").json()["counts"]["video_init"] == 7  # never repeated


def test_the_init_window_slides_on_the_fakes_clock(
    tiktok: TikTokClient, control: httpx.Client, creator: Callable[..., str]
) -> None:
    token = creator()
    for _ in range(6):
        tiktok.init_video_direct(token, post_info=DIRECT, source_info=plan(MB, MB))
    control.post("/advance", json={"seconds": 59}).raise_for_status()
    with pytest.raises(errors.ResourceExhausted):
        tiktok.init_video_direct(token, post_info=DIRECT, source_info=plan(MB, MB))
    control.post("/advance", json={"seconds": 2}).raise_for_status()

    tiktok.init_video_direct(token, post_info=DIRECT, source_info=plan(MB, MB))  # the next minute
    other = creator()  # per token: another creator's inits are not counted
    tiktok.init_video_direct(other, post_info=DIRECT, source_info=plan(MB, MB))


# PULL_FROM_URL and photos -------------------------------------------------------------------------


def test_pull_from_url_downloads_and_publishes(
    tiktok: TikTokClient, control: httpx.Client, creator: Callable[..., str], media: MediaServer
) -> None:
    token = creator()
    size = 3 * MB + 1
    source = {"source": "PULL_FROM_URL", "video_url": media.url(size, "pulled.mp4")}
    init = tiktok.init_video_direct(token, post_info=DIRECT, source_info=source)
    assert init.publish_id.startswith("v_pub_url~v2.")
    assert init.upload_url is None
    wait_for(lambda: publish_view(control, init.publish_id)["status"] == "PUBLISH_COMPLETE")
    view = publish_view(control, init.publish_id)
    assert view["history"][0]["status"] == "PROCESSING_DOWNLOAD"
    assert view["downloaded_bytes"] == size
    assert view["sha256"] == media_sha256(size, "pulled.mp4")
    status = tiktok.fetch_status(token, init.publish_id)
    assert (status["status"], status["downloaded_bytes"]) == ("PUBLISH_COMPLETE", size)


def test_pull_refusals_and_redirect(
    tiktok: TikTokClient, control: httpx.Client, creator: Callable[..., str], media: MediaServer
) -> None:
    token = creator()

    def pull(url: str) -> InitResult:
        source = {"source": "PULL_FROM_URL", "video_url": url}
        return tiktok.init_video_direct(token, post_info=DIRECT, source_info=source)

    with pytest.raises(errors.FailedPrecondition) as unverified:
        pull(media.url(MB, "x.mp4", kind="redirect"))  # not under the verified /media/ prefix
    assert unverified.value.reason == "tiktok.url_ownership_unverified"
    # The refusal says how to verify the URL on the fake, naming its origin but never its path.
    message = str(unverified.value)
    assert "POST /_control/config" in message
    assert f'{{"verified_url_prefixes": ["{media.base}/"]}}' in message
    assert "docs/fake-tiktok.md" in message
    assert "x.mp4" not in message
    with pytest.raises(errors.InvalidArgument) as plain:
        pull("http://media.example.com/media/1/x.mp4")
    assert plain.value.reason == "tiktok.invalid_param"
    prefixes = [f"{media.base}/"]
    control.post("/config", json={"verified_url_prefixes": prefixes}).raise_for_status()
    init = pull(media.url(MB, "x.mp4", kind="redirect"))
    wait_for(lambda: tiktok.fetch_status(token, init.publish_id)["status"] == "FAILED")
    status = tiktok.fetch_status(token, init.publish_id)
    assert status["fail_reason"] == "video_pull_failed"
    assert f"/media/{MB}/x.mp4" not in media.hits  # the redirect was not followed


def test_photo_direct_post_and_media_upload(
    tiktok: TikTokClient, control: httpx.Client, creator: Callable[..., str], media: MediaServer
) -> None:
    token = creator()
    images = [media.url(200_000, f"p{i}.jpg") for i in range(3)]
    source = {"source": "PULL_FROM_URL", "photo_images": images, "photo_cover_index": 1}
    direct = tiktok.init_photo(
        token,
        post_mode="DIRECT_POST",
        post_info={"title": "trip", "description": "day one", **DIRECT},
        source_info=source,
        is_aigc=False,
    )
    assert direct.publish_id.startswith("p_pub_url~v2.")
    inbox = tiktok.init_photo(token, post_mode="MEDIA_UPLOAD", post_info={}, source_info=source)
    for publish_id, final in (
        (direct.publish_id, "PUBLISH_COMPLETE"),
        (inbox.publish_id, "SEND_TO_USER_INBOX"),
    ):

        def reached(p: str = publish_id, f: str = final) -> bool:
            return tiktok.fetch_status(token, p)["status"] == f

        wait_for(reached)
        view = publish_view(control, publish_id)
        assert [d["bytes"] for d in view["downloads"]] == [200_000] * 3
        assert view["downloads"][1]["sha256"] == media_sha256(200_000, "p1.jpg")
    assert control.get("/calls").json()["last"]["content_init"]["body"]["media_type"] == "PHOTO"


def test_a_photo_that_cannot_be_pulled_says_which_where_from_and_how_to_fix_it(
    tiktok: TikTokClient, control: httpx.Client, creator: Callable[..., str], media: MediaServer
) -> None:
    token = creator()
    control.post("/config", json={"verified_url_prefixes": [f"{media.base}/"]}).raise_for_status()
    images = [media.url(200_000, "ok.jpg"), media.url(404, "gone.jpg", kind="status")]
    source = {"source": "PULL_FROM_URL", "photo_images": images, "photo_cover_index": 0}
    init = tiktok.init_photo(
        token, post_mode="DIRECT_POST", post_info=dict(DIRECT), source_info=source
    )
    wait_for(lambda: tiktok.fetch_status(token, init.publish_id)["status"] == "FAILED")
    assert tiktok.fetch_status(token, init.publish_id)["fail_reason"] == "photo_pull_failed"
    detail = publish_view(control, init.publish_id)["fail_detail"]
    assert detail.startswith("photo_pull_failed: the photo 2 of 2 could not be downloaded")
    assert f"from {media.base} (it answered HTTP 404)" in detail
    assert "answers 200 without a redirect" in detail
    assert "docs/fake-tiktok.md" in detail
    assert "gone.jpg" not in detail


@pytest.mark.parametrize(
    ("change", "post_mode"),
    [
        ({"photo_images": []}, "DIRECT_POST"),
        ({"photo_cover_index": 3}, "DIRECT_POST"),
        ({"source": "FILE_UPLOAD"}, "MEDIA_UPLOAD"),
        ({"title": "x" * 91}, "DIRECT_POST"),
    ],
)
def test_photo_refusals(
    tiktok: TikTokClient,
    creator: Callable[..., str],
    media: MediaServer,
    change: dict[str, Any],
    post_mode: str,
) -> None:
    source = {
        "source": "PULL_FROM_URL",
        "photo_images": [media.url(10, f"q{i}.jpg") for i in range(3)],
        "photo_cover_index": 0,
    }
    post_info = dict(DIRECT)
    if "title" in change:
        post_info["title"] = change["title"]
    else:
        source.update(change)
    with pytest.raises(errors.InvalidArgument) as caught:
        tiktok.init_photo(creator(), post_mode=post_mode, post_info=post_info, source_info=source)
    assert caught.value.reason == "tiktok.invalid_param"


def test_thirty_six_photos_are_refused(
    tiktok: TikTokClient, creator: Callable[..., str], media: MediaServer
) -> None:
    images = [media.url(10, f"r{i}.jpg") for i in range(36)]
    source = {"source": "PULL_FROM_URL", "photo_images": images, "photo_cover_index": 0}
    with pytest.raises(errors.InvalidArgument):
        tiktok.init_photo(creator(), post_mode="DIRECT_POST", post_info=DIRECT, source_info=source)


# Status -----------------------------------------------------------------------------------------


def test_status_errors_and_forced_failure(
    tiktok: TikTokClient, control: httpx.Client, creator: Callable[..., str]
) -> None:
    token, other = creator(), creator()
    with pytest.raises(errors.NotFound) as unknown:
        tiktok.fetch_status(token, "v_pub_file~v2-1.123")
    assert unknown.value.reason == "tiktok.invalid_publish_id"
    init = tiktok.init_video_direct(token, post_info=DIRECT, source_info=plan(MB, MB))
    with pytest.raises(errors.PermissionDenied) as foreign:
        tiktok.fetch_status(other, init.publish_id)
    assert foreign.value.reason == "tiktok.token_not_authorized_for_specified_publish_id"
    assert tiktok.fetch_status(token, init.publish_id) == {
        "status": "PROCESSING_UPLOAD",
        "post_ids": [],
        "uploaded_bytes": 0,
    }
    forced = control.post(f"/publish/{init.publish_id}/fail", json={"reason": "spam_risk_text"})
    assert forced.json()["status"] == "FAILED"
    status = tiktok.fetch_status(token, init.publish_id)
    assert (status["status"], status["fail_reason"]) == ("FAILED", "spam_risk_text")


# Cancel -----------------------------------------------------------------------------------------


def webhook_reasons(control: httpx.Client, publish_id: str) -> list[str]:
    import json

    reasons = []
    for delivery in control.get("/webhooks").json()["deliveries"]:
        content = json.loads(delivery["body"]["content"])
        if delivery["event"] == "post.publish.failed" and content["publish_id"] == publish_id:
            reasons.append(content["reason"])
    return reasons


def test_an_unfinished_upload_is_cancelled_and_its_url_stops_working(
    tiktok: TikTokClient, control: httpx.Client, creator: Callable[..., str]
) -> None:
    token = creator()
    size, chunk = 20 * MB, 10 * MB
    init = tiktok.init_video_direct(token, post_info=DIRECT, source_info=plan(size, chunk))
    assert init.upload_url is not None
    tiktok.upload_chunk(
        init.upload_url,
        media_pieces("c.mp4", 0, chunk - 1),
        first_byte=0,
        last_byte=chunk - 1,
        total_bytes=size,
    )
    tiktok.cancel_publish(token, init.publish_id)
    status = tiktok.fetch_status(token, init.publish_id)
    assert (status["status"], status["fail_reason"]) == ("FAILED", "publish_cancelled")
    assert webhook_reasons(control, init.publish_id) == ["publish_cancelled"]
    with pytest.raises(errors.NotFound):
        tiktok.upload_chunk(
            init.upload_url,
            media_pieces("c.mp4", chunk, size - 1),
            first_byte=chunk,
            last_byte=size - 1,
            total_bytes=size,
        )
    with pytest.raises(errors.FailedPrecondition) as again:
        tiktok.cancel_publish(token, init.publish_id)  # already final
    assert again.value.reason == "tiktok.publish_not_cancellable"
    assert control.get("/calls").json()["counts"]["cancel"] == 2


def test_a_publish_in_processing_or_final_cannot_be_cancelled(
    tiktok: TikTokClient, control: httpx.Client, creator: Callable[..., str]
) -> None:
    token = creator()
    control.post("/config", json={"processing_seconds": 3600}).raise_for_status()
    init = tiktok.init_video_direct(token, post_info=DIRECT, source_info=plan(MB, MB))
    assert init.upload_url is not None
    tiktok.upload_chunk(
        init.upload_url, media_pieces("d.mp4", 0, MB - 1), first_byte=0, last_byte=MB - 1,
        total_bytes=MB,
    )  # fmt: skip
    with pytest.raises(errors.FailedPrecondition) as processing:
        tiktok.cancel_publish(token, init.publish_id)
    assert processing.value.reason == "tiktok.publish_not_cancellable"
    assert tiktok.fetch_status(token, init.publish_id)["status"] == "PROCESSING_UPLOAD"


def test_a_pull_in_progress_is_cancelled(
    tiktok: TikTokClient, control: httpx.Client, creator: Callable[..., str], media: MediaServer
) -> None:
    token = creator()
    prefixes = [f"{media.base}/slow/"]
    control.post("/config", json={"verified_url_prefixes": prefixes}).raise_for_status()
    source = {"source": "PULL_FROM_URL", "video_url": media.url(5 * MB, "slow.mp4", kind="slow")}
    init = tiktok.init_video_direct(token, post_info=DIRECT, source_info=source)
    tiktok.cancel_publish(token, init.publish_id)
    view = publish_view(control, init.publish_id)
    assert (view["status"], view["fail_reason"]) == ("FAILED", "publish_cancelled")
    assert webhook_reasons(control, init.publish_id) == ["publish_cancelled"]
    assert view["downloaded_bytes"] < 5 * MB  # the download stopped
    pulling = tiktok.init_video_direct(token, post_info=DIRECT, source_info=source)
    control.post("/config", json={"verified_url_prefixes": []}).raise_for_status()
    with pytest.raises(errors.FailedPrecondition) as unverified:
        tiktok.cancel_publish(token, pulling.publish_id)  # the URL prefix is no longer verified
    assert unverified.value.reason == "tiktok.url_ownership_unverified"
    other = tiktok.init_video_direct(token, post_info=DIRECT, source_info=plan(MB, MB))
    tiktok.cancel_publish(token, other.publish_id)  # a FILE_UPLOAD has no URL to own


def test_cancel_refusals(
    tiktok: TikTokClient, control: httpx.Client, creator: Callable[..., str]
) -> None:
    token, other = creator(), creator()
    with pytest.raises(errors.NotFound) as unknown:
        tiktok.cancel_publish(token, "v_pub_file~v2-1.123")
    assert unknown.value.reason == "tiktok.invalid_publish_id"
    init = tiktok.init_video_direct(token, post_info=DIRECT, source_info=plan(MB, MB))
    with pytest.raises(errors.PermissionDenied) as foreign:
        tiktok.cancel_publish(other, init.publish_id)
    assert foreign.value.reason == "tiktok.token_not_authorized_for_specified_publish_id"
    only_inbox = creator(scopes=["user.info.basic"])
    with pytest.raises(errors.PermissionDenied) as scope:
        tiktok.cancel_publish(only_inbox, init.publish_id)
    assert scope.value.reason == "tiktok.scope_not_authorized"
    assert tiktok.fetch_status(token, init.publish_id)["status"] == "PROCESSING_UPLOAD"
