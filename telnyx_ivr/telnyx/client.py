"""The Telnyx Call Control client: the app's only way to act on a call.

    from telnyx_ivr.telnyx.client import get_client

    result = get_client().gather_using_speak(
        call_control_id, payload="Press 1 for sales", voice="female", command_id=command_id
    )
    result.data  # Telnyx's ``data``: {"result": "ok"} (+ "conversation_id" for AI commands)

Every command is validated before it is sent (``CommandValidationError``), carries a
``command_id`` (the caller's, or a generated one) that every retry reuses, and fails with a typed
``TelnyxError`` (see ``errors``). Retries follow ``RetryPolicy`` (see ``retry``), inside the
client or, with ``retry=False``, in the caller. The API key only ever leaves in the
``Authorization`` header: logs show requests with it redacted.
"""

import json
import logging
import os
import threading
import time
import uuid
from dataclasses import dataclass, replace
from urllib.parse import quote

import requests
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver
from requests.adapters import HTTPAdapter
from urllib3.exceptions import ReadTimeoutError

from .commands import get_spec, redact_body, validate
from .errors import (
    CommandValidationError,
    TelnyxError,
    TelnyxNetworkError,
    TelnyxResponseError,
    TelnyxTimeoutError,
    error_from_response,
    snippet,
)
from .retry import RetryPolicy

logger = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.telnyx.com/v2"
REDACTED = "[REDACTED]"
# Method arguments whose API names are Python keywords.
API_NAMES = {"from_": "from"}
_NOT_PARAMS = frozenset({"self", "call_control_id", "command_id", "retry"})


def user_agent():
    """``django-telnyx-ivr/<version>``, sent on every request."""
    from telnyx_ivr import __version__

    return f"django-telnyx-ivr/{__version__}"


def new_command_id():
    """A fresh ``command_id`` for a command whose caller did not derive one."""
    return str(uuid.uuid4())


@dataclass(frozen=True)
class CommandResult:
    """A command Telnyx accepted.

    ``data`` is the response's ``data`` object; ``attempts`` counts the requests made (retries
    included); ``latency_ms`` is the round trip of the attempt that succeeded, ``elapsed_ms``
    the time spent in ``send`` including waits between attempts.
    """

    action: str
    command_id: str
    data: dict
    status_code: int
    attempts: int
    latency_ms: float
    elapsed_ms: float = 0.0

    @property
    def conversation_id(self):
        """``data.conversation_id`` (``gather_using_ai``, ``ai_assistant_start``), or None."""
        return self.data.get("conversation_id")


def build_session():
    """A pooled session; retries are ours (same ``command_id``), never urllib3's."""
    session = requests.Session()
    adapter = HTTPAdapter(pool_connections=4, pool_maxsize=32, max_retries=0)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


