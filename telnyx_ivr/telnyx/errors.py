"""Typed errors for Call Control commands.

Telnyx answers a failed command with ``{"errors": [{"code", "title", "detail", "source":
{"pointer"}}]}``. ``error_from_response`` turns that (or whatever else came back) into one of the
classes below, keeping the HTTP status, every error, and whether a retry can help.

    CommandValidationError (ValueError) refused before any request; not a TelnyxError, since
                                       Telnyx never saw it
    TelnyxError                      a command sent to Telnyx that did not succeed
    ├── TelnyxNetworkError           no HTTP answer: refused, reset, DNS...        retryable
    │   └── TelnyxTimeoutError       no answer within the connect/read timeout     retryable
    └── TelnyxAPIError               Telnyx answered with an error status
        ├── TelnyxAuthenticationError  401
        ├── TelnyxPermissionError      403
        ├── TelnyxNotFoundError        404
        ├── TelnyxUnprocessableError   422  (never retried)
        │   ├── CallAlreadyEndedError      90018
        │   ├── CallNotAnsweredError       90034
        │   └── AIAssistantInProgressError 90061
        ├── TelnyxRateLimitError       429                                        retryable
        ├── TelnyxServerError          5xx                                        retryable
        ├── TelnyxRequestError         any other 4xx
        └── TelnyxResponseError        a body that is not Telnyx JSON (HTML from a proxy, an
                                       empty 200...): status and a snippet; retryable when the
                                       status is 429 or 5xx
"""

import email.utils
import json
import time
from dataclasses import dataclass

SNIPPET_LENGTH = 200

# Statuses the retry policy may resend. Telnyx: retry 5xx; 429 after the reset time.
RETRYABLE_STATUSES = frozenset({429}) | frozenset(range(500, 600))

# Values above this in x-ratelimit-reset are a Unix time, not a number of seconds.
_EPOCH_THRESHOLD = 1_000_000_000


@dataclass(frozen=True)
class TelnyxErrorDetail:
    """One entry of Telnyx's ``errors`` list."""

    code: str
    title: str
    detail: str
    pointer: str | None = None

    def __str__(self):
        text = " ".join(part for part in (self.code, self.title) if part)
        if self.detail and self.detail != self.title:
            text = f"{text}: {self.detail}" if text else self.detail
        if self.pointer:
            text = f"{text} (at {self.pointer})"
        return text


class TelnyxError(Exception):
    """Base class: a command that did not succeed.

    Every instance carries ``action``, ``command_id``, ``status_code`` (None without an HTTP
    answer), ``errors`` (TelnyxErrorDetail list), ``codes``, ``attempts`` (how many requests
    were made), ``retry_after`` (seconds Telnyx asked us to wait, or None), ``retryable``
    (whether sending again with the same ``command_id`` can help) and ``body_snippet``.
    """

    retryable = False

    def __init__(
        self,
        message,
        *,
        action=None,
        command_id=None,
        status_code=None,
        errors=(),
        retry_after=None,
        body_snippet="",
        attempts=0,
    ):
        super().__init__(message)
        self.message = message
        self.action = action
        self.command_id = command_id
        self.status_code = status_code
        self.errors = list(errors)
        self.retry_after = retry_after
        self.body_snippet = body_snippet
        self.attempts = attempts

    @property
    def codes(self):
        """Every Telnyx error code in the body, in order (strings, e.g. ``["90018"]``)."""
        return [error.code for error in self.errors if error.code]

    def __reduce__(self):
        # Keyword-only state survives pickling (Celery results, retries through the queue).
        return (self.__class__, (self.message,), dict(self.__dict__))

    def __str__(self):
        return self.message


class CommandValidationError(ValueError):
    """Parameters Telnyx would reject, caught before any request.

    ``parameter`` is the path of the offending value (``"assistant.tools[0].type"``), ``rule``
    says what it breaks, ``code`` is a short stable name of the rule (``"maximum"``,
    ``"required"``, ``"enum"``...). Never retryable: the same parameters fail the same way.
    """

    retryable = False
    attempts = 0
    status_code = None

    def __init__(self, action, parameter, rule, code="invalid"):
        super().__init__(f"{action}: {parameter} {rule}")
        self.action = action
        self.parameter = parameter
        self.rule = rule
        self.code = code

    def __reduce__(self):
        return (self.__class__, (self.action, self.parameter, self.rule, self.code))


class TelnyxNetworkError(TelnyxError):
    """No HTTP answer: connection refused or reset, DNS failure, TLS error."""

    retryable = True


class TelnyxTimeoutError(TelnyxNetworkError):
    """No answer within the connect or read timeout. Telnyx asks for a resend (same
    ``command_id``) of a command unanswered after about 500 ms."""


class TelnyxAPIError(TelnyxError):
    """Telnyx (or something in front of it) answered with an error status."""

    @property
    def retryable(self):
        return self.status_code in RETRYABLE_STATUSES


class TelnyxAuthenticationError(TelnyxAPIError):
    """401: the API key is missing, wrong or revoked."""


class TelnyxPermissionError(TelnyxAPIError):
    """403: the key may not do this."""


class TelnyxNotFoundError(TelnyxAPIError):
    """404: no such call (or path)."""


class TelnyxUnprocessableError(TelnyxAPIError):
    """422: bad parameters or a call in the wrong state. Never retried: the same command
    would fail the same way."""


class CallAlreadyEndedError(TelnyxUnprocessableError):
    """90018: the call has hung up and takes no more commands."""


