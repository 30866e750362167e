"""The engine's ORM side: load a call, feed its events to the pure core, store what it
decided, then send the commands. Everything that touches the database or the network for a
call is here; everything that decides is in ``core``.

Events of one call are applied one at a time because the call row is locked
(``SELECT ... FOR UPDATE``) for the whole batch; the worker holding the lock applies every
pending event of that call, oldest first. A queue task whose call is held by another worker
does not wait for it (``SKIP LOCKED``): it leaves its event to the holder, and every holder,
once it has let go of the call, applies the events that arrived meanwhile
(``apply_waiting``). So a worker never sits idle behind another's send to Telnyx, and
different calls never wait for each other.
"""

import logging
import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from ..analytics.outcomes import classify, exit_of
from ..engine import core
from ..engine.state import ENDED, NOT_LOOKED_UP, CallState, EventFacts
from ..menus.matching import find_menu_version
from ..models import Call, CallStep, Command, WebhookEvent
from ..telnyx.client import get_client, redact_body
from ..telnyx.errors import CallAlreadyEndedError, CommandValidationError, TelnyxError
from .context import call_context

logger = logging.getLogger("telnyx_ivr.engine")

# command_id = uuid5(this, "<event id>:<position>"): the same event processed twice yields the
# same ids, so Telnyx drops a resend and our unique index drops a second row.
COMMAND_ID_NAMESPACE = uuid.UUID("6f1c0c7e-3c55-4d0e-9a55-2f5d1c1e8a01")


def command_id_for(event_id, position):
    return str(uuid.uuid5(COMMAND_ID_NAMESPACE, f"{event_id}:{position}"))


@dataclass
class RetryLater(Exception):
    """Sending must be tried again later (through the queue, not by sleeping)."""

    call_pk: int
    countdown: float


def process_stored_event(event_pk, *, queue_wait_ms=None, skip_held_call=False):
    """Apply a stored event (and any other pending event of its call), then send commands.

    ``skip_held_call`` (the queue's tasks): when another worker holds the event's call, leave
    the event to it instead of waiting. Returns the event. Raises RetryLater when a command
    must be resent later. ``webhook_event_processed`` is sent for each event applied here,
    once its commands have gone out.
    """
    event = WebhookEvent.objects.filter(pk=event_pk).first()
    if event is None:
        logger.error("Webhook event %s no longer exists; nothing to process", event_pk)
        return None
    # The queue's wait goes with the row's update when the event is applied here (one write
    # less per step), or on its own when another task got to the event first.
    waits = {event.pk: queue_wait_ms} if queue_wait_ms is not None else {}
    if event.status != WebhookEvent.Status.PENDING:
        if waits and event.queue_wait_ms is None:
            WebhookEvent.objects.filter(pk=event.pk, queue_wait_ms=None).update(
                queue_wait_ms=queue_wait_ms
            )
            event.queue_wait_ms = queue_wait_ms
        call_pk = event.call_control_id and (
            Call.objects.filter(call_control_id=event.call_control_id)
            .values_list("pk", flat=True)
            .first()
        )
        if call_pk:  # applied already, perhaps by a worker that died before sending
            send_pending_commands(call_pk)
        return event
    if not event.call_control_id:
        _finish(event, WebhookEvent.Status.PROCESSED, "", waits=waits)
        _announce([event])
        return event
    finished = run_call(event.call_control_id, waits, skip_held=skip_held_call)
    # Not among them: another worker applied it between the first read and the lock, or
    # holds the call and will.
    return finished.get(event.pk) or _reread(event)


def run_call(call_control_id, waits=None, *, skip_held=False):
    """Apply the call's pending events and send its commands; again while events wait that
    arrived meanwhile. Returns the events finished here, by pk. With ``skip_held``, a call
    another worker holds is left to it. Raises RetryLater (once the waiting events are
    applied) when a command must be resent later."""
    finished, retry = {}, None
    while True:
        applied = apply_pending_events(call_control_id, waits, skip_held=skip_held)
        if applied is None:
            break  # held by another worker, which applies what waits when it lets go
        _send_signals(applied.signals)
        # A batch that stored no command has nothing to send: a command pending from before
        # has a sender already (the retry queued with it, the redelivered task of a worker
        # that died, or a rescue loop once it is overdue).
        if applied.stored_commands:
            try:
                send_pending_commands(applied.call_pk, known_pending=True, then_waiting=False)
            except RetryLater as later:
                retry = later  # the retry sends every pending command of the call
        _announce(applied.events.values())
        finished.update(applied.events)
        if not _pending_events(call_control_id).exists():
            break
        waits, skip_held = {}, True  # whoever holds the call now applies them
    if retry is not None:
        raise retry
    return finished


