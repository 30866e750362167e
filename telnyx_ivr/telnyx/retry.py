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
caller with ``send(..., retry=False)``: the Celery layer then asks ``should_retry`` and
``delay_for`` and retries through the queue with ``countdown=delay`` instead of sleeping in a
worker. Inside the client, a wait longer than ``max_inline_delay`` (default: the backoff cap) is
not slept: the error is raised with ``retry_after`` set so the caller can schedule it.
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
    # Returns a float in [0, 1); injectable so tests get exact delays.
    random: Callable[[], float] = field(default=random.random, compare=False, repr=False)

    @classmethod
    def from_settings(cls, **overrides):
        """The policy configured by ``TELNYX_IVR`` (MAX_RETRIES, RETRY_BACKOFF_*)."""
        from telnyx_ivr.conf import ivr_settings

        values = {
            "max_retries": int(ivr_settings.MAX_RETRIES),
            "backoff_seconds": float(ivr_settings.RETRY_BACKOFF_SECONDS),
            "backoff_max_seconds": float(ivr_settings.RETRY_BACKOFF_MAX_SECONDS),
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
