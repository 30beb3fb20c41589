"""What ships in public/: the built app only, nothing fetched from elsewhere at run time, and no
test-only code (the gapi stub lives under tests/)."""

from __future__ import annotations

import re
from pathlib import Path


def test_the_bundle_loads_nothing_from_another_origin(built_app: Path) -> None:
    public = built_app.parent
    html = built_app.read_text()
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources
    assert all(s.startswith("/assets/") for s in sources), sources
    for file in public.rglob("*.css"):
        assert not re.search(r"url\((['\"]?)https?:", file.read_text()), file
        assert "@import" not in file.read_text(), file


def test_the_test_only_gapi_stub_is_not_shipped(built_app: Path) -> None:
    for file in built_app.parent.rglob("*"):
        if file.is_file():
            assert b"__gapi_stub__" not in file.read_bytes(), file