def apply_waiting(call_control_id):
    """For whoever has just let go of the call's lock: a queue task that found the call held
    left its event to the holder, so apply (and send) what is pending now."""
    if _pending_events(call_control_id).exists():
        run_call(call_control_id, skip_held=True)


def _pending_events(call_control_id):
    return WebhookEvent.objects.filter(
        call_control_id=call_control_id, status=WebhookEvent.Status.PENDING
    )


def _reread(event):
    event.refresh_from_db()
    return event


def _announce(events):
    from ..signals import webhook_event_processed

    for event in events:
        webhook_event_processed.send(sender=WebhookEvent, event=event)


@dataclass
class Applied:
    """What apply_pending_events did: the call, the events it finished (by pk, as now
    stored), the signals to send, and whether it stored commands to send."""

    call_pk: int
    events: dict
    signals: list
    stored_commands: bool


def apply_pending_events(call_control_id, waits=None, *, skip_held=False):
    """Lock the call (creating it on its first event) and apply its pending events in the
    order they occurred. ``waits`` maps event pks to their queue wait (ms), stored with
    them. Returns an ``Applied``, or None when ``skip_held`` and another worker holds the
    call.

    One failing event is marked failed with its error, and the rest still apply. Finding
    that out needs a savepoint around each event; they cost two round trips each, and almost
    every batch succeeds, so a batch is first applied without them and, when an event
    raises, rolled back and applied again with them.
    """
    try:
        with transaction.atomic():
            return _apply_batch(call_control_id, waits or {}, False, skip_held)
    except Exception:  # the second pass records which event failed, and why
        logger.info("An event of call %s raised: applying its batch again", call_control_id)
        with transaction.atomic():
            return _apply_batch(call_control_id, waits or {}, True, skip_held)


def _apply_batch(call_control_id, waits, isolate, skip_held):
    call = _lock_call(call_control_id, skip_held)
    if call is None:
        return None
    applied = Applied(call_pk=call.pk, events={}, signals=[], stored_commands=False)
    pending = _pending_events(call_control_id).order_by("occurred_at", "received_at", "pk")
    for event in pending:
        if not isolate:
            _apply_one(call, event, waits, applied)
            continue
        try:
            with transaction.atomic():
                _apply_one(call, event, waits, applied)
        except Exception as exc:  # one bad event must not block the call's others
            logger.exception("Failed to process event %s", event.event_id)
            error = f"{type(exc).__name__}: {exc}"
            _finish(event, WebhookEvent.Status.FAILED, error, waits=waits)
            applied.events[event.pk] = event
            call.refresh_from_db()
            _fail_call(call, f"the engine could not process {event.event_type}")
    return applied


def _apply_one(call, event, waits, applied):
    signals, note, commands = _apply(call, event)
    # Kept only once the event's savepoint (if any) is through: a failure drops them.
    _finish(event, WebhookEvent.Status.PROCESSED, "", note, waits=waits)
    applied.signals.extend(signals)
    applied.events[event.pk] = event
    applied.stored_commands = applied.stored_commands or commands


def _lock_call(call_control_id, skip_held=False):
    """The call, locked (created on its first event), or None when ``skip_held`` and
    another worker holds it."""
    call = _locking(skip_held).filter(call_control_id=call_control_id).first()
    if call is not None:
        return call
    if skip_held and Call.objects.filter(call_control_id=call_control_id).exists():
        return None  # there, but held by another worker (one read: no failing INSERT)
    try:
        with transaction.atomic():
            Call.objects.create(call_control_id=call_control_id)
    except IntegrityError:  # another worker has it: it created it, or holds it
        if skip_held:
            return None
    return _locking(False).get(call_control_id=call_control_id)


def _locking(skip_held):
    """Lock the call's row (only it: a menu version is shared by every call) and read its
    menu version in the same round trip, since every step needs the definition."""
    calls = Call.objects.select_for_update(of=("self",), skip_locked=skip_held)
    return calls.select_related("menu_version")


