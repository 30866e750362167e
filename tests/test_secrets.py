"""The Telnyx API key appears nowhere but in the Authorization header of the commands.

Full simulated calls (the simulator, the live webhook endpoint, a real Celery worker logging at
DEBUG), some of whose commands Telnyx refuses for a while; then every line either process
logged, every row of every table and every admin page of the calls is searched for the key,
as it is and base64-encoded.
"""

import base64
import logging
import re
from io import StringIO
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command
from django.db import connection
from django.urls import reverse

from telnyx_ivr.menus.io import import_definition
from telnyx_ivr.models import Call
from telnyx_ivr.simulator import AIResult, HangUp, Press, ScriptedCaller, Silence, TelnyxSimulator

from .e2e_support import AI_NUMBER, CALLER_NUMBER, CLASSIC_NUMBER, example, settle

# Distinctive, so that a match can only be the key itself.
API_KEY = "KEY01SECRETcanary_9f3b7e21d4c8_never_log_me"
ADMIN_PATHS = ("/admin/telnyx_ivr/", "/telnyx/api/")
MAX_PAGES = 400


def forms_of(secret):
    """The key, and what stays the same of it in any base64 text containing it."""
    forms = {secret}
    for offset in range(3):
        encoded = base64.b64encode(b"x" * offset + secret.encode()).decode()
        # Drop the characters that mix the key's bytes with its neighbours'.
        forms.add(encoded[4:-4])
        forms.add(base64.urlsafe_b64encode(b"x" * offset + secret.encode()).decode()[4:-4])
    return forms


def leaks(text, where):
    return [f"{where}: {form!r}" for form in forms_of(API_KEY) if form in text]


def database_dump():
    """Every row of every table, as text: ``{table: text}``."""
    dump = {}
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            dump[table] = "\n".join(repr(row) for row in cursor.fetchall())
    return dump


def crawl(client, start_urls):
    """Every page of the admin and the read API reachable from ``start_urls`` in two links:
    ``{url: text}``."""
    pages, frontier = {}, list(start_urls)
    for _depth in range(3):
        following = []
        for url in frontier:
            if url in pages or len(pages) >= MAX_PAGES:
                continue
            response = client.get(url)
            assert response.status_code in (200, 302), f"{url}: {response.status_code}"
            text = (
                b"".join(response).decode("utf-8", "replace")
                if response.streaming
                else (response.content.decode("utf-8", "replace"))
            )
            pages[url] = text
            following += links(text)
        frontier = following
    return pages


def links(page):
    found = []
    for href in re.findall(r'href="([^"#]+)"', page):
        href = href.replace("&amp;", "&")
        path = urlsplit(href).path
        if path.startswith(ADMIN_PATHS) and not re.search(r"/(delete|logout)/", path):
            found.append(href)
    return found


@pytest.fixture
def calls_played(live_server, start_worker, ivr_settings_for, caplog):
    """Four calls: keys pressed (invalid ones too) and a transfer, silence and a goodbye, an
    AI intake, a caller hanging up; with commands refused with 500 and 429 on the way."""
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="telnyx_ivr")
    with TelnyxSimulator(webhook_url=f"{live_server.url}/telnyx/webhook/", api_key=API_KEY) as sim:
        ivr_settings_for(
            PUBLIC_KEYS=[sim.public_key], API_KEY=API_KEY, API_BASE_URL=sim.api_base_url
        )
        for name in ("classic_tree", "ai_intake"):
            import_definition(example(name), publish=True)
        worker = start_worker(
            env={
                "TELNYX_API_BASE_URL": sim.api_base_url,
                "TELNYX_API_KEY": API_KEY,
                "TELNYX_PUBLIC_KEY": sim.public_key,
                "IVR_LOG_LEVEL": "DEBUG",
            }
        )
        sim.faults.fail_command("gather_using_speak", 500)
        sim.faults.fail_command("answer", 429)
        sim.faults.fail_command("transfer", 503)
        scripts = [
            (CLASSIC_NUMBER, [Press("5"), Press("2"), Press("1")]),
            (CLASSIC_NUMBER, [Silence(), Press("9")] + [Press("7")] * 3),
            (AI_NUMBER, [AIResult({"name": "Ada", "age": 36, "city": "Boston"})]),
            (CLASSIC_NUMBER, [HangUp()]),
        ]
        played = []
        for to, script in scripts:
            call = sim.start_call(from_=CALLER_NUMBER, to=to, caller=ScriptedCaller(script))
            call.wait_for_end(timeout=30)
            played.append(call)
        settle()
        accepted = [r for call in played for r in call.commands if r.status == 200]
        assert accepted, "no command was accepted: the key was not used"
        assert any(r.fault for call in played for r in call.commands), "no refusal happened"
        yield played, worker


def test_the_search_finds_the_key_however_it_is_wrapped():
    client_state = base64.b64encode(f'{{"k": "{API_KEY}"}}'.encode()).decode()
    for text in (f"Bearer {API_KEY}", client_state, repr({"headers": {"x": API_KEY}})):
        assert leaks(text, "here")
    assert leaks(f"Bearer {API_KEY[:-1]}", "here") == []


@pytest.mark.redis
def test_the_api_key_is_in_no_log_no_row_and_no_page(calls_played, caplog, admin_client):
    played, worker = calls_played
    found = []

    # Logs: the worker's (it sends the commands) and this process's (web and simulator).
    worker_log = worker.output()
    assert "Telnyx request" in worker_log  # DEBUG lines about every send were written
    found += leaks(worker_log, "worker log")
    # The calls were played while the fixture was set up: their lines are the setup's.
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    records = caplog.get_records("setup") + caplog.get_records("call")
    web_log = "\n".join(formatter.format(record) for record in records)
    assert '"POST /telnyx/webhook/ HTTP/1.1" 200' in web_log  # the deliveries were captured
    found += leaks(web_log, "web log")

    # Every table, every row.
    dump = database_dump()
    assert any("gather_using_speak" in rows for rows in dump.values())
    for table, rows in dump.items():
        found += leaks(rows, f"table {table}")

    # Every admin page of the calls, and what they link to; the read API; reprocessing.
    ids = list(Call.objects.values_list("pk", flat=True))
    assert len(ids) >= len(played)
    starts = [reverse("admin:telnyx_ivr_call_change", args=[pk]) for pk in ids]
    starts += [
        reverse("admin:telnyx_ivr_call_changelist"),
        reverse("admin:telnyx_ivr_webhookevent_changelist"),
        reverse("admin:telnyx_ivr_command_changelist"),
        reverse("admin:telnyx_ivr_callstep_changelist"),
        *(reverse("telnyx_ivr:api-call", args=[c.pk]) for c in Call.objects.counted()),
        reverse("telnyx_ivr:health"),
    ]
    pages = crawl(admin_client, starts)
    for kind in ("webhookevent", "command", "callstep", "call"):
        assert any(f"/admin/telnyx_ivr/{kind}/" in url and "/change/" in url for url in pages)
    for url, text in pages.items():
        found += leaks(text, f"page {url}")
    out = StringIO()
    call_command("ivr_reprocess", "--call", played[0].call_control_id, "--force", stdout=out)
    found += leaks(out.getvalue(), "ivr_reprocess")

    assert found == []
