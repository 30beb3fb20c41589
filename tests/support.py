"""Test helpers that talk to the emulators the way users and Google would."""

from __future__ import annotations

import base64
import contextlib
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx

from emulator.stack import Stack
from shared.jobs import EVENTS_TOPIC


@contextlib.contextmanager
def serve_http(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """``handler`` answering on a free loopback port, one thread per connection; yields the base
    URL, and stops the server and closes its socket after."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def wipe_firestore(stack: Stack) -> None:
    host = stack.env()["FIRESTORE_EMULATOR_HOST"]
    # The emulator's first wipe after it starts can take several seconds on a busy machine.
    response = httpx.delete(
        f"http://{host}/emulator/v1/projects/{stack.project_id}/databases/(default)/documents",
        timeout=60,  # a cold emulator on a busy machine takes longer than httpx's 5 s default
    )
    response.raise_for_status()


def deletion_collaborators() -> tuple[Any, ...]:
    """What ``delete_user_data`` and ``finish_deletions`` take before their keyword arguments,
    built from this process's environment (the stack's)."""
    from shared import runtime

    return (
        runtime.user_data(),
        runtime.account_store(),
        runtime.post_store(),
        runtime.vault(),
        runtime.tiktok(),
    )


def all_documents(stack: Stack) -> list[dict[str, Any]]:
    """Every document in the emulator, read over REST as an admin (every collection, any depth)."""
    host = stack.env()["FIRESTORE_EMULATOR_HOST"]
    base = f"http://{host}/v1/projects/{stack.project_id}/databases/(default)/documents"
    headers = {"Authorization": "Bearer owner"}
    found: list[dict[str, Any]] = []

    def walk(parent: str) -> None:
        ids = httpx.post(f"{parent}:listCollectionIds", headers=headers, json={}).json()
        for collection in ids.get("collectionIds", []):
            page_token = None
            while True:
                params: dict[str, str | int] = {"pageSize": 300, "showMissing": "true"}
                if page_token:
                    params["pageToken"] = page_token
                page = httpx.get(f"{parent}/{collection}", headers=headers, params=params).json()
                for doc in page.get("documents", []):
                    found.append(doc)
                    walk(f"{base}/{doc['name'].split('/documents/', 1)[1]}")
                page_token = page.get("nextPageToken")
                if not page_token:
                    break

    walk(base)
    return found


def unsigned_jwt(claims: dict[str, Any]) -> str:
    """A token in the Auth emulator's own format (``alg: none``, no signature)."""

    def part(value: dict[str, Any]) -> str:
        raw = json.dumps(value, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."


class AuthEmulator:
    """Google sign-in through the Firebase Auth emulator's REST API."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.base = f"http://{stack.env()['FIREBASE_AUTH_EMULATOR_HOST']}"

    def wipe(self) -> None:
        httpx.delete(
            f"{self.base}/emulator/v1/projects/{self.stack.project_id}/accounts", timeout=30
        ).raise_for_status()

    def sign_in_with_google(
        self,
        email: str = "creator@example.com",
        name: str = "Casey Creator",
        picture: str = "https://example.com/casey.png",
        sub: str | None = None,
    ) -> dict[str, Any]:
        """Sign in as a Google user; returns the emulator's answer (``idToken``, ``localId``...)."""
        google_claims = {
            "sub": sub or f"google-{email}",
            "email": email,
            "email_verified": True,
            "name": name,
            "picture": picture,
        }
        response = httpx.post(
            f"{self.base}/identitytoolkit.googleapis.com/v1/accounts:signInWithIdp",
            params={"key": "fake-api-key"},
            json={
                "postBody": urlencode(
                    {"id_token": json.dumps(google_claims), "providerId": "google.com"}
                ),
                "requestUri": "http://localhost",
                "returnIdpCredential": True,
                "returnSecureToken": True,
            },
        )
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result

    def forged_token(self, uid: str, **overrides: Any) -> str:
        """An emulator-format ID token for ``uid`` with chosen claims (expired, other project)."""
        now = int(time.time())
        project = self.stack.project_id
        claims: dict[str, Any] = {
            "iss": f"https://securetoken.google.com/{project}",
            "aud": project,
            "sub": uid,
            "user_id": uid,
            "auth_time": now,
            "iat": now,
            "exp": now + 3600,
            "firebase": {"sign_in_provider": "google.com", "identities": {}},
        }
        claims.update(overrides)
        return unsigned_jwt(claims)

    def admin(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """Call an admin endpoint of the emulator (update, disable, revoke)."""
        response = httpx.post(
            f"{self.base}/identitytoolkit.googleapis.com/v1/projects/{self.stack.project_id}"
            f"/{path}",
            headers={"Authorization": "Bearer owner"},
            json=body,
        )
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result


class FakeTikTok:
    """The fake TikTok's control API and its consent page, driven as a browser would."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.http = httpx.Client(base_url=base_url, timeout=30)

    def control(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.http.request(method, f"/_control/{path}", **kwargs)
        response.raise_for_status()
        return response.json()

    def reset(self) -> None:
        self.control("POST", "reset")

    def create_user(self, **fields: Any) -> dict[str, Any]:
        user: dict[str, Any] = self.control("POST", "users", json=fields)
        return user

    def calls(self) -> dict[str, int]:
        counts: dict[str, int] = self.control("GET", "calls")["counts"]
        return counts

    def authorizations(self, open_id: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self.control(
            "GET", "authorizations", params={"open_id": open_id}
        )["authorizations"]
        return found

    def consent(
        self,
        authorize_url: str,
        open_id: str,
        *,
        approve: bool = True,
        granted_scopes: str | None = None,
    ) -> str:
        """Open TikTok's consent page at ``authorize_url``, decide, and return the redirect."""
        page = self.http.get(authorize_url)
        assert page.status_code == 200, page.text
        query = dict(httpx.URL(authorize_url).params)
        form = {
            "client_key": query["client_key"],
            "redirect_uri": query["redirect_uri"],
            "scope": query["scope"],
            "state": query["state"],
            "open_id": open_id,
            "decision": "approve" if approve else "deny",
        }
        if granted_scopes is not None:
            form["granted_scopes"] = granted_scopes
        decision = self.http.post("/v2/auth/authorize/decision", data=form)
        assert decision.status_code == 302, decision.text
        return decision.headers["location"]


def new_browser(stack: Stack, auth_emulator: AuthEmulator, email: str) -> httpx.Client:
    """A signed-in browser session on the dev server (sends the app's Origin like the frontend)."""
    browser = httpx.Client(
        base_url=stack.functions_url, headers={"Origin": stack.functions_url}, timeout=60
    )
    id_token = auth_emulator.sign_in_with_google(email=email, name=email.split("@")[0])["idToken"]
    response = browser.post("/api/session", json={"id_token": id_token})
    assert response.status_code == 200, response.text
    return browser


def start_connect(browser: httpx.Client, return_to: str = "/accounts") -> httpx.Response:
    return browser.get("/api/tiktok/connect", params={"return_to": return_to})


def follow_callback(browser: httpx.Client, location: str) -> httpx.Response:
    """Follow TikTok's redirect back to our callback, as the browser does."""
    parts = urlsplit(location)
    return browser.get(parts.path + "?" + parts.query)


def connect_account(
    browser: httpx.Client, fake: FakeTikTok, open_id: str, **consent: Any
) -> httpx.Response:
    """The whole connect flow through the fake consent page; returns the callback's answer."""
    started = start_connect(browser)
    assert started.status_code == 302, started.text
    return follow_callback(browser, fake.consent(started.headers["location"], open_id, **consent))


class EventSubscription:
    """A pull subscription on ``publisher-events`` in the Pub/Sub emulator (its REST API)."""

    def __init__(self, stack: Stack, name: str) -> None:
        host = stack.env()["PUBSUB_EMULATOR_HOST"]
        self.http = httpx.Client(
            base_url=f"http://{host}/v1/projects/{stack.project_id}", timeout=10
        )
        self.name = name
        self.http.delete(f"/subscriptions/{name}")  # a leftover of an earlier run
        response = self.http.put(
            f"/subscriptions/{name}",
            json={"topic": f"projects/{stack.project_id}/topics/{EVENTS_TOPIC}"},
        )
        response.raise_for_status()

    def pull(self) -> list[dict[str, Any]]:
        """Every message delivered so far (acknowledged): (body, attributes) dicts."""
        got: list[dict[str, Any]] = []
        while True:
            response = self.http.post(
                f"/subscriptions/{self.name}:pull",
                json={"maxMessages": 100, "returnImmediately": True},
            )
            response.raise_for_status()
            received = response.json().get("receivedMessages", [])
            if not received:
                return got
            for item in received:
                message = item["message"]
                got.append(
                    {
                        "body": json.loads(base64.b64decode(message["data"])),
                        "attributes": message.get("attributes", {}),
                    }
                )
            self.http.post(
                f"/subscriptions/{self.name}:acknowledge",
                json={"ackIds": [item["ackId"] for item in received]},
            ).raise_for_status()

    def close(self) -> None:
        self.http.delete(f"/subscriptions/{self.name}")
        self.http.close()
