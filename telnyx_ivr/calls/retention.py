"""Retention: what the call log keeps of calls older than ``TELNYX_IVR["RETENTION_DAYS"]``.

``prune(days)`` empties the bodies of old webhook events (``raw_body`` and ``payload``) and of
old commands (``body`` and ``response``), leaving a marker that says when and after how many
days (``pruned_info``); then, with ``calls=True``, it deletes whole old calls: the call, its
transfer legs, their visits, commands and webhook events. Everything else about a row stays:
types, times, statuses, HTTP statuses, error codes and notes.

Only rows the roll-ups already hold are touched (it rolls up first), so the dashboards' past
figures stay as they were. A call is deleted only when it, its legs' and its own commands and
events are all rolled up; a call that never ended is kept. Rows go in batches, by primary key,
so a million old rows never sit in memory at once.
"""

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from ..analytics.rollups import FINAL_COMMANDS, FINAL_EVENTS, roll_up
from ..conf import SETTINGS_NAME, ivr_settings
from ..models import Call, CallStep, Command, WebhookEvent

BATCH = 500
MARKER = "pruned"  # the one key of what a pruned body holds


@dataclass(frozen=True)
class Pruned:
    """What a pruned body says: emptied after ``after_days`` days, at ``at``."""

    after_days: int
    at: datetime


@dataclass
class PruneResult:
    days: int
    cutoff: datetime
    dry_run: bool
    calls: bool
    rolled_up: int = 0
    event_bodies: int = 0
    command_bodies: int = 0
    deleted_calls: int = 0
    deleted_legs: int = 0
    deleted_steps: int = 0
    deleted_commands: int = 0
    deleted_events: int = 0
    kept_calls: int = 0  # old calls kept: not ended, or something of them not rolled up

    def as_dict(self):
        data = asdict(self)
        data["cutoff"] = self.cutoff.isoformat()
        return data


def marker(days, at):
    """What a pruned body is replaced with."""
    return {MARKER: {"after_days": days, "at": at.isoformat()}}


def pruned_info(value):
    """``Pruned`` when ``value`` (a payload, body or response) was pruned, else None."""
    if not isinstance(value, dict) or set(value) != {MARKER}:
        return None
    info = value[MARKER]
    if not isinstance(info, dict):
        return None
    try:
        return Pruned(after_days=int(info["after_days"]), at=datetime.fromisoformat(info["at"]))
    except (KeyError, TypeError, ValueError):
        return None


def retention_days():
    """``TELNYX_IVR["RETENTION_DAYS"]``: None (keep everything) or a number of days."""
    days = ivr_settings.RETENTION_DAYS
    if days is None:
        return None
    if isinstance(days, bool) or not isinstance(days, int) or days < 1:
        raise ImproperlyConfigured(
            f'{SETTINGS_NAME}["RETENTION_DAYS"] must be a whole number of days (1 or more), or '
            f"None to keep everything; it is {days!r}."
        )
    return days


def prune(days, *, calls=False, dry_run=False, now=None, batch=BATCH):
    """Prune what is older than ``days`` days (see the module's text); returns PruneResult.
    ``dry_run`` changes nothing and counts what would go, rolling up included."""
    if isinstance(days, bool) or not isinstance(days, int) or days < 1:
        raise ValueError(f"days must be a whole number, 1 or more, not {days!r}")
    now = now or timezone.now()
    result = PruneResult(days=days, cutoff=now - timedelta(days=days), dry_run=dry_run, calls=calls)
    if not dry_run:
        result.rolled_up = roll_up()
    _prune_bodies(result, now, batch)
    if calls:  # after the bodies, so a dry run counts exactly what a real run does
        _prune_calls(result, batch)
    return result


# --- which rows the roll-ups hold ----------------------------------------------------------
# A dry run changes nothing, so it does not roll up: what roll_up() would take counts as held.


def _held(model, dry_run):
    final = FINAL_EVENTS if model is WebhookEvent else FINAL_COMMANDS
    return Q(status__in=final) if dry_run else Q(rolled_up=True)


def _ended(dry_run):
    return Q(status=Call.Status.ENDED) if dry_run else Q(rolled_up=True)


