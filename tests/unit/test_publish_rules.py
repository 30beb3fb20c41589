"""The publish request's shape, and TikTok's Direct Post rules against creator info (P10)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from shared.errors import AppError, FailedPrecondition, InvalidArgument
from shared.publishing.rules import check_against_creator, parse_request

CREATOR: dict[str, Any] = {
    "creator_username": "casey",
    "creator_nickname": "Casey",
    "privacy_level_options": ["PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "SELF_ONLY"],
    "comment_disabled": False,
    "duet_disabled": True,
    "stitch_disabled": False,
    "max_video_post_duration_sec": 180,
}
VIDEO: dict[str, Any] = {
    "open_id": "o1",
    "mode": "direct",
    "media": {"type": "video", "source": "file", "size": 30_000_000},
    "post": {"title": "my #cat", "privacy_level": "SELF_ONLY"},
    "duration_sec": 12.5,
}
PHOTO: dict[str, Any] = {
    "open_id": "o1",
    "mode": "direct",
    "media": {"type": "photo", "urls": ["https://cdn.example.com/1.jpg"], "cover_index": 0},
    "post": {"title": "t", "description": "d", "privacy_level": "PUBLIC_TO_EVERYONE"},
}


def body(base: dict[str, Any], **changes: Any) -> dict[str, Any]:
    result = copy.deepcopy(base)
    for dotted, value in changes.items():
        target = result
        *parents, leaf = dotted.split("__")
        for parent in parents:
            target = target[parent]
        if value is ...:
            target.pop(leaf, None)
        else:
            target[leaf] = value
    return result


def refused(data: dict[str, Any], creator: dict[str, Any] = CREATOR) -> AppError:
    with pytest.raises(AppError) as caught:
        check_against_creator(parse_request(data), creator)
    return caught.value


def test_a_valid_video_and_photo_pass() -> None:
    check_against_creator(parse_request(VIDEO), CREATOR)
    check_against_creator(parse_request(PHOTO), CREATOR)


def test_missing_privacy_level_is_refused_no_default_ever() -> None:
    error = refused(body(VIDEO, post__privacy_level=...))
    assert isinstance(error, InvalidArgument)
    assert error.reason == "post.privacy_level_missing"
    assert error.details["options"] == CREATOR["privacy_level_options"]


def test_privacy_level_not_offered_is_refused() -> None:
    error = refused(body(VIDEO, post__privacy_level="FOLLOWER_OF_CREATOR"))
    assert isinstance(error, FailedPrecondition)
    assert error.reason == "tiktok.privacy_level_option_mismatch"


def test_interaction_the_creator_disabled_is_refused() -> None:
    error = refused(body(VIDEO, post__allow_duet=True))
    assert error.reason == "post.allow_duet_disabled_by_creator"
    assert "duets off" in error.message


def test_duet_and_stitch_are_ignored_for_photos() -> None:
    check_against_creator(parse_request(body(PHOTO, post__allow_duet=True)), CREATOR)


def test_video_longer_than_the_creator_may_post_is_refused() -> None:
    error = refused(body(VIDEO, duration_sec=181))
    assert error.reason == "post.duration_too_long"
    assert error.details["max_video_post_duration_sec"] == 180


def test_branded_content_cannot_be_private() -> None:
    with pytest.raises(
        InvalidArgument, match="Branded content visibility cannot be set to private"
    ):
        parse_request(body(VIDEO, post__brand_content=True))


def test_commercial_disclosure_needs_a_toggle() -> None:
    with pytest.raises(InvalidArgument, match="promotes yourself, a third party, or both"):
        parse_request(body(VIDEO, post__disclose_commercial_content=True))
    parse_request(body(VIDEO, post__disclose_commercial_content=True, post__brand_organic=True))


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (body(VIDEO, post__title="😀" * 1101), "post.title"),  # 2,202 UTF-16 units
        (body(PHOTO, post__title="x" * 91), "post.title"),
        (body(PHOTO, post__description="x" * 4001), "post.description"),
        (body(PHOTO, media__urls=[f"https://c.example/{i}.jpg" for i in range(36)]), "media.urls"),
        (body(PHOTO, media__cover_index=1), "media.cover_index"),
        (body(PHOTO, media__urls=["http://c.example/1.jpg"]), "media.urls[0]"),
        (
            body(VIDEO, media={"type": "video", "source": "url", "url": "ftp://x/y.mp4"}),
            "media.url",
        ),
        (body(VIDEO, media__size="30000000"), "media.size"),
        (body(VIDEO, media__chunk_size="10000000"), "media.chunk_size"),
        (body(VIDEO, media__chunk_size=True), "media.chunk_size"),
        (body(VIDEO, mode="later"), "mode"),
        (body(VIDEO, open_id=...), "open_id"),
        (body(VIDEO, duration_sec=...), "duration_sec"),
        (body(VIDEO, duration_sec=601), "duration_sec"),
        (body(VIDEO, post__allow_comment="yes"), "post.allow_comment"),
        (body(VIDEO, post__privacy_level="EVERYONE"), "post.privacy_level"),
        (body(VIDEO, post__description="videos have no description"), "post.description"),
    ],
)
def test_malformed_requests_name_the_field(data: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        parse_request(data)
    assert caught.value.reason == f"request.{field}"


def test_title_limit_counts_utf16_units_not_characters() -> None:
    parse_request(body(VIDEO, post__title="😀" * 1100))  # 2,200 units: the limit exactly.


def test_plain_http_media_only_on_loopback_and_only_when_allowed() -> None:
    local = body(VIDEO, media={"type": "video", "source": "url", "url": "http://127.0.0.1:9/v.mp4"})
    with pytest.raises(InvalidArgument):
        parse_request(local)
    assert parse_request(local, loopback_http=True).media.url == "http://127.0.0.1:9/v.mp4"
    remote = body(local, media__url="http://cdn.example.com/v.mp4")
    with pytest.raises(InvalidArgument):
        parse_request(remote, loopback_http=True)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (body(VIDEO, post__caption="my #cat"), "post.caption"),  # a typo of title
        (body(VIDEO, titel="x"), "titel"),
        (body(VIDEO, media__url="https://cdn.example/v.mp4"), "media.url"),  # not for files
        (body(PHOTO, media__size=1), "media.size"),
        (body(VIDEO, post={"": 1}), "post."),
        (body(VIDEO, post={"__x__": 1}), "post.__x__"),
    ],
)
def test_unknown_fields_are_refused_naming_their_path(data: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        parse_request(data)
    assert caught.value.reason == "request.unknown_field"
    assert caught.value.body()["error"]["field"] == field
    assert repr(field) in caught.value.message


def test_cover_timestamp_beyond_any_video_is_refused() -> None:
    with pytest.raises(InvalidArgument) as caught:
        parse_request(body(VIDEO, post__cover_timestamp_ms=2**70))
    assert caught.value.reason == "request.post.cover_timestamp_ms"
    assert caught.value.body()["error"]["field"] == "post.cover_timestamp_ms"
