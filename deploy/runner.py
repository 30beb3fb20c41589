"""Print the plan (dry run) or run it (``--apply``), never showing a secret value."""

from __future__ import annotations

import shlex
import subprocess
from typing import TextIO

from deploy.plan import Plan
from deploy.settings import DeploySettings
from deploy.steps import Check, Command, Step
from deploy.table import ROOT


class DeployError(RuntimeError):
    """A command of the plan failed."""


def render(command: Command) -> str:
    line = shlex.join(command.argv)
    if command.stdin_secret:
        line += f" < <{command.stdin_secret}: secret, read from your environment, not shown>"
    return line


def render_check(check: Check) -> str:
    line = shlex.join(check.argv)
    if check.accept:
        line += f"  # prints one of {', '.join(sorted(check.accept))}"
    if check.same_secret:
        line += f"  # prints the value of {check.same_secret} (compared, never shown)"
    return line


def print_plan(plan: Plan, out: TextIO) -> None:
    for warning in plan.warnings:
        out.write(f"# WARNING: {warning}\n")
    for number, step in enumerate(plan.steps, start=1):
        _header(number, step, out)
        for command in step.commands:
            out.write(render(command) + "\n")
        if step.check and step.otherwise:
            out.write("# ...or, when it exists:\n")
            for command in step.otherwise:
                out.write(render(command) + "\n")


def apply_plan(plan: Plan, settings: DeploySettings, out: TextIO) -> None:
    for number, step in enumerate(plan.steps, start=1):
        _header(number, step, out)
        commands = step.commands
        if step.check and _passes(step.check, settings):
            out.write("# exists" + (": updating\n" if step.otherwise else ": nothing to do\n"))
            commands = step.otherwise
        for command in commands:
            out.write(render(command) + "\n")
            out.flush()
            _run(command, settings)


def _header(number: int, step: Step, out: TextIO) -> None:
    out.write(f"\n# {number}. {step.title}\n")
    if step.check:
        out.write(f"# skipped when this finds it: {render_check(step.check)}\n")


def _passes(check: Check, settings: DeploySettings) -> bool:
    result = subprocess.run(check.argv, cwd=ROOT, capture_output=True, check=False)
    if result.returncode != 0:
        return False
    output = result.stdout.decode(errors="replace")
    if check.accept is not None and output.strip() not in check.accept:
        return False
    if check.same_secret is not None:
        secret = settings.secret_value(check.same_secret)
        return secret is not None and output == secret.reveal()
    return True


def _run(command: Command, settings: DeploySettings) -> None:
    stdin = None
    if command.stdin_secret:
        value = settings.secret_value(command.stdin_secret)
        if value is None:
            raise DeployError(f"{command.stdin_secret} has no value")
        stdin = value.reveal().encode()
    result = subprocess.run(command.argv, cwd=ROOT, input=stdin, check=False)
    if result.returncode != 0:
        raise DeployError(f"failed with exit status {result.returncode}: {render(command)}")
