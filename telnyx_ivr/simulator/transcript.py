"""What happened on a simulated call, as data and as readable text."""

import json
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any


@dataclass
class CommandRecord:
    """A command the app sent, and how the simulator answered it."""

    call_control_id: str
    action: str
    body: Any
    command_id: str | None
    received_at: datetime
    t: float  # seconds since the call started
    status: int = 200
    error_code: str | None = None
    duplicate: bool = False  # a repeated command_id: answered 200, not acted on
    fault: str | None = None
    in_reply_to: str | None = None  # event_type of the last webhook sent before it
    in_reply_to_id: str | None = None
    reply_seconds: float | None = None  # time from that webhook to this command

    def as_dict(self):
        data = asdict(self)
        data["received_at"] = self.received_at.isoformat()
        return data


@dataclass
class WebhookRecord:
    """One delivery attempt of a webhook, and what the app answered."""

    call_control_id: str
    event_type: str
    event_id: str
    attempt: int
    body: dict
    sent_at: datetime
    t: float
    status: int | None = None  # the app's HTTP status, None when it did not answer
    error: str | None = None
    answer: str | None = None  # what the body of a refusal (3xx-5xx) says, when it says
    location: str | None = None  # where a redirect pointed (it is never followed)
    fault: str | None = None
    sent_monotonic: float = field(default=0.0, repr=False)
    answer_seconds: float | None = field(default=None, repr=False)  # None: no answer came
    entry: Any = field(default=None, repr=False, compare=False)

    @property
    def payload(self):
        return self.body["data"]["payload"]

    def as_dict(self):
        data = {name: getattr(self, name) for name in self.__dataclass_fields__}
        data["sent_at"] = self.sent_at.isoformat()
        data.pop("sent_monotonic")
        data.pop("answer_seconds")
        data.pop("entry")
        return data


@dataclass
class Entry:
    t: float
    kind: str  # webhook, command, heard, caller, fault, note, ended
    text: str
    data: dict = field(default_factory=dict)

    def as_dict(self):
        return {"t": round(self.t, 4), "kind": self.kind, "text": self.text, **self.data}


def render(call):
    """The readable transcript of ``call`` (a SimulatedCall)."""
    lines = [
        f"Simulated call {call.call_control_id} from {call.from_} to {call.to}"
        f" (connection {call.connection_id})"
    ]
    for entry in call.entries():
        lines.append(entry_line(entry.t, entry.kind, entry.text))
    if call.outcome is None:
        lines.append("Still in progress.")
    lines.extend(check_lines(call.checks()))
    return "\n".join(lines)


def entry_line(t, kind, text):
    """One transcript line: seconds since the call started, what kind of thing, what."""
    return f"{t:9.3f}s  {kind:<8} {text}"


def check_lines(checks):
    """The expectation summary for ``(description, held, message)`` checks (none: no lines)."""
    checks = list(checks)
    if not checks:
        return []
    failed = sum(1 for _, held, _ in checks if not held)
    lines = [f"Expectations: {len(checks) - failed} held, {failed} failed"]
    for description, held, message in checks:
        mark = "ok  " if held else "FAIL"
        lines.append(f"  {mark}  {description}" + (f": {message}" if message else ""))
    return lines


def describe_command(record):
    text = f"{record.action} -> {record.status}"
    if record.error_code:
        text += f" (error {record.error_code})"
    if record.duplicate:
        text += " (repeated command_id: ignored)"
    if record.fault:
        text += f" (fault: {record.fault})"
    if record.reply_seconds is not None:
        text += f", {record.reply_seconds * 1000:.0f} ms after {record.in_reply_to}"
    return text


def describe_webhook(record):
    answer = str(record.status) if record.status is not None else f"no answer ({record.error})"
    text = f"{record.event_type} -> {answer}"
    if record.location:
        text += f" (redirect to {record.location}, not followed)"
    elif record.answer:
        text += f" ({record.answer})"
    if record.attempt > 1:
        text += f" (attempt {record.attempt})"
    if record.fault:
        text += f" (fault: {record.fault})"
    return text


def short_json(value, limit=160):
    text = json.dumps(value, sort_keys=True)
    return text if len(text) <= limit else text[: limit - 3] + "..."
