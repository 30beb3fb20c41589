"""The web app's wall-time-to-``schedule_at`` conversion (web/src/schedule.ts), run in Node on the
browser's Intl zone data, against Python's zoneinfo: around every offset change of 2026 and 2027
in zones with hour, half-hour and 45-minute offsets and changes, each wall time gives exactly the
instants that show it (none in a gap, two in a repeated hour), written with the right offset."""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[2]
ESBUILD = ROOT / "web" / "node_modules" / ".bin" / "esbuild"
ZONES = (
    "America/New_York",
    "Europe/Berlin",
    "Australia/Lord_Howe",  # a 30-minute change
    "Pacific/Chatham",  # +12:45 / +13:45
    "America/Sao_Paulo",  # no changes any more
    "Asia/Kolkata",
    "UTC",
)


def transition_days(zone: ZoneInfo) -> list[datetime]:
    """Midnight (as a wall time) of each day of 2026-2027 on which the zone's offset changes."""
    days = []
    at = datetime(2026, 1, 1, tzinfo=UTC)
    while at.year < 2028:
        if (
            at.astimezone(zone).utcoffset()
            != (at + timedelta(hours=1)).astimezone(zone).utcoffset()
        ):
            local = (at + timedelta(hours=1)).astimezone(zone)
            days.append(datetime(local.year, local.month, local.day))
        at += timedelta(hours=1)
    return days


def expected(wall: datetime, zone: ZoneInfo) -> list[str]:
    """Every RFC 3339 instant whose wall time in ``zone`` is ``wall``, earliest first."""
    found = set()
    for fold in (0, 1):
        at = wall.replace(tzinfo=zone, fold=fold)
        back = at.astimezone(UTC).astimezone(zone)
        if back.replace(tzinfo=None) == wall:
            found.add(at.astimezone(UTC))
    return [
        at.astimezone(zone).isoformat(timespec="seconds").replace("+00:00", "Z")
        for at in sorted(found)
    ]


def cases() -> list[tuple[str, str, list[str]]]:
    out = []
    for name in ZONES:
        zone = ZoneInfo(name)
        days = transition_days(zone) or [datetime(2026, 6, 1)]
        for day in days:
            for quarter in range(-4 * 24, 4 * 48):  # the day before to the day after
                wall = day + timedelta(minutes=15 * quarter)
                out.append((wall.strftime("%Y-%m-%dT%H:%M"), name, expected(wall, zone)))
    return out


def run(cases: list[tuple[str, str, list[str]]], tmp: Path) -> list[dict[str, str]]:
    bundle = tmp / "schedule.mjs"
    subprocess.run(
        [str(ESBUILD), str(ROOT / "web/src/schedule.ts"), "--format=esm", f"--outfile={bundle}"],
        check=True,
        capture_output=True,
    )
    (tmp / "cases.json").write_text(json.dumps(cases))
    script = tmp / "run.mjs"
    script.write_text(
        'import { readFileSync } from "node:fs";\n'
        f"import {{ toScheduleAt }} from {json.dumps(str(bundle))};\n"
        f"const cases = JSON.parse(readFileSync({json.dumps(str(tmp / 'cases.json'))}, 'utf8'));\n"
        "console.log(JSON.stringify(cases.map(([l, z]) => toScheduleAt(l, z))));\n"
    )
    node = shutil.which("node")
    assert node, "Node.js (which builds the web app) is needed"
    done = subprocess.run([node, str(script)], check=True, capture_output=True, text=True)
    result: list[dict[str, str]] = json.loads(done.stdout)
    return result


def as_list(got: dict[str, str]) -> list[str]:
    if got["kind"] == "ok":
        return [got["at"]]
    if got["kind"] == "repeated":
        return [got["earlier"], got["later"]]
    assert got["kind"] == "missing", got
    return []


def test_conversion_matches_zoneinfo_around_every_change(tmp_path: Path) -> None:
    table = cases()
    got = run(table, tmp_path)
    wrong = [(c, g) for c, g in zip(table, got, strict=True) if as_list(g) != c[2]]
    assert wrong == [], wrong[:5]
    kinds = {g["kind"] for g in got}
    assert kinds == {"ok", "repeated", "missing"}  # the sweep reached gaps and repeats


def test_impossible_input_is_invalid(tmp_path: Path) -> None:
    got = run([("2026-02-30T10:00", "UTC", []), ("2026-12-24T18:00", "Mars/Olympus", [])], tmp_path)
    assert [g["kind"] for g in got] == ["invalid", "invalid"]
