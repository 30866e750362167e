"""gunicorn settings for bench/turn_latency.py (``GUNICORN_CMD_ARGS="-c bench/turn_gunicorn.py"``):
each worker counts its SQL statements and requests (bench/turn_counting.py). Nothing else of
gunicorn's configuration changes."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


def post_worker_init(worker):
    import turn_counting

    turn_counting.install("web")


def worker_exit(server, worker):
    import turn_counting

    turn_counting.write()
