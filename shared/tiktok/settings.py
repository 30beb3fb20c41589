"""A post's settings, declared once: each one's name in this API and the stored post, its type,
and the field it becomes in TikTok's init request (docs/tiktok-api.md §3.2 video ``post_info``,
§3.4 photo ``post_info``).

The publish parser (shared/publishing/rules.py) accepts exactly these names, the post document
stores them, the API shows them, and :func:`post_info` builds TikTok's ``post_info`` from them. A
new setting is one field here (plus its rule, if it has one), and its type in the stored post's
``PostSettingsDoc`` (shared/store/documents.py: tests/unit/test_documents.py fails until it is
there, and mypy then names ``new_post_doc``, which writes it).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from shared.store.documents import PostChanges


def _sent(
    *, video: str | None = None, photo: str | None = None, negated: bool = False
) -> dict[str, Any]:
    """Where a setting goes in TikTok's ``post_info`` for each kind of post (None: not sent);
    ``negated`` for TikTok's ``disable_*`` flags, which say the opposite of ``allow_*``."""
    return {"tiktok": {"video": video, "photo": photo}, "negated": negated}


@dataclass(frozen=True)
class PostSettings:
    title: str = field(default="", metadata=_sent(video="title", photo="title"))
    description: str = field(default="", metadata=_sent(photo="description"))
    # Sent for a Direct Post only: an inbox upload's privacy is chosen in TikTok.
    privacy_level: str | None = field(
        default=None, metadata=_sent(video="privacy_level", photo="privacy_level")
    )
    allow_comment: bool = field(
        default=False,
        metadata=_sent(video="disable_comment", photo="disable_comment", negated=True),
    )
    allow_duet: bool = field(default=False, metadata=_sent(video="disable_duet", negated=True))
    allow_stitch: bool = field(default=False, metadata=_sent(video="disable_stitch", negated=True))
    brand_content: bool = field(
        default=False,
        metadata=_sent(video="brand_content_toggle", photo="brand_content_toggle"),
    )
    brand_organic: bool = field(
        default=False,
        metadata=_sent(video="brand_organic_toggle", photo="brand_organic_toggle"),
    )
    # The creator's answer to "does this promote a brand?": TikTok gets the two toggles above.
    disclose_commercial_content: bool = field(default=False, metadata=_sent())
    # A photo post carries it at the top level of the request, not in post_info (§3.4).
    is_aigc: bool = field(default=False, metadata=_sent(video="is_aigc"))
    auto_add_music: bool = field(default=False, metadata=_sent(photo="auto_add_music"))
    cover_timestamp_ms: int | None = field(
        default=None, metadata=_sent(video="video_cover_timestamp_ms")
    )

    def to_doc(self) -> PostChanges:
        """The settings as the post document stores them (and the API shows them): the fields
        to write onto a post. ``PostSettingsDoc`` (shared/store/documents.py) declares their
        types for the stored post; tests/unit/test_documents.py holds it to these fields."""
        return cast("PostChanges", {name: getattr(self, name) for name in SETTINGS})


SETTINGS = tuple(f.name for f in fields(PostSettings))
BOOLEAN_SETTINGS = tuple(f.name for f in fields(PostSettings) if f.type == "bool")


def post_info(settings: PostSettings, kind: str, *, direct: bool) -> dict[str, Any]:
    """TikTok's ``post_info`` for a ``kind`` ("video" or "photo") post; a setting left unset
    (None) is not sent, and the privacy level only for a Direct Post."""
    info: dict[str, Any] = {}
    for f in fields(PostSettings):
        name = f.metadata["tiktok"][kind]
        value = getattr(settings, f.name)
        if name is None or value is None or (f.name == "privacy_level" and not direct):
            continue
        info[name] = (not value) if f.metadata["negated"] else value
    return info
