"""When to resend a Call Control command, and how long to wait first.

Resending is harmless because every attempt carries the same ``command_id``: Telnyx drops a
second command with the same id on the same call (for about 60 s).

=====================================  =========  ===============================================
outcome                                retried?   wait before the next attempt
=====================================  =========  ===============================================
429 rate limited                       yes        the reset time from ``x-ratelimit-reset`` /
                                                  ``Retry-After`` if longer than the backoff
5xx (and a non-JSON 5xx)               yes        backoff
connection error, timeout              yes        backoff
401, 403, 404, 422, other 4xx          never      -
parameters failing validation         never      - (no request is made)
=====================================  =========  ===============================================

Backoff after attempt ``n`` is ``min(RETRY_BACKOFF_MAX_SECONDS, RETRY_BACKOFF_SECONDS *
2**(n-1))`` less up to ``jitter`` (25 %) of itself, at random, so that many calls failing
together do not resend together. At most ``MAX_RETRIES`` resends follow the first attempt.

The policy runs inside ``TelnyxClient.send`` (sleeping between attempts) or is handed to the
caller with ``send(..., retry=False)``: the Celery layer then asks ``retry_delay`` and retries
through the queue with ``countdown=delay`` instead of sleeping in a worker. Inside the client, a
wait longer than ``max_inline_delay`` (default: the backoff cap) is not slept: the error is
raised with ``retry_after`` set so the caller can schedule it.

A caller is on the line while a command is retried, hearing nothing. ``give_up_seconds``
(``RETRY_GIVE_UP_SECONDS``) bounds each wait: when the next attempt would come later than that
after a failure (a 429 whose reset is far off), ``retry_delay`` gives up at once, so the engine
can play the menu's fallback instead of leaving the caller in silence. It also keeps resends
well inside the minute or so in which Telnyx drops a second command with the same id.
"""

import random
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class RetryPolicy:
    """Capped exponential backoff with jitter; honours Telnyx's rate-limit reset time."""

    max_retries: int = 2
    backoff_seconds: float = 0.5
    backoff_max_seconds: float = 8.0
    jitter: float = 0.25
    max_inline_delay: float | None = None
    # The longest wait before a resend that ``retry_delay`` accepts; None: no limit.
    give_up_seconds: float | None = None
    # Returns a float in [0, 1); injectable so tests get exact delays.
    random: Callable[[], float] = field(default=random.random, compare=False, repr=False)

    @classmethod
    def from_settings(cls, **overrides):
        """The policy configured by ``TELNYX_IVR`` (MAX_RETRIES, RETRY_BACKOFF_*,
        RETRY_GIVE_UP_SECONDS)."""
        from telnyx_ivr.conf import ivr_settings

        give_up = ivr_settings.RETRY_GIVE_UP_SECONDS
        values = {
            "max_retries": int(ivr_settings.MAX_RETRIES),
            "backoff_seconds": float(ivr_settings.RETRY_BACKOFF_SECONDS),
            "backoff_max_seconds": float(ivr_settings.RETRY_BACKOFF_MAX_SECONDS),
            "give_up_seconds": None if give_up is None else float(give_up),
        }
        values.update(overrides)
        return cls(**values)

    @property
    def inline_limit(self):
        """The longest wait the client sleeps through itself."""
        if self.max_inline_delay is not None:
            return self.max_inline_delay
        return self.backoff_max_seconds

    def is_retryable(self, error):
        """Whether resending can help at all (429, 5xx, network errors, timeouts)."""
        return bool(getattr(error, "retryable", False))

    def should_retry(self, attempt_number, error):
        """Whether to send again after attempt ``attempt_number`` (1 = the first) failed."""
        return self.is_retryable(error) and attempt_number <= self.max_retries

    def backoff(self, attempt_number):
        """The capped exponential wait after attempt ``attempt_number``, before jitter."""
        exponent = max(0, attempt_number - 1)
        return min(self.backoff_max_seconds, self.backoff_seconds * (2**exponent))

    def delay_for(self, attempt_number, error=None):
        """Seconds to wait before the attempt after ``attempt_number``.

        The jittered backoff, or the server's ``retry_after`` when that is longer.
        """
        base = self.backoff(attempt_number)
        delay = base - base * self.jitter * self.random()
        retry_after = getattr(error, "retry_after", None)
        if retry_after is not None and retry_after > delay:
            delay = float(retry_after)
        return max(0.0, delay)

    def retry_delay(self, attempt_number, error):
        """Seconds to wait before resending after attempt ``attempt_number`` failed, or None
        to give up: the error is not retryable, the retries are used up, or the wait would be
        longer than ``give_up_seconds``."""
        if not self.should_retry(attempt_number, error):
            return None
        delay = self.delay_for(attempt_number, error)
        if self.give_up_seconds is not None and delay > self.give_up_seconds:
            return None
        return delay
