"""``manage.py`` for bench/turn_latency.py's folder mode, counting the web server's SQL
statements and requests (bench/turn_counting.py); SIGTERM ends it with its totals written:

    python bench/turn_web.py runserver 127.0.0.1:PORT --noreload
"""

import os
import signal
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(1, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")


def main():
    import django

    django.setup()
    import turn_counting

    turn_counting.install("web")
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
    from django.core.management import execute_from_command_line

    execute_from_command_line([str(ROOT / "manage.py"), *sys.argv[1:]])


if __name__ == "__main__":
    main()
