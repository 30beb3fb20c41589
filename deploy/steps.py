"""The deploy plan's building blocks: a command, a read-only check, a step, as data.

A :class:`Step` creates one resource (or a few of a kind). Where gcloud has no create-or-update,
a step carries a read-only :class:`Check`; when the check finds the resource, the step runs its
``otherwise`` commands (often none) instead of creating it. A command never holds a secret value:
one that needs a secret names the environment variable whose value is piped to its stdin.
"""

from __future__ import annotations

from dataclasses import dataclass

from deploy.settings import DeploySettings


@dataclass(frozen=True)
class Command:
    argv: tuple[str, ...]
    stdin_secret: str | None = None  # the environment variable whose value goes to stdin


@dataclass(frozen=True)
class Check:
    """A read-only command; the resource exists when it succeeds with an accepted output."""

    argv: tuple[str, ...]
    accept: frozenset[str] | None = None  # accepted stdout (stripped); None accepts any
    same_secret: str | None = None  # stdout must equal this secret's value


@dataclass(frozen=True)
class Step:
    title: str
    commands: tuple[Command, ...]
    check: Check | None = None
    otherwise: tuple[Command, ...] = ()  # run instead of ``commands`` when the check passes


def gcloud(s: DeploySettings, words: str, *args: str, stdin_secret: str | None = None) -> Command:
    """``gcloud <words> <args>`` in the project, never prompting."""
    return Command(
        ("gcloud", *words.split(), *args, f"--project={s.project}", "--quiet"), stdin_secret
    )


def check(
    s: DeploySettings,
    words: str,
    *args: str,
    accept: frozenset[str] | None = None,
    same_secret: str | None = None,
) -> Check:
    return Check(("gcloud", *words.split(), *args, f"--project={s.project}"), accept, same_secret)


def firebase_deploy(s: DeploySettings, firebase: str, only: str) -> Command:
    return Command(
        (firebase, "deploy", "--only", only, "--project", s.project, "--non-interactive")
    )
