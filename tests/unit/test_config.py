"""Settings: every variable validated once, a clear message naming what is wrong."""

from __future__ import annotations

import dataclasses
import json

import pytest

from shared.config import Secret, Settings
from shared.errors import ConfigError
from tests.unit.conftest import VALID_ENV


def settings(**changes: str | None) -> Settings:
    env = dict(VALID_ENV)
    for key, value in changes.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return Settings.from_env(env)


def test_valid_environment_gives_typed_settings_with_defaults() -> None:
    config = settings()
    assert config.project_id == "demo-unit"
    assert [k.kid for k in config.session_keys] == ["k2", "k1"]
    assert config.session_ttl_seconds == 14 * 24 * 3600
    assert config.tiktok_api_base == "https://open.tiktokapis.com"
    assert config.tiktok_auth_url == "https://www.tiktok.com/v2/auth/authorize/"
    assert "video.publish" in config.tiktok_scopes
    assert config.secure_cookies is True


@pytest.mark.parametrize(
    "name",
    [
        "GOOGLE_CLOUD_PROJECT",
        "APP_ORIGIN",
        "SESSION_SECRETS",
        "TIKTOK_CLIENT_KEY",
        "TIKTOK_CLIENT_SECRET",
        "TIKTOK_REDIRECT_URI",
        "KMS_KEY_NAME",
    ],
)
def test_missing_required_setting_is_named(name: str) -> None:
    with pytest.raises(ConfigError, match=f"^{name} is not set$"):
        settings(**{name: None})


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("SESSION_SECRETS", "k1:short", "shorter than 32 bytes"),
        ("SESSION_SECRETS", "no-colon-here-but-long-enough-to-pass-the-length", "kid:secret"),
        ("SESSION_SECRETS", "a:" + "x" * 40 + ",a:" + "y" * 40, "names kid 'a' twice"),
        ("SESSION_TTL_SECONDS", "forever", "SESSION_TTL_SECONDS must be a whole number"),
        ("SESSION_TTL_SECONDS", "0", "SESSION_TTL_SECONDS must be between"),
        ("APP_ORIGIN", "app.example.com", "APP_ORIGIN must be an absolute https URL"),
        ("APP_ORIGIN", "https://app.example.com/path", "APP_ORIGIN must be a bare origin"),
        ("TIKTOK_API_BASE", "http://open.tiktokapis.com", "TIKTOK_API_BASE must use https"),
        ("TIKTOK_REDIRECT_URI", "https://a.example.com/cb?x=1", "no|must not carry a query"),
        ("KMS_KEY_NAME", "projects/p/keyRings/r", "KMS_KEY_NAME must look like"),
        ("FIRESTORE_EMULATOR_HOST", "http://127.0.0.1:8080", "FIRESTORE_EMULATOR_HOST must be"),
        ("TIKTOK_SCOPES", "user.info.basic,Video Publish", "malformed scope"),
        ("GOOGLE_CLOUD_PROJECT", "Bad_Project", "not a valid project id"),
    ],
)
def test_malformed_setting_is_named(name: str, value: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        settings(**{name: value})


def test_plain_http_tiktok_base_only_for_loopback_in_demo_project() -> None:
    assert settings(TIKTOK_API_BASE="http://127.0.0.1:9012").tiktok_api_base == (
        "http://127.0.0.1:9012"
    )
    with pytest.raises(ConfigError, match="TIKTOK_API_BASE must use https"):
        settings(GOOGLE_CLOUD_PROJECT="prod-project", TIKTOK_API_BASE="http://127.0.0.1:9012")


def test_auth_emulator_refused_in_deployed_non_demo_project() -> None:
    with pytest.raises(ConfigError, match="FIREBASE_AUTH_EMULATOR_HOST is set in a deployed"):
        settings(
            GOOGLE_CLOUD_PROJECT="prod-project",
            K_SERVICE="session",
            FIREBASE_AUTH_EMULATOR_HOST="127.0.0.1:9099",
        )


def test_auth_emulator_allowed_for_demo_projects_and_outside_cloud_functions() -> None:
    assert settings(K_SERVICE="session", FIREBASE_AUTH_EMULATOR_HOST="127.0.0.1:9099")
    assert settings(
        GOOGLE_CLOUD_PROJECT="prod-project", FIREBASE_AUTH_EMULATOR_HOST="127.0.0.1:9099"
    )


def test_repr_masks_every_secret() -> None:
    text = repr(settings())
    assert "a" * 40 not in text
    assert "b" * 40 not in text
    assert "unit-client-secret-value" not in text
    assert "**********" in text


def test_secrets_render_only_through_reveal() -> None:
    config = settings()
    values = ["unit-client-secret-value", "a" * 40, "b" * 40]
    secret = config.tiktok_client_secret
    key = config.session_keys[0].secret
    rendered = [
        repr(config),
        str(config),
        f"{config}",
        str(secret),
        repr(secret),
        f"{secret}",
        f"{secret!s:>40}",
        "%s" % key,  # noqa: UP031 (the old formatting operator must mask too)
        "{}".format(key),  # noqa: UP032
        json.dumps(dataclasses.asdict(config), default=str),
        json.dumps({"secret": secret}, default=str),
    ]
    for text in rendered:
        for value in values:
            assert value not in text, text
    for attempt in (
        lambda: json.dumps(dataclasses.asdict(config)),
        lambda: json.dumps({"key": key}),
        lambda: "prefix-" + secret,  # type: ignore[operator]
        lambda: secret + "-suffix",  # type: ignore[operator]
        lambda: secret.encode(),  # type: ignore[attr-defined]
    ):
        with pytest.raises((TypeError, AttributeError)) as refused:
            attempt()
        assert all(value not in str(refused.value) for value in values)
    assert secret.reveal() == "unit-client-secret-value"
    assert key.reveal() == "b" * 40
    assert Secret("x" * 40) == Secret("x" * 40) != Secret("y" * 40)
