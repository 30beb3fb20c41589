"""docs/capacity.md's tables are exactly what deploy/capacity.py computes from its inputs, and the
computation reproduces the figures it starts from."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from deploy import capacity
from deploy.table import FUNCTIONS

DOC = Path(__file__).resolve().parents[2] / "docs" / "capacity.md"
BLOCK = re.compile(r"<!-- capacity:begin[^>]*-->\n(.*?)\n<!-- capacity:end -->", re.S)


def test_the_document_holds_the_computed_tables() -> None:
    found = BLOCK.search(DOC.read_text())
    assert found is not None, "docs/capacity.md lost its capacity:begin/end markers"
    assert found.group(1).strip() == capacity.render().strip(), (
        "docs/capacity.md is out of date: paste the output of `python -m deploy.capacity`"
    )


def test_the_model_reproduces_its_benchmark() -> None:
    # 1,000 due accounts in one run: 200 refreshed by the run itself at the benchmark's 11.3 ms
    # each, and 8 batches of 100 in one parallel wave.
    accounts = round(1_000 * capacity.RUNS_PER_DAY * 23.25 / 24)
    run = capacity.refresh(accounts)
    assert run.per_run == pytest.approx(1_000)
    assert run.batches == 8
    assert run.waves == 1
    assert run.seconds == pytest.approx(200 * 0.0113 + 100 * 0.0113)


def test_the_model_reads_the_deploy_table() -> None:
    by_name = {spec.name: spec for spec in FUNCTIONS}
    assert capacity.UPLOADS is by_name["publish_init"]
    assert capacity.BATCH is by_name["refresh_batch"]
    # The uploads' instance cap is what the tables flag at 100 k posts a day.
    busy = capacity.posting(100_000)
    assert busy.upload_instances > by_name["publish_init"].max_instances


def test_egress_is_every_relayed_byte() -> None:
    month = capacity.cost(10_000, 1_000)
    relayed_gib = 1_000 * 30 * capacity.VIDEO_BYTES / 2**30
    assert month.egress == pytest.approx((relayed_gib - 1) * 0.12)
    assert month.per_1000_posts == pytest.approx(month.total / 30)
