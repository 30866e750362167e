"""One simulated call: its state, the commands it accepts and the webhooks each one causes.

Every method here runs with the simulator's lock held (the simulator takes it). Methods that
cause webhooks return them as a list of ``Outgoing``; the simulator submits them once the
command's HTTP answer has gone, so they follow the answer as Telnyx's do.
"""

import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field

from ..telnyx.client_state import is_base64
from . import api_errors
from .gathers import GatherRules, collect
from .script import AIResult, EndConversation, HangUp, Press, Silence
from .transcript import Entry, render, short_json
from .webhooks import Outgoing, iso_now

# Commands Telnyx accepts on an inbound call that is still parked (not answered).
BEFORE_ANSWER = frozenset({"answer", "hangup", "transfer"})
SIP_CAUSES = {
    "normal_clearing": "200",
    "originator_cancel": "487",
    "user_busy": "486",
    "timeout": "408",
    "no_answer": "480",
    "call_rejected": "603",
    "not_found": "404",
    "time_limit": "200",
}
MAX_SPEECH_CHARACTERS = 3000
PAYLOAD_TYPES = ("text", "ssml")


@dataclass
class Prompt:
    """A prompt that waits for the caller: a DTMF gather, an AI gather or an AI assistant."""

    kind: str  # dtmf, ai_gather, assistant
    action: str
    body: dict
    client_state: str | None
    rules: GatherRules | None = None
    tries: int = 0
    conversation_id: str | None = None


@dataclass
class Media:
    """A speak or playback still playing (only when announcements take time)."""

    kind: str  # speak, playback
    client_state: str | None
    fields: dict
    timer: threading.Timer | None = None


@dataclass
class Leg:
    call_control_id: str
    call_leg_id: str
    from_: str
    to: str


@dataclass
class CommandOutcome:
    data: dict = field(default_factory=lambda: {"result": "ok"})
    outgoing: list = field(default_factory=list)