class CallNotAnsweredError(TelnyxUnprocessableError):
    """90034: the command needs an answered call."""


class AIAssistantInProgressError(TelnyxUnprocessableError):
    """90061: an AI assistant is already running on the call."""


class TelnyxRateLimitError(TelnyxAPIError):
    """429 (code 10011). ``retry_after`` holds the wait from ``x-ratelimit-reset`` or
    ``Retry-After`` when Telnyx sent one."""


class TelnyxServerError(TelnyxAPIError):
    """5xx: a fault on Telnyx's side; safe to resend with the same ``command_id``."""


class TelnyxRequestError(TelnyxAPIError):
    """Any other 4xx (400, 405, 409...)."""


class TelnyxResponseError(TelnyxAPIError):
    """A response whose body is not what Telnyx sends (not JSON, or not the expected object).
    Keeps the status and the start of the body in ``body_snippet``."""


STATUS_CLASSES = {
    401: TelnyxAuthenticationError,
    403: TelnyxPermissionError,
    404: TelnyxNotFoundError,
    422: TelnyxUnprocessableError,
    429: TelnyxRateLimitError,
}

# Checked in this order when a 422 carries several codes.
UNPROCESSABLE_CODES = {
    "90018": CallAlreadyEndedError,
    "90034": CallNotAnsweredError,
    "90061": AIAssistantInProgressError,
}


def class_for_status(status_code):
    if status_code in STATUS_CLASSES:
        return STATUS_CLASSES[status_code]
    if 500 <= status_code <= 599:
        return TelnyxServerError
    return TelnyxRequestError


def parse_error_details(body):
    """The ``errors`` list of a decoded Telnyx error body; tolerant of missing fields."""
    if not isinstance(body, dict) or not isinstance(body.get("errors"), list):
        return []
    details = []
    for item in body["errors"]:
        if not isinstance(item, dict):
            continue
        source = item.get("source")
        pointer = source.get("pointer") if isinstance(source, dict) else None
        details.append(
            TelnyxErrorDetail(
                code="" if item.get("code") is None else str(item["code"]),
                title=str(item.get("title") or ""),
                detail=str(item.get("detail") or ""),
                pointer=pointer if isinstance(pointer, str) else None,
            )
        )
    return details


def parse_retry_after(headers, *, now=time.time):
    """Seconds to wait before resending, from ``x-ratelimit-reset`` or ``Retry-After``.

    Either header may hold seconds; ``x-ratelimit-reset`` above 10^9 is read as a Unix time
    and ``Retry-After`` may be an HTTP date. With both, the longer wait wins. None when
    neither is present or readable.
    """
    lowered = {str(key).lower(): str(value).strip() for key, value in (headers or {}).items()}
    waits = []
    reset = _number(lowered.get("x-ratelimit-reset"))
    if reset is not None:
        waits.append(reset - now() if reset > _EPOCH_THRESHOLD else reset)
    retry_after = lowered.get("retry-after")
    if retry_after:
        seconds = _number(retry_after)
        if seconds is None:
            try:
                moment = email.utils.parsedate_to_datetime(retry_after)
            except (TypeError, ValueError):
                moment = None
            if moment is not None and moment.tzinfo is not None:
                seconds = moment.timestamp() - now()
        if seconds is not None:
            waits.append(seconds)
    if not waits:
        return None
    return max(0.0, max(waits))


def _number(text):
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        return None
    return value if value == value and value not in (float("inf"), float("-inf")) else None


def scrub(text, secrets=()):
    """``text`` with every secret replaced by ``[REDACTED]``."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "[REDACTED]")
    return text


def snippet(text, *, secrets=()):
    """The start of a body for an error message, with any secret blanked out."""
    return scrub(scrub(text, secrets)[:SNIPPET_LENGTH], secrets)


def error_from_response(
    status_code,
    headers,
    body_text,
    *,
    action,
    command_id,
    call_control_id="",
    secrets=(),
    now=time.time,
):
    """Build the typed error for an error response (or an unreadable success response)."""
    body_snip = snippet(body_text, secrets=secrets)
    retry_after = parse_retry_after(headers, now=now)
    where = f"{action} on call {call_control_id}" if call_control_id else action
    common = {
        "action": action,
        "command_id": command_id,
        "status_code": status_code,
        "retry_after": retry_after,
        "body_snippet": body_snip,
    }
    try:
        body = json.loads(body_text) if body_text.strip() else None
    except ValueError:
        body = None
    if not isinstance(body, dict):
        kind = "an empty body" if not body_text.strip() else "a body that is not a JSON object"
        return TelnyxResponseError(
            f"{where}: HTTP {status_code} with {kind}: {body_snip!r}", **common
        )
    # Whatever the server echoes (a proxy may quote the Authorization header) stays out of
    # messages and logs.
    details = [
        TelnyxErrorDetail(
            code=scrub(detail.code, secrets),
            title=scrub(detail.title, secrets),
            detail=scrub(detail.detail, secrets),
            pointer=detail.pointer and scrub(detail.pointer, secrets),
        )
        for detail in parse_error_details(body)
    ]
    cls = class_for_status(status_code)
    if cls is TelnyxUnprocessableError:
        codes = {detail.code for detail in details}
        for code, specific in UNPROCESSABLE_CODES.items():
            if code in codes:
                cls = specific
                break
    described = "; ".join(str(detail) for detail in details) or body_snip
    message = f"{where}: HTTP {status_code}: {described}"
    if retry_after is not None:
        message += f" (retry after {retry_after:g}s)"
    return cls(message, errors=details, **common)
