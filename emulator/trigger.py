"""Trigger a scheduled job on the local stack, as Cloud Scheduler would: publish to its topic.

``python -m emulator.trigger refresh`` publishes to ``token-refresh`` (``sweep`` to
``status-sweep``, ``analytics`` to ``analytics-snapshot``, ``publish-due`` to ``publish-due``) on
the Pub/Sub emulator, which pushes it to the job's function on the running dev server; the jobs
and their topics come from ``shared/jobs.py``. It reads ``PUBSUB_EMULATOR_HOST`` and
``GOOGLE_CLOUD_PROJECT`` (``source .stack/<run>/env`` first).
"""

from __future__ import annotations

import argparse
import os
import sys

from emulator.pubsub import PubSubEmulator
from shared.jobs import scheduled_jobs

# Trigger name -> the topic Cloud Scheduler publishes to for that job.
JOBS = {j.trigger_name: j.topic for j in scheduled_jobs() if j.trigger_name and j.topic}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m emulator.trigger", description=__doc__)
    parser.add_argument("job", choices=sorted(JOBS))
    args = parser.parse_args(argv)
    host = os.environ.get("PUBSUB_EMULATOR_HOST")
    project = os.environ.get("GOOGLE_CLOUD_PROJECT")
    if not host or not project:
        parser.error("PUBSUB_EMULATOR_HOST and GOOGLE_CLOUD_PROJECT must be set (see .stack/*/env)")
    topic = JOBS[args.job]
    with PubSubEmulator(host, project) as pubsub:
        message_id = pubsub.publish(topic, b"{}", {"source": "emulator.trigger"})
    print(f"published message {message_id} to {topic}", file=sys.stdout)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
