"""The dev server serves the built web app as Firebase Hosting does: files first, then the
function rewrites, then the single-page app's index.html; and the Firebase web config."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from werkzeug.test import Client

from emulator.devserver import Dispatcher, load_destinations, load_rewrites
from emulator.hosting import StaticSite, firebase_init


@pytest.fixture
def site(tmp_path: Path) -> Path:
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text("<!doctype html><title>app</title>")
    (tmp_path / "assets" / "main-ABC.js").write_text("console.log(1)")
    (tmp_path / ".secret").write_text("no")
    (tmp_path.parent / "outside.txt").write_text("no")
    return tmp_path


@pytest.fixture
def client(site: Path, monkeypatch: pytest.MonkeyPatch) -> Client:
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "demo-test")
    monkeypatch.setenv("FIREBASE_AUTH_EMULATOR_HOST", "127.0.0.1:9199")
    dispatcher = Dispatcher(load_rewrites(), set(), StaticSite(site), load_destinations())
    return Client(dispatcher)


def test_a_built_file_is_served_with_its_type_and_a_long_cache(client: Client) -> None:
    response = client.get("/assets/main-ABC.js")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/javascript")
    assert "immutable" in response.headers["Cache-Control"]
    assert response.get_data(as_text=True) == "console.log(1)"


@pytest.mark.parametrize("path", ["/accounts", "/posts/abc/upload", "/history?status=FAILED", "/"])
def test_app_paths_get_the_single_page_app(client: Client, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert "<title>app</title>" in response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-cache"


@pytest.mark.parametrize("path", ["/../outside.txt", "/.secret", "/assets/../../outside.txt"])
def test_nothing_outside_public_or_hidden_is_served(client: Client, path: str) -> None:
    response = client.get(path)
    assert response.get_data(as_text=True) != "no"


def test_an_unrouted_api_path_stays_a_json_404(client: Client) -> None:
    response = client.get("/api/nothing-here")
    assert response.status_code == 404
    assert response.json["error"]["code"] == "NOT_FOUND"  # type: ignore[index]


def test_init_json_gives_the_demo_project_and_the_auth_emulator(client: Client) -> None:
    response = client.get("/__/firebase/init.json")
    config = json.loads(response.get_data(as_text=True))
    assert config["projectId"] == "demo-test"
    assert config["authEmulatorUrl"] == "http://127.0.0.1:9199"
    assert config["apiKey"]


def test_init_json_without_an_emulator_has_no_emulator_key() -> None:
    assert "authEmulatorUrl" not in firebase_init({"GOOGLE_CLOUD_PROJECT": "demo-x"})


def test_firebase_json_rewrites_the_app_after_the_api() -> None:
    rewrites = json.loads((Path(__file__).parents[2] / "firebase.json").read_text())["hosting"][
        "rewrites"
    ]
    assert rewrites[-1] == {"source": "**", "destination": "/index.html"}
    # The generated privacy policy (built into public/privacy.html) has its own clean URL.
    assert rewrites[-2] == {"source": "/privacy", "destination": "/privacy.html"}
    assert all("function" in r for r in rewrites[:-2])


def test_a_static_file_refuses_writes(client: Client) -> None:
    assert client.post("/assets/main-ABC.js").status_code == 405
