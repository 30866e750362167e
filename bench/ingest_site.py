"""Settings for ``bench/ingest.py``: the example project, with ``bench/ingest_urls.py`` adding
the two yardsticks the webhook is measured against."""

from project.settings import *  # noqa: F403

ROOT_URLCONF = "bench.ingest_urls"
