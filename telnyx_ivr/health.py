"""Whether this site can take calls: the database, the broker, and work left waiting.

One report for the ``health/`` endpoint and ``manage.py ivr_health``. Each check says in
plain words what it found; a check never raises (its failure is its finding) and never
takes longer than its timeout, so a probe from a load balancer cannot hang on a dead broker.
No detail contains a password: the broker's URL is shown with its password masked, and any
secret the settings hold is blanked out of error messages.
"""

import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.db import connection
from django.db.models.functions import Coalesce
from django.utils import timezone

from .broker import broker_problem
from .conf import ivr_settings
from .models import Command, WebhookEvent

CHECKS = ("database", "broker", "events", "commands")
MASK = "***"


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


@dataclass(frozen=True)
class Report:
    checks: tuple

    @property
    def ok(self):
        return all(check.ok for check in self.checks)

    @property
    def failing(self):
        return [check.name for check in self.checks if not check.ok]

    def as_dict(self, details=True):
        """The JSON body: ``{"status": "ok" | "not ok"}``, with each check's finding when
        ``details``."""
        body = {"status": "ok" if self.ok else "not ok"}
        if details:
            body["checks"] = {
                check.name: {"ok": check.ok, "detail": check.detail} for check in self.checks
            }
        return body

    def lines(self):
        """The report for people, one line per check."""
        return [
            f"{check.name}: {'ok' if check.ok else 'NOT OK'}: {check.detail}"
            for check in self.checks
        ]


def check_health(names=CHECKS, now=None):
    """Run the checks ``names`` (in the order of CHECKS) and return a Report."""
    unknown = sorted(set(names) - set(CHECKS))
    if unknown:
        raise ValueError(f"unknown check(s): {', '.join(unknown)}")
    now = now or timezone.now()
    results = {}
    for name in CHECKS:
        if name not in names:
            continue
        if name in ("events", "commands") and not results.get("database", _PASSED).ok:
            results[name] = Check(name, False, "not checked: the database did not answer")
            continue
        try:
            results[name] = _RUNNERS[name](now)
        except Exception as exc:  # a check that breaks is a finding, never a traceback
            results[name] = Check(name, False, f"the check itself failed: {_describe(exc)}")
    return Report(tuple(results.values()))


_PASSED = Check("", True, "")


# --- the checks -----------------------------------------------------------------------------


def _database(now):
    started = time.monotonic()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:
        # A broken connection is dropped so that the next probe connects afresh.
        connection.close_if_unusable_or_obsolete()
        return Check("database", False, f"the database did not answer: {_describe(exc)}")
    took = (time.monotonic() - started) * 1000
    return Check("database", True, f"{connection.vendor} answered in {took:.0f} ms")


def _broker(now):
    from celery import current_app

    problem = broker_problem()
    if problem is not None:
        return Check("broker", False, problem[0])
    app = current_app._get_current_object()
    if app.conf.task_always_eager:
        return Check("broker", True, "tasks run eagerly, where they are queued: no broker is used")
    timeout = float(ivr_settings.HEALTH_BROKER_TIMEOUT_SECONDS)
    connection_ = app.connection_for_write(connect_timeout=timeout)
    if connection_.transport.driver_type == "redis":
        connection_.release()
        connection_ = app.connection_for_write(
            connect_timeout=timeout,
            transport_options={"socket_connect_timeout": timeout, "socket_timeout": timeout},
        )
    where = shown_url(app.conf.broker_write_url or app.conf.broker_url)
    outcome = {}

    def connect():
        try:
            started = time.monotonic()
            # One attempt: kombu's and redis-py's own retries would wait seconds.
            connection_.ensure_connection(
                max_retries=1, interval_start=0, interval_step=0, timeout=timeout
            )
            outcome["took"] = (time.monotonic() - started) * 1000
        except Exception as exc:
            outcome["error"] = exc
        finally:
            connection_.release()

    # A thread with a deadline: whatever a transport does, the probe returns in time.
    prober = threading.Thread(target=connect, name="telnyx-ivr-health-broker", daemon=True)
    prober.start()
    prober.join(timeout + 0.2)
    if prober.is_alive():
        return Check("broker", False, f"the broker at {where} did not answer within {timeout:g} s")
    if "error" in outcome:
        return Check(
            "broker", False, f"cannot reach the broker at {where}: {_describe(outcome['error'])}"
        )
    return Check("broker", True, f"the broker at {where} answered in {outcome['took']:.0f} ms")