def _apply(call, event):
    facts = EventFacts(
        event_id=event.event_id,
        event_type=event.event_type,
        occurred_at=event.occurred_at,
        payload=event.event_payload,
        client_state=event.client_state,
    )
    if event.event_type == "call.initiated" and call.menu_version_id is None:
        _choose_menu(call, event.event_payload)
    menu = call.menu_version.definition if call.menu_version_id else None
    now = timezone.now()

    def decide(context):
        state = CallState.from_dict(call.state) if call.state else None
        return core.decide(
            state, menu, facts, resolve_callable=resolve_callable, now=now, context=context
        )

    # Most steps reach no office-hours node and no check of earlier calls: their lookups
    # are made only for the steps that do.
    try:
        decision = decide(NOT_LOOKED_UP)
    except core.ContextNeeded:
        decision = decide(call_context(call, menu))
    _store_state(call, decision.state, event.event_payload)
    _store_steps(call, decision.steps)
    # One INSERT for them all; deciding the event again makes the same ids, which the
    # unique command_id turns into nothing.
    Command.objects.bulk_create(
        [
            Command(
                command_id=command_id_for(event.event_id, position),
                call=call,
                event=event,
                position=position,
                action=spec.action,
                body=redact_body(spec.action, spec.params),
                params=spec.params,
            )
            for position, spec in enumerate(decision.commands)
        ],
        ignore_conflicts=True,
    )
    if decision.ignored:
        note = f"ignored: {decision.ignored_reason}"
    else:  # the core's note starts with the event type, which the row has already
        note = decision.note.removeprefix(event.event_type).removeprefix("; ")
    signals = [(name, call, data) for name, data in decision.signals]
    return signals, note, bool(decision.commands)


def _choose_menu(call, payload):
    if payload.get("direction") == "outgoing":
        return
    version = find_menu_version(
        to=_text(payload.get("to")), connection_id=_text(payload.get("connection_id"))
    )
    if version is not None:
        call.menu_version = version
        call.menu_id = version.menu_id


def _store_state(call, state, payload):
    """Store the engine's state and the columns copied from it, what the call counts as
    (telnyx_ivr.analytics.outcomes) among them."""
    call.state = state.to_dict()
    call.status = state.status
    call.current_node = state.node or ""
    call.direction = state.direction or call.direction
    call.call_session_id = state.call_session_id or call.call_session_id
    call.call_leg_id = state.call_leg_id or call.call_leg_id
    call.from_number = call.from_number or state.variables.get("caller_number", "")
    call.to_number = call.to_number or state.variables.get("called_number", "")
    call.connection_id = call.connection_id or _text(payload.get("connection_id"))
    call.started_at = state.started_at
    call.answered_at = state.answered_at
    call.ended_at = state.ended_at
    call.hangup_cause = state.hangup_cause
    call.hangup_source = state.hangup_source
    call.is_test = state.simulated
    if call.direction == "outgoing" and call.parent_id is None and call.call_session_id:
        call.parent = _call_that_transferred(call)
    if call.parent is not None:
        call.is_test = call.parent.is_test
    result = classify(state)
    counted = call.direction == "incoming" and call.menu_version_id is not None
    call.outcome = result.outcome if counted else ""
    call.outcome_node = result.node if counted else ""
    call.transferred_to, call.transferred_at = state.transferred_to, state.transferred_at
    call.ended_by = result.ended_by
    call.menu_seconds = result.menu_seconds
    call.failure = state.failure
    call.save()


def _call_that_transferred(leg):
    """A transfer's new leg shares its call's session; it is shown inside that call."""
    return (
        Call.objects.filter(call_session_id=leg.call_session_id, direction="incoming")
        .exclude(pk=leg.pk)
        .order_by("pk")
        .first()
    )


def _fail_call(call, reason):
    """An error ends the call (or will): it counts as failed, with the first reason kept."""
    state = CallState.from_dict(call.state) if call.state else CallState()
    if not state.failure:
        state.failure = reason
        _store_state(call, state, {})


