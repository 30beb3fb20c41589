"""/api/session over real HTTP through the dev server, as the browser frontend uses it (P2)."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from emulator.stack import Stack
from shared.users.deletion import IN_FLIGHT_BOUND
from tests.e2e.test_data_rights_http import finish_later
from tests.openapi import check_response
from tests.support import (
    AuthEmulator,
    FakeTikTok,
    all_documents,
    follow_callback,
    new_browser,
    start_connect,
)

pytestmark = pytest.mark.e2e


def sign_in(api: httpx.Client, auth_emulator: AuthEmulator, **kwargs: str) -> httpx.Response:
    id_token = auth_emulator.sign_in_with_google(**kwargs)["idToken"]
    return api.post("/api/session", json={"id_token": id_token})


def test_sign_in_sets_an_httponly_lax_cookie_and_returns_the_user(
    api: httpx.Client, auth_emulator: AuthEmulator
) -> None:
    response = sign_in(api, auth_emulator, email="ann@example.com", name="Ann")
    assert response.status_code == 200
    check_response("POST", "/api/session", response)
    assert response.json()["user"]["email"] == "ann@example.com"
    cookie = response.headers["set-cookie"]
    attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")}
    assert cookie.startswith("__session=")
    assert {"httponly", "path", "max-age"} <= attributes
    assert "SameSite=Lax" in cookie
    # The dev origin is http://127.0.0.1, so Secure is off here; https origins get it (unit test).
    assert "secure" not in attributes

    whoami = api.get("/api/session")
    assert whoami.status_code == 200
    check_response("GET", "/api/session", whoami)
    assert whoami.json() == response.json()


def test_sign_out_clears_the_cookie(api: httpx.Client, auth_emulator: AuthEmulator) -> None:
    sign_in(api, auth_emulator)
    response = api.delete("/api/session")
    assert response.status_code == 200
    check_response("DELETE", "/api/session", response)
    assert "__session=;" in response.headers["set-cookie"]
    assert (
        "Max-Age=0" in response.headers["set-cookie"]
        or "Expires=Thu, 01 Jan 1970" in (response.headers["set-cookie"])
    )
    assert api.get("/api/session").status_code == 401


def test_no_cookie_is_401(api: httpx.Client) -> None:
    response = api.get("/api/session")
    assert response.status_code == 401
    check_response("GET", "/api/session", response)
    assert response.json()["error"]["code"] == "UNAUTHENTICATED"


def test_tampered_cookie_is_401(api: httpx.Client, auth_emulator: AuthEmulator) -> None:
    sign_in(api, auth_emulator)
    token = api.cookies["__session"]
    api.cookies.clear()
    tampered = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    response = api.get("/api/session", headers={"Cookie": f"__session={tampered}"})
    assert response.status_code == 401
    assert "signature" in response.json()["error"]["message"]


def test_cross_site_sign_in_is_403(devserver: Stack, auth_emulator: AuthEmulator) -> None:
    id_token = auth_emulator.sign_in_with_google()["idToken"]
    response = httpx.post(
        f"{devserver.functions_url}/api/session",
        json={"id_token": id_token},
        headers={"Origin": "https://evil.example"},
    )
    assert response.status_code == 403
    check_response("POST", "/api/session", response)
    assert "set-cookie" not in response.headers


def test_the_app_opened_at_localhost_is_told_to_use_the_stacks_origin(
    devserver: Stack, auth_emulator: AuthEmulator
) -> None:
    """The stack serves one origin (APP_ORIGIN, 127.0.0.1); the refusal says which to open."""
    id_token = auth_emulator.sign_in_with_google()["idToken"]
    localhost = devserver.functions_url.replace("127.0.0.1", "localhost")
    response = httpx.post(
        f"{devserver.functions_url}/api/session",
        json={"id_token": id_token},
        headers={"Origin": localhost},
    )
    assert response.status_code == 403
    check_response("POST", "/api/session", response)
    message = response.json()["error"]["message"]
    assert f"Origin must be {devserver.functions_url}, not {localhost}" in message
    assert f"open the app at {devserver.functions_url}/" in message
    assert "set-cookie" not in response.headers


def test_bad_id_token_is_401_and_sets_no_cookie(api: httpx.Client) -> None:
    response = api.post("/api/session", json={"id_token": "forged"})
    assert response.status_code == 401
    check_response("POST", "/api/session", response)
    assert "set-cookie" not in response.headers


@pytest.mark.parametrize(
    ("kwargs", "status"),
    [
        ({"json": {}}, 400),
        ({"content": b"{", "headers": {"Content-Type": "application/json"}}, 400),
        ({"content": b"x" * 70_000, "headers": {"Content-Type": "application/json"}}, 413),
        ({"content": b"id_token=x", "headers": {"Content-Type": "text/plain"}}, 415),
    ],
)
def test_bad_bodies_are_refused_clearly(
    api: httpx.Client, kwargs: dict[str, object], status: int
) -> None:
    response = api.post("/api/session", **kwargs)  # type: ignore[arg-type]
    assert response.status_code == status
    check_response("POST", "/api/session", response)


def authenticated_routes() -> list[tuple[str, str]]:
    """(method, concrete path) of every route of every deployed function that needs a session."""
    import main
    from shared.web.http import routes_of

    found = []
    for name in main.__all__:
        for route in routes_of(getattr(main, name)) or []:
            if route.auth:
                path = re.sub(r"<int:[a-z_]+>", "0", route.path)
                found.append((route.method, re.sub(r"<[a-z_]+>", "x1", path)))
    assert len(found) > 10
    return found


def every_route_with(stack: Stack, cookie: str) -> dict[str, int]:
    """The status each authenticated route answers to ``cookie``, sent as the browser would."""
    headers = {"Origin": stack.functions_url, "Cookie": f"__session={cookie}"}
    statuses = {}
    with httpx.Client(base_url=stack.functions_url, headers=headers, timeout=30) as client:
        for method, path in authenticated_routes():
            body: dict[str, Any] = {"json": {}} if method in ("POST", "PUT", "PATCH") else {}
            statuses[f"{method} {path}"] = client.request(method, path, **body).status_code
    return statuses


def test_a_signed_out_cookie_gets_401_on_every_route_and_creates_nothing(
    api: httpx.Client, auth_emulator: AuthEmulator, devserver: Stack
) -> None:
    sign_in(api, auth_emulator)
    saved = api.cookies["__session"]
    assert api.delete("/api/session").status_code == 200
    before = all_documents(devserver)

    statuses = every_route_with(devserver, saved)
    assert set(statuses.values()) == {401}, statuses
    assert all_documents(devserver) == before


def test_sign_out_everywhere_ends_the_other_browsers_sessions(
    devserver: Stack, auth_emulator: AuthEmulator
) -> None:
    phone = new_browser(devserver, auth_emulator, "ann@example.com")
    laptop = new_browser(devserver, auth_emulator, "ann@example.com")
    bob = new_browser(devserver, auth_emulator, "bob@example.com")
    laptop_cookie = laptop.cookies["__session"]
    response = phone.delete("/api/session", params={"everywhere": "true"})
    assert response.status_code == 200
    check_response("DELETE", "/api/session", response)
    assert set(every_route_with(devserver, laptop_cookie).values()) == {401}
    assert laptop.get("/api/session").status_code == 401
    assert bob.get("/api/session").status_code == 200


def test_a_deleted_accounts_cookie_gets_401_everywhere_and_connects_nothing(
    devserver: Stack, auth_emulator: AuthEmulator, fake_tiktok: FakeTikTok
) -> None:
    ann = new_browser(devserver, auth_emulator, "ann@example.com")
    uid = ann.get("/api/session").json()["user"]["uid"]
    saved = ann.cookies["__session"]
    creator = fake_tiktok.create_user(display_name="Ann", username="ann")
    # A connect begun before the deletion, finished after it with the saved cookie.
    consented = fake_tiktok.consent(start_connect(ann).headers["location"], creator["open_id"])
    assert ann.delete("/api/me").status_code == 200

    with httpx.Client(
        base_url=devserver.functions_url,
        headers={"Origin": devserver.functions_url, "Cookie": f"__session={saved}"},
    ) as thief:
        callback = follow_callback(thief, consented)
        assert callback.status_code == 401
        assert thief.get("/api/session").status_code == 401
    assert set(every_route_with(devserver, saved).values()) == {401}
    # What is left is the deletion's tombstone (no profile, no account), until the scheduled
    # final sweep for requests still in flight removes it.
    left = [d for d in all_documents(devserver) if uid in str(d)]
    assert [d["name"].rsplit("/documents/", 1)[1] for d in left] == [f"users/{uid}"]
    assert not {"email", "name", "picture"} & set(left[0].get("fields", {}))
    finish_later(IN_FLIGHT_BOUND)
    assert [d["name"] for d in all_documents(devserver) if uid in str(d)] == []
