"""Browsers never query the database: firestore.rules deny every client read and write (P4)."""

from __future__ import annotations

import httpx
import pytest

from emulator.stack import Stack
from tests.support import AuthEmulator

pytestmark = pytest.mark.emulators

# Every collection the backend writes, at the paths it uses them.
COLLECTION_PATHS = [
    "users/{uid}",
    "users/{uid}/accounts/some-open-id",
    "users/{uid}/posts/some-post",
    "users/{uid}/drafts/some-draft",
    "oauth_states/some-state",
    "idempotency/some-key",
    "webhook_events/some-event",
    "leases/some-lease",
]


@pytest.fixture
def client_token(auth_emulator: AuthEmulator) -> tuple[str, str]:
    google = auth_emulator.sign_in_with_google()
    return google["localId"], google["idToken"]


def documents_url(stack: Stack) -> str:
    host = stack.env()["FIRESTORE_EMULATOR_HOST"]
    return f"http://{host}/v1/projects/{stack.project_id}/databases/(default)/documents"


@pytest.mark.parametrize("path", COLLECTION_PATHS)
def test_signed_in_client_can_neither_read_nor_write(
    path: str, client_token: tuple[str, str], emulators: Stack
) -> None:
    uid, id_token = client_token
    url = f"{documents_url(emulators)}/{path.format(uid=uid)}"
    admin = {"Authorization": "Bearer owner"}
    client = {"Authorization": f"Bearer {id_token}"}
    body = {"fields": {"name": {"stringValue": "x"}}}

    # The document exists (written through the admin path), so a refusal is the rules' doing.
    assert httpx.patch(url, json=body, headers=admin).status_code == 200
    assert httpx.get(url, headers=client).status_code == 403
    assert httpx.patch(url, json=body, headers=client).status_code == 403
    assert httpx.delete(url, headers=client).status_code == 403
    collection_url = url.rsplit("/", 1)[0]
    assert httpx.get(collection_url, headers=client).status_code == 403


def test_unauthenticated_client_is_refused_too(emulators: Stack, clean: Stack) -> None:
    url = f"{documents_url(emulators)}/users/anyone"
    assert httpx.get(url).status_code == 403
    assert httpx.patch(url, json={"fields": {}}).status_code == 403