def _store_steps(call, records):
    """Write the call log's step rows that a decision opened or closed: one SELECT for the
    rows that exist, then one INSERT or UPDATE a row. The call's lock is held, so no other
    worker writes this call's steps meanwhile."""
    if not records:
        return
    existing = CallStep.objects.filter(call=call, step__in={record.step for record in records})
    # Every row selected belongs to a record, so every row in ``steps`` is written below.
    steps = {step.step: step for step in existing}
    for record in records:
        step = steps.get(record.step)
        if step is None:
            step = steps[record.step] = CallStep(
                call=call,
                step=record.step,
                node_key=record.node,
                node_kind=record.node_kind,
                started_at=record.at,
            )
        _record_on_step(step, record)
    for step in steps.values():
        step.save()


def _record_on_step(step, record):
    step.tries = max(step.tries, record.tries)
    if record.kind == "closed":
        step.ended_at = record.at
        step.outcome = record.outcome
        step.exit = exit_of(step.node_kind, record.outcome, record.digits, call_ended=False) or ""
        if record.digits is not None:
            step.digits = record.digits
        if record.result is not None:
            step.result = record.result
    elif record.kind == "retried" and record.digits is not None:
        step.digits = record.digits


def _finish(event, status, error, note="", waits=None):
    """Store the event's outcome, and set it on ``event`` too, which is then as stored."""
    wait = (waits or {}).get(event.pk)
    fields = {"status": status, "error": error, "note": note[:2000]}
    fields["processed_at"] = timezone.now()
    if wait is not None and event.queue_wait_ms is None:
        fields["queue_wait_ms"] = wait
    WebhookEvent.objects.filter(pk=event.pk).update(**fields)
    for name, value in fields.items():
        setattr(event, name, value)


def resolve_callable(path, variables):
    """Route targets of type ``callable``: ``path`` names ``def pick(variables) -> node key``."""
    return import_string(path)(variables)


def send_pending_commands(call_pk, *, known_pending=False, then_waiting=True):
    """Send the call's pending commands in order, holding the call's lock.

    Every send is one attempt with the command's stored ``command_id``; a retryable failure
    (429, 5xx, timeout, network) raises RetryLater for the queue to try again, so a worker
    never sleeps. "Call has already ended" (90018) ends the call and cancels what is left.
    A command that fails for good (refused, out of retries, a retry that would wait longer
    than RETRY_GIVE_UP_SECONDS, or parameters Telnyx would reject) goes to the core's
    ``command_failed``, whose fallback commands are stored and sent here in turn.

    Then, having let go of the call (unless ``then_waiting`` is False: the caller does it),
    it applies the events that arrived meanwhile (``apply_waiting``).
    """
    # Most key presses store no command: that needs no lock. A command stored after this
    # look is sent by whoever stored it. ``known_pending``: the caller has just stored some.
    if not known_pending and not _pending(Command.objects.filter(call_id=call_pk)).exists():
        return
    signals, retry_later, client = [], None, None
    with transaction.atomic():
        call = Call.objects.select_for_update().get(pk=call_pk)
        # Nobody else stores this call's commands while its lock is held, so one read of them
        # holds until a fallback replaces what was left.
        queue = _queue(call)
        while queue:
            command = queue.pop(0)
            if call.status == Call.Status.ENDED:
                _close_command(command, Command.Status.CANCELLED, error="the call had ended")
                continue
            if client is None:  # the client needs an API key; calls that send nothing need none
                client = get_client()
                policy = client.retry_policy
            try:
                result = client.send(
                    command.action,
                    call.call_control_id,
                    command.params or {},
                    command_id=command.command_id,
                    retry=False,
                )
            except CommandValidationError as exc:  # a menu Telnyx would refuse: never resend
                _close_command(command, Command.Status.FAILED, error=str(exc))
                reason = f"{command.action} was refused before it was sent: {exc}"
                signals.extend(_fall_back(call, command, reason, http_status=None))
                queue = _queue(call)
                continue
            except CallAlreadyEndedError as exc:
                _record_failure(command, exc, final=True)
                signals.extend(_end_call(call))  # also cancels every command still pending
                break
            except TelnyxError as exc:
                attempts = command.attempts + max(exc.attempts, 1)
                delay = policy.retry_delay(attempts, exc)
                if delay is not None:
                    # Due again then: the queue brings it back, or else a rescue loop.
                    command.retry_at = timezone.now() + timedelta(seconds=delay)
                _record_failure(command, exc, final=delay is None)
                if delay is not None:
                    retry_later = RetryLater(call_pk=call.pk, countdown=delay)
                    break  # later commands wait: they must reach Telnyx after this one
                reason = f"{command.action} failed: {exc}"
                signals.extend(_fall_back(call, command, reason, http_status=exc.status_code))
                queue = _queue(call)
                continue
            _record_success(call, command, result)
    _send_signals(signals)
    if then_waiting:
        try:
            apply_waiting(call.call_control_id)
        except RetryLater as later:
            retry_later = retry_later or later  # either sends every pending command
    if retry_later is not None:
        raise retry_later


