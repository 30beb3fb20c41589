"""Unit tests run with no servers: a valid demo environment for code that reads settings."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from shared import runtime

VALID_ENV = {
    "GOOGLE_CLOUD_PROJECT": "demo-unit",
    "APP_ORIGIN": "https://app.example.com",
    "SESSION_SECRETS": "k2:" + "b" * 40 + ",k1:" + "a" * 40,
    "TIKTOK_CLIENT_KEY": "unit-client-key",
    "TIKTOK_CLIENT_SECRET": "unit-client-secret-value",
    "TIKTOK_REDIRECT_URI": "https://app.example.com/api/tiktok/callback",
    "KMS_KEY_NAME": "projects/demo-unit/locations/global/keyRings/r/cryptoKeys/k",
}


@pytest.fixture
def app_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """The process environment set to VALID_ENV, and the runtime caches reset around the test."""
    for key in [
        *list(VALID_ENV),
        "FIRESTORE_EMULATOR_HOST",
        "FIREBASE_AUTH_EMULATOR_HOST",
        "PUBSUB_EMULATOR_HOST",
        "KMS_EMULATOR_HOST",
        "K_SERVICE",
        "SESSION_TTL_SECONDS",
        "TIKTOK_API_BASE",
        "TIKTOK_AUTH_URL",
        "TIKTOK_SCOPES",
    ]:
        monkeypatch.delenv(key, raising=False)
    for key, value in VALID_ENV.items():
        monkeypatch.setenv(key, value)
    runtime.reset()
    yield dict(VALID_ENV)
    runtime.reset()