class TelnyxClient:
    """Sends Call Control commands. Build one with ``get_client()`` (from settings) or directly.

    ``sleep`` and ``clock`` are injectable so tests need not wait for real backoffs.
    """

    def __init__(
        self,
        api_key,
        base_url=DEFAULT_BASE_URL,
        *,
        connect_timeout=3.05,
        read_timeout=0.5,
        retry_policy=None,
        session=None,
        sleep=time.sleep,
        clock=time.monotonic,
        command_id_factory=new_command_id,
    ):
        if not api_key or not isinstance(api_key, str):
            raise ImproperlyConfigured(
                'TELNYX_IVR["API_KEY"] is not set: the Telnyx client needs an API key.'
            )
        if not base_url or not isinstance(base_url, str):
            raise ImproperlyConfigured('TELNYX_IVR["API_BASE_URL"] must be a URL.')
        self._api_key = api_key
        self.base_url = base_url.rstrip("/")
        self.connect_timeout = float(connect_timeout)
        self.read_timeout = float(read_timeout)
        self.retry_policy = retry_policy or RetryPolicy()
        self.session = session or build_session()
        self._sleep = sleep
        self._clock = clock
        self._new_command_id = command_id_factory

    @classmethod
    def from_settings(cls, **overrides):
        """A client configured by ``TELNYX_IVR`` (a new session unless one is passed)."""
        from telnyx_ivr.conf import ivr_settings

        options = {
            "api_key": ivr_settings.API_KEY,
            "base_url": ivr_settings.API_BASE_URL,
            "connect_timeout": ivr_settings.CONNECT_TIMEOUT,
            "read_timeout": ivr_settings.READ_TIMEOUT,
            "retry_policy": RetryPolicy.from_settings(),
        }
        options.update(overrides)
        return cls(**options)

    def __repr__(self):
        return f"<TelnyxClient {self.base_url}>"

    # --- sending ------------------------------------------------------------------------

    def url_for(self, action, call_control_id):
        """``{base}/calls/{call_control_id}/actions/{action}``."""
        return f"{self.base_url}/calls/{quote(call_control_id, safe=':')}/actions/{action}"

    def send(self, action, call_control_id, params=None, *, command_id=None, retry=True):
        """Validate ``params`` for ``action``, send it, and return a ``CommandResult``.

        ``command_id`` (or one in ``params``) identifies the command to Telnyx; when absent one
        is generated. With ``retry=True`` the client resends (same ``command_id``) as the
        retry policy allows; with ``retry=False`` it makes one attempt and raises, leaving
        ``self.retry_policy.should_retry`` / ``delay_for`` to the caller.

        Raises CommandValidationError before any request, or a TelnyxError subclass.
        """
        body = validate(action, params)
        if not isinstance(call_control_id, str) or not call_control_id.strip():
            raise CommandValidationError(
                action, "call_control_id", "must be a non-empty string", "required"
            )
        given = body.get("command_id")
        if command_id is not None and given is not None and command_id != given:
            raise CommandValidationError(
                action, "command_id", "was given twice with different values", "conflict"
            )
        command_id = command_id if command_id is not None else given
        if command_id is None:
            command_id = self._new_command_id()
        elif not isinstance(command_id, str) or not command_id.strip():
            raise CommandValidationError(
                action, "command_id", "must be a non-empty string", "empty"
            )
        body["command_id"] = command_id
        url = self.url_for(action, call_control_id)
        started = self._clock()
        attempt = 0
        while True:
            attempt += 1
            try:
                result = self._attempt(action, call_control_id, url, body, attempt)
            except TelnyxError as error:
                error.attempts = attempt
                if not retry or not self.retry_policy.should_retry(attempt, error):
                    logger.info(
                        "Telnyx %s on call %s failed after %d attempt(s): %s",
                        action,
                        call_control_id,
                        attempt,
                        error,
                    )
                    raise
                delay = self.retry_policy.delay_for(attempt, error)
                if delay > self.retry_policy.inline_limit:
                    logger.warning(
                        "Telnyx %s on call %s: not waiting %.2fs in process; "
                        "leaving the retry to the caller: %s",
                        action,
                        call_control_id,
                        delay,
                        error,
                    )
                    raise
                logger.warning(
                    "Telnyx %s on call %s attempt %d failed (%s); retrying in %.3fs "
                    "with command_id %s",
                    action,
                    call_control_id,
                    attempt,
                    error,
                    delay,
                    command_id,
                )
                self._sleep(delay)
                continue
            elapsed = (self._clock() - started) * 1000
            return replace(result, attempts=attempt, elapsed_ms=elapsed)

    def _headers(self):
        return {
            "Authorization": f"Bearer {self._api_key}",
            "User-Agent": user_agent(),
            "Content-Type": "application/json",
            "Accept": "application/json",
        }

    def _attempt(self, action, call_control_id, url, body, attempt):
        headers = self._headers()
        if logger.isEnabledFor(logging.DEBUG):
            shown = {**headers, "Authorization": f"Bearer {REDACTED}"}
            logger.debug(
                "Telnyx request %d: POST %s headers=%s body=%s",
                attempt,
                url,
                shown,
                json.dumps(redact_body(action, body), sort_keys=True),
            )
        common = {"action": action, "command_id": body["command_id"]}
        sent_at = self._clock()
        try:
            response = self.session.post(
                url,
                data=json.dumps(body).encode("utf-8"),
                headers=headers,
                timeout=(self.connect_timeout, self.read_timeout),
                allow_redirects=False,
            )
            text = response.text
        except requests.RequestException as exc:
            raise self._transport_error(exc, action, call_control_id, common) from None
        latency_ms = (self._clock() - sent_at) * 1000
        status = response.status_code
        logger.debug(
            "Telnyx response %d: %s %s in %.1f ms: %s",
            attempt,
            status,
            action,
            latency_ms,
            snippet(text, secrets=(self._api_key,)),
        )
        if 200 <= status < 300:
            try:
                payload = json.loads(text)
            except ValueError:
                payload = None
            data = payload.get("data") if isinstance(payload, dict) else None
            if not isinstance(data, dict):
                raise TelnyxResponseError(
                    f"{action} on call {call_control_id}: HTTP {status} without a JSON "
                    f"data object: {snippet(text, secrets=(self._api_key,))!r}",
                    status_code=status,
                    body_snippet=snippet(text, secrets=(self._api_key,)),
                    **common,
                )
            return CommandResult(
                action=action,
                command_id=body["command_id"],
                data=data,
                status_code=status,
                attempts=attempt,
                latency_ms=latency_ms,
            )
        raise error_from_response(
            status,
            response.headers,
            text,
            call_control_id=call_control_id,
            secrets=(self._api_key,),
            **common,
        )

    def _transport_error(self, exc, action, call_control_id, common):
        # A read timeout met while reading the body surfaces as a ConnectionError.
        reason = exc.args[0] if exc.args else None
        if isinstance(exc, requests.Timeout) or isinstance(reason, ReadTimeoutError):
            return TelnyxTimeoutError(
                f"{action} on call {call_control_id}: no answer within "
                f"{self.connect_timeout:g}s connect / {self.read_timeout:g}s read "
                f"({type(exc).__name__})",
                **common,
            )
        detail = str(exc).replace(self._api_key, REDACTED)
        return TelnyxNetworkError(
            f"{action} on call {call_control_id}: {type(exc).__name__}: {detail}", **common
        )

    def _command(self, action, call_control_id, arguments):
        params = {
            API_NAMES.get(name, name): value
            for name, value in arguments.items()
            if name not in _NOT_PARAMS
        }
        return self.send(
            action,
            call_control_id,
            params,
            command_id=arguments["command_id"],
            retry=arguments["retry"],
        )

    # --- commands -----------------------------------------------------------------------
    # Each method takes the API's parameter names (``from_`` for ``from``), sends only those
    # given (not None), and returns a CommandResult. Webhooks named are those Telnyx sends
    # because of the command, each echoing ``client_state``.

    def answer(
        self,
        call_control_id,
        *,
        billing_group_id=None,
        custom_headers=None,
        preferred_codecs=None,
        record=None,
        record_channels=None,
        record_custom_file_name=None,
        record_format=None,
        record_max_length=None,
        record_timeout_secs=None,
        record_track=None,
        record_trim=None,
        send_silence_when_idle=None,
        sip_headers=None,
        sound_modifications=None,
        stream_bidirectional_codec=None,
        stream_bidirectional_mode=None,
        stream_bidirectional_target_legs=None,
        stream_codec=None,
        stream_track=None,
        stream_url=None,
        transcription=None,
        transcription_config=None,
        webhook_url=None,
        webhook_url_method=None,
        client_state=None,
        command_id=None,
        retry=True,
    ):
        """Answer an incoming call; Telnyx takes no other command on it before this.

        Webhooks: ``call.answered``.
        """
        return self._command("answer", call_control_id, locals())

    def gather(
        self,
        call_control_id,
        *,
        minimum_digits=None,
        maximum_digits=None,
        timeout_millis=None,
        inter_digit_timeout_millis=None,
        initial_timeout_millis=None,
        terminating_digit=None,
        valid_digits=None,
        gather_id=None,
        client_state=None,
        command_id=None,
        retry=True,
    ):
        """Collect DTMF digits without playing anything.

        Webhooks: ``call.dtmf.received`` (one per key), then ``call.gather.ended`` (with
        ``digits``, ``status`` and the ``gather_id`` given).
        """
        return self._command("gather", call_control_id, locals())

    def gather_using_audio(
        self,
        call_control_id,
        *,
        audio_url=None,
        media_name=None,
        invalid_audio_url=None,
        invalid_media_name=None,
        minimum_digits=None,
        maximum_digits=None,
        maximum_tries=None,
        timeout_millis=None,
        terminating_digit=None,
        valid_digits=None,
        inter_digit_timeout_millis=None,
        client_state=None,
        command_id=None,
        retry=True,
    ):
        """Play an audio file (``audio_url`` or ``media_name``) until the caller enters the
        digits wanted; the invalid prompt plays on a wrong entry.

        Webhooks: ``call.playback.started``, ``call.playback.ended``, ``call.dtmf.received``
        (one per key), ``call.gather.ended``.
        """
        return self._command("gather_using_audio", call_control_id, locals())

    def gather_using_speak(
        self,
        call_control_id,
        *,
        payload,
        voice,
        invalid_payload=None,
        payload_type=None,
        service_level=None,
        language=None,
        voice_settings=None,
        minimum_digits=None,
        maximum_digits=None,
        maximum_tries=None,
        timeout_millis=None,
        terminating_digit=None,
        valid_digits=None,
        inter_digit_timeout_millis=None,
        client_state=None,
        command_id=None,
        retry=True,
    ):
        """Speak ``payload`` (text or SSML) until the caller enters the digits wanted;
        ``invalid_payload`` is spoken on a wrong entry.

        Webhooks: ``call.dtmf.received`` (one per key), ``call.gather.ended``.
        """
        return self._command("gather_using_speak", call_control_id, locals())

    def gather_using_ai(
        self,
        call_control_id,
        *,
        parameters,
        assistant=None,
        transcription=None,
        language=None,
        voice=None,
        voice_settings=None,
        greeting=None,
        send_partial_results=None,
        send_message_history_updates=None,
        message_history=None,
        interruption_settings=None,
        user_response_timeout_ms=None,
        gather_ended_speech=None,
        client_state=None,
        command_id=None,
        retry=True,
    ):
        """Let a voice assistant collect the fields described by ``parameters`` (a JSON
        Schema, checked against its meta-schema before sending). ``result.conversation_id``
        names the conversation.

        Webhooks: ``call.conversation.created``, ``call.ai_gather.partial_results`` (if
        ``send_partial_results``), ``call.ai_gather.message_history_updated`` (if
        ``send_message_history_updates``), ``call.ai_gather.ended`` (``result``,
        ``message_history``, ``status``), ``call.conversation.ended``.
        """
        return self._command("gather_using_ai", call_control_id, locals())

    def gather_stop(self, call_control_id, *, client_state=None, command_id=None, retry=True):
        """Stop the gather in progress.

        Webhooks: ``call.gather.ended``.
        """
        return self._command("gather_stop", call_control_id, locals())

    def ai_assistant_start(
        self,
        call_control_id,
        *,
        assistant=None,
        greeting=None,
        interruption_settings=None,
        transcription=None,
        voice=None,
        voice_settings=None,
        client_state=None,
        command_id=None,
        retry=True,
    ):
        """Start an AI assistant conversing on the call. ``result.conversation_id`` names the
        conversation.

        Webhooks: ``call.conversation.created``, ``call.conversation.ended``,
        ``call.conversation_insights.generated``.
        """
        return self._command("ai_assistant_start", call_control_id, locals())

    def ai_assistant_stop(self, call_control_id, *, client_state=None, command_id=None, retry=True):
        """Stop the AI assistant on the call.

        Webhooks: none of its own.
        """
        return self._command("ai_assistant_stop", call_control_id, locals())

    def ai_assistant_add_messages(
        self, call_control_id, *, messages=None, client_state=None, command_id=None, retry=True
    ):
        """Add ``messages`` (``[{"role", "content"}]``; roles user, assistant, tool, system,
        developer) to the running assistant's conversation.

        Webhooks: none of its own.
        """
        return self._command("ai_assistant_add_messages", call_control_id, locals())

    def speak(
        self,
        call_control_id,
        *,
        payload,
        voice,
        payload_type=None,
        service_level=None,
        language=None,
        voice_settings=None,
        loop=None,
        stop=None,
        target_legs=None,
        client_state=None,
        command_id=None,
        retry=True,
    ):
        """Speak ``payload`` (text or SSML) on the call; consecutive speaks queue.

        Webhooks: ``call.speak.started``, ``call.speak.ended``.
        """
        return self._command("speak", call_control_id, locals())

    def playback_start(
        self,
        call_control_id,
        *,
        audio_url=None,
        media_name=None,
        playback_content=None,
        audio_type=None,
        cache_audio=None,
        loop=None,
        overlay=None,
        stop=None,
        target_legs=None,
        client_state=None,
        command_id=None,
        retry=True,
    ):
        """Play audio on the call: exactly one of ``audio_url``, ``media_name`` or
        ``playback_content`` (base64 audio).

        Webhooks: ``call.playback.started``, ``call.playback.ended``.
        """
        return self._command("playback_start", call_control_id, locals())

    def playback_stop(
        self, call_control_id, *, overlay=None, stop=None, client_state=None, command_id=None,
        retry=True,
    ):  # fmt: skip
        """Stop audio playing on the call.

        Webhooks: ``call.playback.ended`` (or ``call.speak.ended`` for speech).
        """
        return self._command("playback_stop", call_control_id, locals())

    def transfer(
        self,
        call_control_id,
        *,
        to,
        from_=None,
        from_display_name=None,
        timeout_secs=None,
        time_limit_secs=None,
        audio_url=None,
        media_name=None,
        answering_machine_detection=None,
        answering_machine_detection_config=None,
        custom_headers=None,
        sip_headers=None,
        sip_auth_username=None,
        sip_auth_password=None,
        sip_transport_protocol=None,
        early_media=None,
        media_encryption=None,
        mute_dtmf=None,
        park_after_unbridge=None,
        record=None,
        record_channels=None,
        record_custom_file_name=None,
        record_format=None,
        record_max_length=None,
        record_timeout_secs=None,
        record_track=None,
        record_trim=None,
        sound_modifications=None,
        target_leg_client_state=None,
        webhook_url=None,
        webhook_url_method=None,
        client_state=None,
        command_id=None,
        retry=True,
    ):
        """Dial ``to`` (number or SIP URI) and bridge the caller to it when it answers.

        Webhooks: ``call.initiated`` (the new leg), then ``call.bridged`` and
        ``call.answered``, or ``call.hangup`` for the new leg when it fails.
        """
        return self._command("transfer", call_control_id, locals())

    def hangup(
        self, call_control_id, *, custom_headers=None, client_state=None, command_id=None,
        retry=True,
    ):  # fmt: skip
        """Hang up the call.

        Webhooks: ``call.hangup``.
        """
        return self._command("hangup", call_control_id, locals())