def _pending(commands):
    return commands.filter(status=Command.Status.PENDING)


def _queue(call):
    return list(_pending(call.commands.order_by("pk")))


def fallback_command_id(failed_command_id, position):
    """The id of a fallback's command: derived from the failed one, so deciding the same
    failure again yields the same ids."""
    return str(uuid.uuid5(COMMAND_ID_NAMESPACE, f"fallback:{failed_command_id}:{position}"))


def _fall_back(call, failed, reason, *, http_status):
    """Store what the core decides for ``failed``, a command that failed for good: the
    state (the call counts as failed), the closed step, the fallback's commands (sent next,
    by the caller's loop) and, on the failed command, the note the timeline shows."""
    decision = core.command_failed(
        CallState.from_dict(call.state) if call.state else None,
        call.menu_version.definition if call.menu_version_id else None,
        failed.action,
        tries=failed.attempts,
        http_status=http_status,
        reason=reason,
        now=timezone.now(),
    )
    _store_state(call, decision.state, {})
    _store_steps(call, decision.steps)
    if decision.commands:  # the menu's own flow is over: nothing of it may follow the fallback
        call.commands.filter(status=Command.Status.PENDING).update(
            status=Command.Status.CANCELLED, params=None, error="replaced by the fallback"
        )
    for position, spec in enumerate(decision.commands):
        Command.objects.get_or_create(
            command_id=fallback_command_id(failed.command_id, position),
            defaults={
                "call": call,
                "position": position,
                "action": spec.action,
                "body": redact_body(spec.action, spec.params),
                "params": spec.params,
                "note": f"the fallback after {failed.action} failed",
            },
        )
    failed.note = decision.note[:2000]
    failed.save(update_fields=["note"])
    logger.warning("Call %s: %s", call.call_control_id, decision.note)
    return [(name, call, data) for name, data in decision.signals]


def _record_success(call, command, result):
    command.attempts += result.attempts
    command.http_status = result.status_code
    command.latency_ms = result.latency_ms
    command.response = result.data
    command.sent_at = timezone.now()
    _close_command(command, Command.Status.SENT)
    state = core.apply_command_result(CallState.from_dict(call.state), command.action, result.data)
    if state.to_dict() != call.state:  # most responses change nothing: no write for them
        call.state = state.to_dict()
        call.save(update_fields=["state", "updated_at"])


def _record_failure(command, exc, *, final):
    command.attempts += max(exc.attempts, 1)
    command.latency_ms = None
    command.http_status = exc.status_code
    command.error_code = ",".join(exc.codes)[:32]
    command.error = str(exc)[:2000]
    if final:
        _close_command(command, Command.Status.FAILED)
    else:
        # A rescue's claim covers one try: this one is over, and the retry it needs may find
        # no broker to queue it on, so the next rescue must be free to take it when due.
        command.requeued_at = None
        command.save()


def _close_command(command, status, error=None):
    command.status = status
    command.params = None  # final: nothing will resend it
    if error:
        command.error = error
    command.save()


def _end_call(call):
    """Telnyx says the call is over although no call.hangup has been applied yet."""
    state = CallState.from_dict(call.state)
    if state.status == ENDED:
        return []
    state.status = ENDED
    state.ended_at = state.ended_at or timezone.now()
    state.hangup_cause = state.hangup_cause or "call_already_ended"
    state.failure = state.failure or "Telnyx said the call had already ended (90018)"
    _store_state(call, state, {})
    call.commands.filter(status=Command.Status.PENDING).update(
        status=Command.Status.CANCELLED, params=None, error="the call had ended"
    )
    return [("call_ended", call, {"hangup_cause": state.hangup_cause, "reason": "90018"})]


def _send_signals(signals):
    from .. import signals as ivr_signals

    for name, call, data in signals:
        signal = getattr(ivr_signals, name, None)
        if signal is not None:
            signal.send_event(Call, call, data)


def _text(value):
    return value if isinstance(value, str) else ""
