"""``python -m deploy.policy``: render the privacy policy's data-handling part."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from deploy.policy.facts import (
    OPERATOR_FILE,
    Facts,
    Operator,
    PolicyError,
    from_deploy,
    local_stack,
)
from deploy.policy.render import check_proofs, markdown, page, passed_tests, promise_index
from deploy.policy.text import sections
from deploy.settings import SettingsError, load

TITLE = "How we handle your data"


def render(facts: Facts, operator: Operator, *, fmt: str, results: Path | None = None) -> str:
    parts = sections(facts, operator)
    check_proofs(parts, promise_index(), passed_tests(results) if results else None)
    return markdown(TITLE, parts) if fmt == "md" else page(TITLE, parts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.policy", description=__doc__)
    parser.add_argument("--format", choices=("md", "html"), default="md")
    parser.add_argument("--local", action="store_true", help="the local stack's settings")
    parser.add_argument("--operator", type=Path, default=OPERATOR_FILE)
    parser.add_argument(
        "--results",
        type=Path,
        help="a pytest --junitxml report: every test a statement relies on must have passed in it",
    )
    parser.add_argument("--out", type=Path, help="write here instead of standard output")
    args = parser.parse_args(argv)
    try:
        # --local: the local stack; otherwise the settings scripts/deploy reads from the environment
        facts = local_stack() if args.local else from_deploy(load({}, os.environ))
        text = render(facts, Operator.load(args.operator), fmt=args.format, results=args.results)
    except (PolicyError, SettingsError) as exc:
        print(f"policy: {exc}", file=sys.stderr)
        return 2
    if args.out:
        args.out.write_text(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
