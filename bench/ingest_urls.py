"""The example project's URLs plus the two yardsticks ``bench/ingest.py`` measures the webhook
against, served by the same gunicorn, middleware and database:

- ``bench/bare/``: reads the body and parses it as JSON; no database, no broker.
- ``bench/floor/``: commits one INSERT of the raw body (autocommit, one round trip): the least
  any endpoint that stores a delivery before answering can do.
"""

import json

from django.db import connection
from django.http import HttpResponse
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt

from project.urls import urlpatterns as site_urlpatterns

FLOOR_TABLE = "bench_ingest_floor"


@csrf_exempt
def bare(request):
    json.loads(request.body)
    return HttpResponse(b'{"status": "ok"}', content_type="application/json")


@csrf_exempt
def floor(request):
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {FLOOR_TABLE} (body) VALUES (%s)", [request.body.decode()])
    return HttpResponse(b'{"status": "stored"}', content_type="application/json")


urlpatterns = [
    path("bench/bare/", bare),
    path("bench/floor/", floor),
    path("", include(site_urlpatterns)),
]
