"""The webhook fuzz at length: 10,000 or more correctly signed odd bodies (Hypothesis's
benchmark profile, tests/test_webhook_fuzz.py), each of which must be stored or refused with a
4xx naming why, never a 500. Prints how the bodies were answered.

    .venv/bin/python bench/fuzz_webhook.py                  # SQLite (a test database file)
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ivr_fuzz .venv/bin/python bench/fuzz_webhook.py
"""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

if __name__ == "__main__":
    env = {**os.environ, "HYPOTHESIS_PROFILE": "benchmark"}
    command = [
        sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
        "--hypothesis-show-statistics",
        "tests/test_webhook_fuzz.py::test_a_signed_body_is_stored_or_refused_with_a_reason_never_a_500",
        *sys.argv[1:],
    ]  # fmt: skip
    sys.exit(subprocess.run(command, cwd=ROOT, env=env).returncode)