# --- the process-wide client ----------------------------------------------------------------

_lock = threading.Lock()
_process = {"pid": None, "session": None, "client": None, "config": None}


def shared_session():
    """This process's pooled session (a new one after a fork: sockets are not shared)."""
    pid = os.getpid()
    with _lock:
        if _process["session"] is None or _process["pid"] != pid:
            _process.update(pid=pid, session=build_session(), client=None, config=None)
        return _process["session"]


def _settings_config():
    from telnyx_ivr.conf import ivr_settings

    return (
        ivr_settings.API_KEY,
        ivr_settings.API_BASE_URL,
        ivr_settings.CONNECT_TIMEOUT,
        ivr_settings.READ_TIMEOUT,
        ivr_settings.MAX_RETRIES,
        ivr_settings.RETRY_BACKOFF_SECONDS,
        ivr_settings.RETRY_BACKOFF_MAX_SECONDS,
        ivr_settings.RETRY_GIVE_UP_SECONDS,
    )


def get_client():
    """The process-wide TelnyxClient built from ``TELNYX_IVR``.

    It shares one requests.Session per process and is rebuilt when the settings change, so
    ``override_settings(TELNYX_IVR=...)`` takes effect. Raises ImproperlyConfigured when
    ``TELNYX_IVR["API_KEY"]`` is unset.
    """
    config = _settings_config()
    session = shared_session()
    with _lock:
        if _process["client"] is None or _process["config"] != config:
            _process["client"] = TelnyxClient.from_settings(session=session)
            _process["config"] = config
        return _process["client"]


@receiver(setting_changed)
def _drop_client(*, setting, **kwargs):
    if setting == "TELNYX_IVR":
        with _lock:
            _process.update(client=None, config=None)


__all__ = [
    "CommandResult",
    "CommandValidationError",
    "RetryPolicy",
    "TelnyxClient",
    "get_client",
    "get_spec",
    "new_command_id",
    "redact_body",
    "shared_session",
]