class SimulatedCall:
    """An inbound call on the simulator; create with ``TelnyxSimulator.start_call``."""

    def __init__(self, sim, *, from_, to, connection_id, caller, webhook_url):
        self._sim = sim
        self.caller = caller
        self.webhook_url = webhook_url
        self.from_ = from_
        self.to = to
        self.connection_id = connection_id
        self.call_control_id = _call_control_id()
        self.call_leg_id = str(uuid.uuid1())
        self.call_session_id = str(uuid.uuid1())
        self.state = "parked"  # parked, answered, bridged, ended
        self.start_time = iso_now()
        self.outcome = None  # set when the call ends: ended_by, hangup_cause, transferred_to
        self.transferred_to = None
        self.prompt = None
        self.media = None
        self.last_client_state = None
        self.commands = []  # CommandRecord, in arrival order
        self.webhooks = []  # WebhookRecord, one per delivery attempt, in sending order
        self.command_replies = {}  # command_id -> (monotonic time, response data)
        self.pending_webhooks = 0
        self._entries = []
        self._t0 = time.monotonic()

    # --- reading the call (thread-safe) --------------------------------------------------

    def __repr__(self):
        return f"<SimulatedCall {self.call_control_id} {self.state} {self.from_}->{self.to}>"

    def entries(self):
        """The transcript entries so far (copies)."""
        with self._sim.lock:
            return list(self._entries)

    @property
    def transcript(self):
        """The transcript as plain data: a list of dicts with ``t``, ``kind``, ``text``."""
        return [entry.as_dict() for entry in self.entries()]

    def transcript_text(self):
        """The readable transcript."""
        with self._sim.lock:
            return render(self)

    def checks(self):
        """Every expectation checked so far: (description, held, failure message)."""
        with self._sim.lock:
            return list(self.caller.checks)

    @property
    def failures(self):
        """The failure messages of expectations that did not hold (and script misfits)."""
        with self._sim.lock:
            return list(self.caller.failures)

    @property
    def passed(self):
        return not self.failures

    def assert_expectations(self):
        """Raise AssertionError with the failures and the transcript unless all held."""
        failures = self.failures
        if failures:
            raise AssertionError(
                "simulated call expectations failed:\n  - "
                + "\n  - ".join(failures)
                + "\n\n"
                + self.transcript_text()
            )

    @property
    def ended(self):
        return self.outcome is not None

    @property
    def waiting_for_caller(self):
        """True while a prompt waits for a step the script does not have yet."""
        with self._sim.lock:
            return (
                self.outcome is None and self.prompt is not None and self.caller.peek_step() is None
            )

    @property
    def settled(self):
        """Ended, with every webhook delivered."""
        return self.outcome is not None and self.pending_webhooks == 0

    def wait_for_end(self, timeout=10.0):
        """Wait until the call has ended and its webhooks are delivered; return the outcome."""
        self._sim.wait_until(
            lambda: self.settled,
            timeout,
            message=f"call {self.call_control_id} to end",
            call=self,
        )
        return self.outcome

    def wait_for_prompt(self, timeout=10.0):
        """Wait until a prompt waits for the caller (``waiting_for_caller``) or the call ends."""
        self._sim.wait_until(
            lambda: (
                self.outcome is not None or (self.waiting_for_caller and self.pending_webhooks == 0)
            ),
            timeout,
            message=f"call {self.call_control_id} to wait for the caller",
            call=self,
        )
        return self.prompt.action if self.prompt else None

    # --- driving the caller by hand (thread-safe) ----------------------------------------

    def add_step(self, step):
        """Append a script step (or expectation) and play it if a prompt is waiting."""
        with self._sim.lock:
            self.caller.add_step(step)
            outgoing = self.serve_prompt() if self.outcome is None else []
        self._sim.submit(outgoing)

    def press(self, digits, gap=0.0):
        self.add_step(Press(str(digits), gap=gap))

    def stay_silent(self):
        self.add_step(Silence())

    def answer_ai(self, result, status="valid", partial_results=(), message_history=None):
        self.add_step(
            AIResult(
                result=result,
                status=status,
                partial_results=tuple(partial_results),
                message_history=tuple(message_history) if message_history is not None else None,
            )
        )

    def end_conversation(self, duration_sec=3):
        self.add_step(EndConversation(duration_sec))

    def hang_up(self, cause="normal_clearing"):
        """The caller hangs up now."""
        self._sim.hang_up(self, cause)

    # --- transcript ----------------------------------------------------------------------

    def elapsed(self):
        return time.monotonic() - self._t0

    def note(self, kind, text, **data):
        self._entries.append(Entry(self.elapsed(), kind, text, data))

    def notes_append(self, entry):
        self._entries.append(entry)

    def heard(self, what, text):
        if isinstance(text, str) and text:
            self.note("heard", f'{what}: "{text}"', prompt=text)
            self.caller.heard(text)

    # --- webhooks ------------------------------------------------------------------------

    def event(self, event_type, client_state, *, leg=None, delay=0.0, data_extra=None, **fields):
        leg = leg or Leg(self.call_control_id, self.call_leg_id, self.from_, self.to)
        payload = {
            "call_control_id": leg.call_control_id,
            "call_leg_id": leg.call_leg_id,
            "call_session_id": self.call_session_id,
            "connection_id": self.connection_id,
            "client_state": client_state,
            "from": leg.from_,
            "to": leg.to,
            "calling_party_type": "pstn",
            **fields,
        }
        return Outgoing(self, event_type, payload, delay=delay, data_extra=data_extra or {})

    def initiated(self):
        self.note("call", f"incoming call from {self.from_} to {self.to}")
        return [
            self.event(
                "call.initiated",
                None,
                direction="incoming",
                state="parked",
                start_time=self.start_time,
                caller_id_name=self.from_,
                # Not a Telnyx field: it marks the call as a test call in the call log.
                simulated=True,
            )
        ]

    # --- commands ------------------------------------------------------------------------

    def handle(self, action, body):
        """Act on an accepted command; return CommandOutcome or raise api_errors.APIError."""
        if self.outcome is not None:
            raise api_errors.call_ended()
        if self.state == "parked" and action not in BEFORE_ANSWER:
            raise api_errors.call_not_answered()
        client_state = body.get("client_state")
        if client_state is not None and (
            not isinstance(client_state, str) or not is_base64(client_state)
        ):
            raise api_errors.invalid("client_state", "client_state must be base64 text")
        handler = getattr(self, f"_do_{action}")
        outcome = handler(body, client_state)
        self.last_client_state = client_state
        return outcome

    def _do_answer(self, body, cs):
        if self.state != "parked":
            self.note("note", "answer on a call already answered: nothing to do")
            return CommandOutcome()
        self.state = "answered"
        return CommandOutcome(
            outgoing=[self.event("call.answered", cs, start_time=self.start_time)]
        )

    def _do_hangup(self, body, cs):
        outgoing = self._end_open()
        outgoing += self._hangup_events("normal_clearing", "callee", cs)
        self._finish("app", "normal_clearing")
        return CommandOutcome(outgoing=outgoing)

    def _do_gather(self, body, cs):
        return self._open_digits("gather", body, cs)

    def _do_gather_using_speak(self, body, cs):
        _require(body, "payload", "voice")
        _check_enum(body, "payload_type", PAYLOAD_TYPES)
        return self._open_digits("gather_using_speak", body, cs)

    def _do_gather_using_audio(self, body, cs):
        _exclusive(body, "audio_url", "media_name")
        _exclusive(body, "invalid_audio_url", "invalid_media_name")
        return self._open_digits("gather_using_audio", body, cs)

    def _open_digits(self, action, body, cs):
        rules = GatherRules.from_command(body, with_tries=action != "gather")
        outgoing = self._replace_prompt()
        self.prompt = Prompt("dtmf", action, body, cs, rules=rules)
        outgoing += self._play_digit_prompt(self.prompt, after=None)
        outgoing += self.serve_prompt()
        return CommandOutcome(outgoing=outgoing)

    def _do_gather_stop(self, body, cs):
        if self.prompt is None or self.prompt.kind != "dtmf":
            self.note("note", "gather_stop with no gather open: nothing to stop")
            return CommandOutcome()
        self.prompt = None
        return CommandOutcome(
            outgoing=[self.event("call.gather.ended", cs, digits="", status="cancelled")]
        )

    def _do_gather_using_ai(self, body, cs):
        if not isinstance(body.get("parameters"), dict):
            raise api_errors.missing(
                "parameters", "The 'parameters' parameter is required: a JSON Schema object."
            )
        for name in ("greeting", "gather_ended_speech"):
            _check_length(body, name)
        return self._open_conversation("ai_gather", "gather_using_ai", body, cs)

    def _do_ai_assistant_start(self, body, cs):
        _check_length(body, "greeting")
        return self._open_conversation("assistant", "ai_assistant_start", body, cs)

    def _open_conversation(self, kind, action, body, cs):
        for name in ("assistant", "voice_settings", "transcription", "interruption_settings"):
            if body.get(name) is not None and not isinstance(body[name], dict):
                raise api_errors.invalid(name, f"{name} must be an object")
        if body.get("message_history") is not None and not isinstance(
            body["message_history"], list
        ):
            raise api_errors.invalid("message_history", "message_history must be a list")
        if self.prompt is not None and self.prompt.kind in ("ai_gather", "assistant"):
            raise api_errors.assistant_active()
        conversation_id = str(uuid.uuid4())
        outgoing = self._replace_prompt()
        self.prompt = Prompt(kind, action, body, cs, conversation_id=conversation_id)
        outgoing.append(
            self.event("call.conversation.created", cs, conversation_id=conversation_id)
        )
        self.heard("AI greeting", body.get("greeting"))
        outgoing += self.serve_prompt()
        return CommandOutcome(
            data={"result": "ok", "conversation_id": conversation_id}, outgoing=outgoing
        )

    def _do_ai_assistant_stop(self, body, cs):
        if self.prompt is not None and self.prompt.kind == "assistant":
            self.prompt = None
            self.note("note", "AI assistant stopped by the app")
        else:
            self.note("note", "ai_assistant_stop with no assistant running")
        return CommandOutcome()

    def _do_ai_assistant_add_messages(self, body, cs):
        messages = body.get("messages")
        if messages is not None and not isinstance(messages, list):
            raise api_errors.invalid("messages", "messages must be a list of objects")
        self.note("note", f"{len(messages or [])} message(s) added to the AI assistant")
        return CommandOutcome()

    def _do_speak(self, body, cs):
        _require(body, "payload", "voice")
        _check_enum(body, "payload_type", PAYLOAD_TYPES)
        self.heard("speak", body["payload"])
        return CommandOutcome(outgoing=self._play_media("speak", cs, {}))

    def _do_playback_start(self, body, cs):
        if not any(body.get(name) for name in ("audio_url", "media_name", "playback_content")):
            raise api_errors.missing(
                "audio_url", "One of audio_url, media_name or playback_content is required."
            )
        _exclusive(body, "audio_url", "media_name")
        fields = {"overlay": bool(body.get("overlay", False))}
        if body.get("audio_url"):
            fields["media_url"] = body["audio_url"]
        if body.get("media_name"):
            fields["media_name"] = body["media_name"]
        self.heard(
            "playback",
            body.get("audio_url")
            or body.get("media_name")
            or f"(playback_content, {len(str(body['playback_content']))} characters)",
        )
        return CommandOutcome(outgoing=self._play_media("playback", cs, fields))

    def _do_playback_stop(self, body, cs):
        if self.media is None or self.media.kind != "playback":
            self.note("note", "playback_stop with nothing playing: nothing to stop")
            return CommandOutcome()
        media = self.stop_media()
        return CommandOutcome(
            outgoing=[self.event("call.playback.ended", cs, status="cancelled", **media.fields)]
        )

    def _do_transfer(self, body, cs):
        _require(body, "to")
        target = body["to"]
        new_leg = Leg(_call_control_id(), str(uuid.uuid1()), body.get("from") or self.to, target)
        outgoing = self._end_open()
        outgoing.append(
            self.event(
                "call.initiated",
                cs,
                leg=new_leg,
                direction="outgoing",
                state="bridging",
                start_time=iso_now(),
            )
        )
        result = self.caller.transfer_outcome
        if result != "answered":
            self.note("transfer", f"transfer to {target}: no answer ({result})")
            outgoing.append(self._hangup_event(result, "callee", cs, leg=new_leg))
            return CommandOutcome(outgoing=outgoing)
        self.state = "bridged"
        self.transferred_to = target
        self.note("transfer", f"transferred to {target}", to=target)
        outgoing.append(self.event("call.bridged", cs))
        outgoing.append(self.event("call.answered", cs, leg=new_leg, start_time=iso_now()))
        if self.caller.hang_up_after_transfer:
            outgoing += self.caller_hangs_up("normal_clearing")
        return CommandOutcome(outgoing=outgoing)

    # --- prompts and the caller ----------------------------------------------------------

    def serve_prompt(self):
        """Give the open prompt the caller's steps until it closes or waits for more."""
        outgoing = []
        while self.prompt is not None and self.outcome is None:
            step = self.caller.take_step(self.prompt.action)
            if step is None:
                break
            outgoing += self._apply(step)
        return outgoing

    def _apply(self, step):
        prompt = self.prompt
        if isinstance(step, HangUp):
            return self.caller_hangs_up(step.cause)
        if prompt.kind == "dtmf" and isinstance(step, Press | Silence):
            return self._dtmf_try(prompt, step)
        if prompt.kind == "ai_gather" and isinstance(step, AIResult | Silence):
            return self._ai_gather_ends(prompt, step)
        if prompt.kind == "assistant" and isinstance(step, EndConversation | Silence):
            return self._conversation_ends(prompt, step)
        message = f"script step {step.describe()} does not fit {prompt.action}; the caller hangs up"
        self.caller.failures.append(message)
        self.caller.checks.append(("script fits the prompts", False, message))
        self.note("failure", message)
        return self.caller_hangs_up("normal_clearing")

    def _play_digit_prompt(self, prompt, after):
        """What the caller hears at the start of a try; ``after`` is how the last try ended."""
        body, outgoing = prompt.body, []
        if prompt.action == "gather_using_speak":
            if after == "invalid":
                self.heard("invalid input", body.get("invalid_payload"))
            self.heard("menu", body.get("payload"))
        elif prompt.action == "gather_using_audio":
            if after == "invalid":
                self.heard(
                    "invalid input", body.get("invalid_audio_url") or body.get("invalid_media_name")
                )
            fields = {"overlay": False}
            if body.get("audio_url"):
                fields["media_url"] = body["audio_url"]
            if body.get("media_name"):
                fields["media_name"] = body["media_name"]
            self.heard("menu", body.get("audio_url") or body.get("media_name"))
            outgoing.append(self.event("call.playback.started", prompt.client_state, **fields))
            outgoing.append(
                self.event("call.playback.ended", prompt.client_state, status="completed", **fields)
            )
        return outgoing

    def _dtmf_try(self, prompt, step):
        keys = step.digits if isinstance(step, Press) else ""
        result = collect(keys, prompt.rules)
        outgoing = []
        if isinstance(step, Silence):
            self.note("caller", "stays silent")
        for index, key in enumerate(result.heard):
            self.note("caller", f"pressed {key}", key=key)
            outgoing.append(
                self.event(
                    "call.dtmf.received",
                    prompt.client_state,
                    delay=step.gap if index else 0.0,
                    digit=key,
                )
            )
        if result.ignored:
            self.note("note", f"keys {result.ignored} came after the gather had ended")
        prompt.tries += 1
        tries = prompt.rules.maximum_tries
        if result.status != "valid" and prompt.tries < tries:
            self.note(
                "gather", f"try {prompt.tries} of {tries} ended {result.status}; prompt again"
            )
            return outgoing + self._play_digit_prompt(prompt, after=result.status)
        self.prompt = None
        self.note("gather", f'gather ended {result.status} with digits "{result.digits}"')
        fields = {"digits": result.digits, "status": result.status}
        if prompt.body.get("gather_id"):
            fields["gather_id"] = prompt.body["gather_id"]
        outgoing.append(self.event("call.gather.ended", prompt.client_state, **fields))
        return outgoing

    def _ai_gather_ends(self, prompt, step):
        body, cs = prompt.body, prompt.client_state
        if isinstance(step, Silence):
            step = AIResult(result={}, status="invalid")
            self.note("caller", "stays silent")
        else:
            self.note("caller", f"AI result {step.status}: {short_json(step.result)}")
        if step.message_history is not None:
            history = [dict(message) for message in step.message_history]
        else:
            history = [dict(m) for m in body.get("message_history") or [] if isinstance(m, dict)]
            if body.get("greeting"):
                history.append({"role": "assistant", "content": body["greeting"]})
        outgoing = []
        if body.get("send_partial_results"):
            for partial in step.partial_results:
                outgoing.append(
                    self.event(
                        "call.ai_gather.partial_results",
                        cs,
                        partial_results=partial,
                        message_history=history,
                    )
                )
        elif step.partial_results:
            self.note("note", "partial results not sent: the command did not ask for them")
        if body.get("send_message_history_updates"):
            for count in range(1, len(history) + 1):
                outgoing.append(
                    self.event(
                        "call.ai_gather.message_history_updated",
                        cs,
                        message_history=history[:count],
                    )
                )
        outgoing.append(
            self.event(
                "call.ai_gather.ended",
                cs,
                result=step.result,
                message_history=history,
                status=step.status,
            )
        )
        self.heard("AI gather ended", body.get("gather_ended_speech"))
        outgoing.append(self._conversation_ended(prompt, 3))
        self.prompt = None
        return outgoing

    def _conversation_ends(self, prompt, step):
        duration = step.duration_sec if isinstance(step, EndConversation) else 3
        self.note("caller", "ends the AI conversation")
        self.prompt = None
        return [
            self._conversation_ended(prompt, duration),
            self.event(
                "call.conversation_insights.generated",
                prompt.client_state,
                conversation_id=prompt.conversation_id,
                insight_group_id=str(uuid.uuid4()),
                results=[],
            ),
        ]

    def _conversation_ended(self, prompt, duration_sec):
        assistant = prompt.body.get("assistant") or {}
        return self.event(
            "call.conversation.ended",
            prompt.client_state,
            data_extra={"created_at": None},
            conversation_id=prompt.conversation_id,
            assistant_id=assistant.get("id") or f"assistant-{self.connection_id}",
            duration_sec=duration_sec,
            llm_model=assistant.get("model") or "simulated",
            stt_model="simulated",
            tts_provider="simulated",
            tts_model_id="simulated",
            tts_voice_id=prompt.body.get("voice") or "Telnyx.KokoroTTS.af",
        )

    def _play_media(self, kind, cs, fields):
        next_step = self.caller.peek_step()
        outgoing = [self.event(f"call.{kind}.started", cs, **fields)]
        if isinstance(next_step, HangUp) and next_step.during_announcement:
            self.caller.take_step(kind)
            self.media = Media(kind, cs, fields)
            return outgoing + self.caller_hangs_up(next_step.cause)
        seconds = self.caller.announcement_seconds
        if not seconds:
            outgoing.append(self.event(f"call.{kind}.ended", cs, status="completed", **fields))
            return outgoing
        media = Media(kind, cs, fields)
        media.timer = threading.Timer(seconds, self._sim.media_finished, (self, media))
        media.timer.daemon = True
        self.media = media
        media.timer.start()
        return outgoing

    def media_finished(self, media):
        """A timed announcement played to its end (timer thread, lock held)."""
        if self.media is not media or self.outcome is not None:
            return []
        self.media = None
        return [
            self.event(
                f"call.{media.kind}.ended", media.client_state, status="completed", **media.fields
            )
        ]

    def stop_media(self):
        """Stop what is playing (its end timer too); return it, or None when nothing was."""
        media, self.media = self.media, None
        if media is not None and media.timer:
            media.timer.cancel()
        return media

    def _replace_prompt(self):
        if self.prompt is not None:
            self.note("note", f"{self.prompt.action} replaced by a new command before it ended")
            self.prompt = None
        self.stop_media()
        return []

    # --- ending --------------------------------------------------------------------------

    def caller_hangs_up(self, cause):
        """The caller hangs up: what is open ends with call_hangup, then call.hangup."""
        self.note("caller", f"hangs up ({cause})")
        cs = self.prompt.client_state if self.prompt else self.last_client_state
        outgoing = self._end_open()
        outgoing += self._hangup_events(cause, "caller", cs)
        self._finish("caller", cause)
        return outgoing

    def _end_open(self):
        """End what is playing or waiting with ``call_hangup`` (the call is going away)."""
        outgoing = []
        media = self.stop_media()
        if media is not None:
            outgoing.append(
                self.event(
                    f"call.{media.kind}.ended",
                    media.client_state,
                    status="call_hangup",
                    **media.fields,
                )
            )
        prompt, self.prompt = self.prompt, None
        if prompt is not None:
            if prompt.kind == "dtmf":
                outgoing.append(
                    self.event(
                        "call.gather.ended", prompt.client_state, digits="", status="call_hangup"
                    )
                )
            else:
                outgoing.append(self._conversation_ended(prompt, 1))
        return outgoing

    def _hangup_events(self, cause, source, client_state):
        return [self._hangup_event(cause, source, client_state)]

    def _hangup_event(self, cause, source, client_state, leg=None):
        return self.event(
            "call.hangup",
            client_state,
            leg=leg,
            hangup_cause=cause,
            hangup_source=source,
            sip_hangup_cause=SIP_CAUSES.get(cause, "unspecified"),
            start_time=self.start_time,
            end_time=iso_now(),
            state="hangup",
        )

    def _finish(self, ended_by, cause):
        self.prompt = None
        self.state = "ended"
        self.outcome = {
            "ended_by": ended_by,
            "hangup_cause": cause,
            "transferred_to": self.transferred_to,
            "duration_seconds": round(self.elapsed(), 3),
        }
        text = "hung up by the app" if ended_by == "app" else "the caller hung up"
        if self.transferred_to:
            text += f" after a transfer to {self.transferred_to}"
        self.note("ended", f"{text} ({cause})", **self.outcome)
        self.caller.call_ended(self.outcome)


def _call_control_id():
    return "v3:" + secrets.token_urlsafe(36)


def _require(body, *names):
    """Required text parameters: present, text, not blank."""
    for name in names:
        value = body.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            raise api_errors.missing(name)
        if not isinstance(value, str):
            raise api_errors.invalid(name, f"{name} must be text, not {type(value).__name__}")


def _exclusive(body, first, second):
    if body.get(first) and body.get(second):
        raise api_errors.invalid(first, f"{first} and {second} cannot be used together")


def _check_enum(body, name, allowed):
    if name in body and body[name] is not None and body[name] not in allowed:
        raise api_errors.invalid_enum(name, allowed)


def _check_length(body, name):
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise api_errors.invalid(name, f"{name} must be text")
    if value and len(value) > MAX_SPEECH_CHARACTERS:
        raise api_errors.out_of_range(
            name, f"{name} is {len(value)} characters; the limit is {MAX_SPEECH_CHARACTERS}"
        )
