"""The project's Celery worker for bench/turn_latency.py, counting its SQL statements and the
cost of each task (bench/turn_counting.py); with ``TURN_PROFILE=1`` its main thread (where
the solo pool runs tasks) under cProfile, the stats written to
``$TURN_COUNT_DIR/worker-<pid>.prof`` when it stops. The arguments are ``celery worker``'s:

    python bench/turn_worker.py -Q QUEUE -n NAME --pool solo --without-heartbeat ...
"""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(1, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")


def main():
    import django

    django.setup()
    import turn_counting

    turn_counting.install("worker")
    from project.celery import app

    profile = None
    if os.environ.get("TURN_PROFILE") == "1":
        import cProfile

        profile = cProfile.Profile()
        profile.enable()
    try:
        app.worker_main(["worker", *sys.argv[1:]])
    finally:
        if profile is not None:
            profile.disable()
            profile.dump_stats(Path(os.environ["TURN_COUNT_DIR"]) / f"worker-{os.getpid()}.prof")


if __name__ == "__main__":
    main()
