"""Display API of the fake: ``GET /v2/user/info/`` (docs/tiktok-api.md §2.1).

Only the requested fields come back; a field whose scope the token lacks is refused with
``scope_permission_missed`` (https://developers.tiktok.com/doc/tiktok-api-v2-error-handling), an
unknown field with ``invalid_params``. Video list and query belong in a module of their own.
"""

from __future__ import annotations

from typing import Any

import flask

from emulator.tiktok.common import (
    envelope,
    envelope_error,
    open_call,
    world,
)
from emulator.tiktok.state import FakeUser

bp = flask.Blueprint("display", __name__)

# The scope each field needs (https://developers.tiktok.com/doc/tiktok-api-v2-get-user-info, plus
# profile_web_link from https://developers.tiktok.com/doc/tiktok-api-scopes).
FIELD_SCOPES: dict[str, str] = {
    **dict.fromkeys(
        (
            "open_id",
            "union_id",
            "avatar_url",
            "avatar_url_100",
            "avatar_large_url",
            "display_name",
        ),
        "user.info.basic",
    ),
    **dict.fromkeys(
        ("bio_description", "profile_deep_link", "profile_web_link", "is_verified", "username"),
        "user.info.profile",
    ),
    **dict.fromkeys(
        ("follower_count", "following_count", "likes_count", "video_count"), "user.info.stats"
    ),
}


def _value(user: FakeUser, name: str) -> Any:
    derived = {
        "avatar_url_100": user.avatar_url.replace(".jpeg", "~100x100.jpeg"),
        "avatar_large_url": user.avatar_url.replace(".jpeg", "~1080x1080.jpeg"),
        "profile_deep_link": f"https://vm.tiktok.example/{user.username}/",
        "profile_web_link": f"https://www.tiktok.com/@{user.username}",
    }
    return derived[name] if name in derived else getattr(user, name)


@bp.get("/v2/user/info/")
def user_info() -> flask.Response:
    auth = open_call("user_info")
    if isinstance(auth, flask.Response):
        return auth
    fields = [f.strip() for f in flask.request.args.get("fields", "").split(",") if f.strip()]
    if not fields:
        return envelope_error(400, "invalid_params", "fields is required.")
    unknown = [name for name in fields if name not in FIELD_SCOPES]
    if unknown:
        return envelope_error(400, "invalid_params", f"Invalid fields: {','.join(unknown)}")
    missing = sorted({FIELD_SCOPES[name] for name in fields} - set(auth.scopes))
    if missing:
        return envelope_error(
            400,
            "scope_permission_missed",
            f"The fields requested need scopes that were not granted: {','.join(missing)}",
        )
    state = world()
    with state.lock:
        user = state.users[auth.open_id]
        return envelope({"user": {name: _value(user, name) for name in fields}})