def _batches(queryset, size):
    """Primary keys of ``queryset`` in batches, walking the key upwards: rows changed by one
    batch are never read again, and nothing is counted with OFFSET."""
    last = None
    while True:
        page = queryset if last is None else queryset.filter(pk__gt=last)
        ids = list(page.order_by("pk").values_list("pk", flat=True)[:size])
        if not ids:
            return
        yield ids
        last = ids[-1]


# --- bodies ----------------------------------------------------------------------------------


def _prune_bodies(result, now, size):
    emptied = marker(result.days, now)
    events = WebhookEvent.objects.filter(
        _held(WebhookEvent, result.dry_run), received_at__lt=result.cutoff
    ).exclude(raw_body="")
    commands = Command.objects.filter(
        _held(Command, result.dry_run), created_at__lt=result.cutoff
    ).exclude(body__has_key=MARKER)
    for ids in _batches(events, size):
        if not result.dry_run:
            WebhookEvent.objects.filter(pk__in=ids).update(raw_body="", payload=emptied)
        result.event_bodies += len(ids)
    for ids in _batches(commands, size):
        if not result.dry_run:
            with transaction.atomic():
                Command.objects.filter(pk__in=ids).update(body=emptied)
                Command.objects.filter(pk__in=ids, response__isnull=False).update(response=emptied)
        result.command_bodies += len(ids)


# --- whole calls -----------------------------------------------------------------------------


def _prune_calls(result, size):
    old = Q(started_at__lt=result.cutoff) | Q(started_at__isnull=True, created_at__lt=result.cutoff)
    calls = Call.objects.filter(old, _ended(result.dry_run), parent__isnull=True)
    result.kept_calls += (
        Call.objects.filter(old, parent__isnull=True).exclude(_ended(result.dry_run)).count()
    )
    for ids in _batches(calls, size):
        with transaction.atomic():
            _prune_call_batch(result, ids)
    orphans = WebhookEvent.objects.filter(
        _held(WebhookEvent, result.dry_run),
        ~Exists(Call.objects.filter(call_control_id=OuterRef("call_control_id"))),
        received_at__lt=result.cutoff,
    )
    for ids in _batches(orphans, size):
        if not result.dry_run:
            WebhookEvent.objects.filter(pk__in=ids).only("pk").delete()
        result.deleted_events += len(ids)


def _prune_call_batch(result, ids):
    """Delete the calls ``ids`` whose every row is rolled up; count the rest as kept."""
    rows = Call.objects.filter(Q(pk__in=ids) | Q(parent_id__in=ids)).values_list(
        "pk", "parent_id", "call_control_id"
    )
    top = {pk: parent or pk for pk, parent, _ in rows}  # every row -> its call
    ccids = {ccid: top[pk] for pk, _, ccid in rows}
    blocked = {
        top[call_id]
        for call_id in Command.objects.filter(call_id__in=top)
        .exclude(_held(Command, result.dry_run))
        .values_list("call_id", flat=True)
    }
    blocked |= {
        ccids[ccid]
        for ccid in WebhookEvent.objects.filter(call_control_id__in=ccids)
        .exclude(_held(WebhookEvent, result.dry_run))
        .values_list("call_control_id", flat=True)
    }
    gone = {pk for pk, call in top.items() if call not in blocked}
    gone_ids = [ccid for ccid, call in ccids.items() if call not in blocked]
    result.kept_calls += len(blocked)
    result.deleted_calls += len(set(ids) - blocked)
    result.deleted_legs += sum(1 for pk in gone if top[pk] != pk)
    steps = CallStep.objects.filter(call_id__in=gone)
    commands = Command.objects.filter(call_id__in=gone)
    events = WebhookEvent.objects.filter(call_control_id__in=gone_ids)
    if result.dry_run:
        result.deleted_steps += steps.count()
        result.deleted_commands += commands.count()
        result.deleted_events += events.count()
        return
    # Children first, so that deleting the calls finds nothing more to cascade to; only the
    # keys are loaded (signals and any host model pointing at these rows are still honoured).
    result.deleted_steps += steps.delete()[0]
    result.deleted_commands += commands.delete()[0]
    result.deleted_events += events.only("pk").delete()[0]
    Call.objects.filter(pk__in=gone).exclude(parent__isnull=True).only("pk").delete()
    Call.objects.filter(pk__in=gone).only("pk").delete()