def _events(now):
    limit = ivr_settings.HEALTH_EVENT_WAIT_SECONDS
    pending = WebhookEvent.objects.filter(status=WebhookEvent.Status.PENDING)
    late = pending.filter(received_at__lt=now - timedelta(seconds=limit))
    count = late.count()
    if not count:
        waiting = pending.count()
        return Check(
            "events",
            True,
            f"no webhook event has waited more than {limit:g} s"
            + (f" ({_count(waiting, 'event')} pending)" if waiting else ""),
        )
    oldest = late.order_by("received_at", "pk").first()
    age = (now - oldest.received_at).total_seconds()
    return Check(
        "events",
        False,
        f"{_count(count, 'event')} {_have(count)} waited more than {limit:g} s to be "
        f"processed; the oldest {age:.0f} s: event {oldest.event_id} ({oldest.event_type})",
    )


def _commands(now):
    """Pending commands nobody has sent for too long after they were due: when stored, or,
    after a refusal, when their retry was due (a command waiting for its retry is not late)."""
    limit = ivr_settings.HEALTH_COMMAND_WAIT_SECONDS
    late = (
        Command.objects.filter(status=Command.Status.PENDING)
        .annotate(due=Coalesce("retry_at", "created_at"))
        .filter(due__lt=now - timedelta(seconds=limit))
    )
    count = late.count()
    if not count:
        return Check("commands", True, f"no command has waited more than {limit:g} s to be sent")
    oldest = late.select_related("call").order_by("due", "pk").first()
    age = (now - oldest.due).total_seconds()
    tried = f", tried {_count(oldest.attempts, 'time')}" if oldest.attempts else ", never tried"
    return Check(
        "commands",
        False,
        f"{_count(count, 'command')} {_have(count)} waited more than {limit:g} s to be sent; "
        f"the oldest {age:.0f} s: {oldest.action} on call {oldest.call.call_control_id} "
        f"(command {oldest.command_id}{tried})",
    )


_RUNNERS = {"database": _database, "broker": _broker, "events": _events, "commands": _commands}


# --- words ----------------------------------------------------------------------------------


def _count(number, noun):
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _have(number):
    return "has" if number == 1 else "have"


def _describe(exc):
    text = " ".join(str(exc).split()) or "no message"
    return f"{type(exc).__name__}: {scrub(text)}"


def shown_url(url):
    """The first broker URL of ``url`` with its password, if any, masked."""
    first = str(url or "").split(";")[0].strip()
    try:
        parts = urlsplit(first)
        password = parts.password
    except ValueError:
        return "(a broker URL that cannot be read)"
    if not password:
        return first
    user = parts.username or ""
    host = parts.netloc.rsplit("@", 1)[1]
    return parts._replace(netloc=f"{user}:{MASK}@{host}").geturl()


def scrub(text):
    """``text`` with every password and key the settings hold replaced by ***."""
    for secret in _secrets():
        text = text.replace(secret, MASK)
    return text


def _secrets():
    from celery import current_app

    found = {getattr(settings, "SECRET_KEY", None)}
    for database in settings.DATABASES.values():
        found.add(database.get("PASSWORD"))
    found.add((getattr(settings, "TELNYX_IVR", None) or {}).get("API_KEY"))
    conf = current_app.conf
    for url in (conf.broker_url, conf.broker_read_url, conf.broker_write_url):
        for part in str(url or "").split(";"):
            try:
                found.add(urlsplit(part.strip()).password)
            except ValueError:
                continue
    found.add(conf.broker_password)
    # Longest first, so that a secret containing another is masked whole.
    return sorted((s for s in found if isinstance(s, str) and len(s) >= 3), key=len, reverse=True)
