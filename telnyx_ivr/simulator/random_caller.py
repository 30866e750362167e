"""A caller who does not know the menu: it reacts to each command as a person on the phone
would, with choices drawn from a ``random.Random``, for demo data and load (``ivr_seed_calls``).

It reads what each command asks for: a DTMF gather's ``valid_digits`` and digit counts, an AI
gather's JSON schema. Mostly it presses one of the valid keys (some keys far more often than
others, as on a real line), sometimes a key that is not valid, sometimes nothing at all, and
now and then it hangs up mid-menu; an AI gather gets a plausible result for its schema, or an
incomplete one; during an announcement it may hang up. Each call draws a temperament first
(decisive, hesitant or impatient), so some callers struggle all the way through while most do
not. The same ``rng`` state gives the same call.

It has the interface of ``ScriptedCaller`` that a ``SimulatedCall`` uses, and no script: it
never waits for a step, and has no expectations.
"""

from dataclasses import dataclass

from .gathers import DEFAULTS as GATHER_DEFAULTS
from .gathers import DTMF_KEYS
from .script import AIResult, EndConversation, HangUp, Press, ScriptError, Silence

# How often each key is pressed when it is valid: 1 far more than 9, * and # rarely.
KEY_WEIGHTS = {
    "1": 10, "2": 7, "3": 5, "0": 4, "4": 3, "5": 2, "6": 2, "7": 1.5, "8": 1.5, "9": 1.5,
    "*": 1, "#": 0.5,
}  # fmt: skip
PRESSABLE = "0123456789*#"
ANNOUNCEMENTS = frozenset({"speak", "playback_start"})
DTMF_PROMPTS = frozenset({"gather", "gather_using_speak", "gather_using_audio"})

NAMES = ("Ada", "Bo", "Carmen", "Dmitri", "Elif", "Femi", "Grace", "Hiro", "Ines", "Jamal")
CITIES = ("Chicago", "New York", "Boston", "Austin", "Denver", "Seattle", "Miami", "Portland")
STRINGS = {"name": NAMES, "first_name": NAMES, "city": CITIES, "town": CITIES}


@dataclass(frozen=True)
class Temperament:
    """Chances, per prompt, of what a caller does instead of a valid answer."""

    name: str
    share: float  # of callers
    hang_up: float  # at a DTMF or AI prompt
    silence: float
    invalid: float
    hang_up_during_announcement: float


TEMPERAMENTS = (
    Temperament("decisive", 0.78, hang_up=0.03, silence=0.03, invalid=0.04,
                hang_up_during_announcement=0.01),
    Temperament("hesitant", 0.15, hang_up=0.08, silence=0.3, invalid=0.3,
                hang_up_during_announcement=0.03),
    Temperament("impatient", 0.07, hang_up=0.45, silence=0.05, invalid=0.1,
                hang_up_during_announcement=0.25),
)  # fmt: skip


class RandomCaller:
    """A reactive caller whose every choice comes from ``rng`` (a ``random.Random``).

    ``temperament``: one of TEMPERAMENTS (drawn from ``rng`` when not given).
    ``announcement_seconds``: how long a speak or playback plays (0: it ends at once).
    """

    transfer_outcome = "answered"
    hang_up_after_transfer = True

    def __init__(self, rng, *, temperament=None, announcement_seconds=0.0):
        self.rng = rng
        self.temperament = temperament or _draw_temperament(rng)
        self.announcement_seconds = announcement_seconds
        self.failures = []
        self.checks = []
        self.end_expectations = []
        self.outcome = None  # how the call ended, once it has
        self.steps = []  # every step taken, in order
        self._body = {}
        self._next = None  # the step decided for what is playing or waiting now

    # --- the interface a SimulatedCall uses --------------------------------------------------

    def command_received(self, action, body):
        self._body = body if isinstance(body, dict) else {}
        self._next = None
        if action in ANNOUNCEMENTS and self._chance(self.temperament.hang_up_during_announcement):
            self._next = HangUp("normal_clearing", during_announcement=True)
        elif action in DTMF_PROMPTS:
            self._next = _Pending(self._dtmf)
        elif action == "gather_using_ai":
            self._next = _Pending(self._ai_gather)
        elif action == "ai_assistant_start":
            self._next = _Pending(self._assistant)

    def peek_step(self):
        if isinstance(self._next, _Pending):
            self._next = self._next.decide()
        return self._next

    def take_step(self, prompt_name):
        step = self.peek_step()
        if step is None:  # a prompt no command announced: hang up rather than wait forever
            step = HangUp("normal_clearing")
        self.steps.append(step)
        # A DTMF gather that is tried again asks anew: the next try is a new decision.
        self._next = _Pending(self._dtmf) if prompt_name in DTMF_PROMPTS else None
        return step

    def add_step(self, step):
        raise ScriptError("a random caller takes no script steps")

    @property
    def remaining_steps(self):
        return []

    def heard(self, text):
        pass

    def call_ended(self, outcome):
        self.outcome = outcome

    # --- what the caller does ----------------------------------------------------------------

    def _chance(self, probability):
        return self.rng.random() < probability

    def _interruption(self):
        """HangUp, Silence, "invalid" or None (a valid answer), by temperament."""
        draw, t = self.rng.random(), self.temperament
        if draw < t.hang_up:
            return HangUp("normal_clearing")
        if draw < t.hang_up + t.silence:
            return Silence()
        if draw < t.hang_up + t.silence + t.invalid:
            return "invalid"
        return None

    def _dtmf(self):
        body = self._body
        what = self._interruption()
        if what is not None and what != "invalid":
            return what
        valid = [key for key in str(body.get("valid_digits") or "") if key in DTMF_KEYS]
        valid = valid or list(GATHER_DEFAULTS["valid_digits"])
        terminating = body.get("terminating_digit", GATHER_DEFAULTS["terminating_digit"]) or ""
        count = _int(body.get("minimum_digits"), 1)
        if what == "invalid":
            wrong = [key for key in PRESSABLE if key not in valid and key != terminating]
            if wrong:
                return Press(self.rng.choice(wrong) * count)
            # Every key is valid: a wrong choice is one the menu may have no route for.
        keys = [key for key in valid if key != terminating] or valid
        if count == 1:
            weights = [KEY_WEIGHTS.get(key, 1) for key in keys]
            return Press(self.rng.choices(keys, weights)[0])
        digits = "".join(self.rng.choice(keys) for _ in range(count))
        maximum = _int(body.get("maximum_digits"), GATHER_DEFAULTS["maximum_digits"])
        # Past the minimum the gather waits for more keys; the terminating key ends it.
        return Press(digits + terminating if terminating and maximum > count else digits)

    def _ai_gather(self):
        what = self._interruption()
        if what is not None and what != "invalid":
            return what
        schema = self._body.get("parameters")
        schema = schema if isinstance(schema, dict) else {}
        properties = schema.get("properties")
        properties = properties if isinstance(properties, dict) else {}
        result = {name: self._value(name, spec) for name, spec in properties.items()}
        if what == "invalid":  # the caller did not give some of what is required
            required = [name for name in schema.get("required") or result if name in result]
            missing = (
                set(self.rng.sample(required, self.rng.randint(1, len(required))))
                if required
                else set()
            )
            return AIResult(
                {name: value for name, value in result.items() if name not in missing},
                status="invalid",
            )
        return AIResult(result, status="valid")

    def _assistant(self):
        if self._chance(self.temperament.hang_up):
            return HangUp("normal_clearing")
        return EndConversation(duration_sec=self.rng.randint(20, 240))

    def _value(self, name, spec):
        spec = spec if isinstance(spec, dict) else {}
        if isinstance(spec.get("enum"), list) and spec["enum"]:
            return self.rng.choice(spec["enum"])
        kind = spec.get("type")
        if kind == "integer":
            return self.rng.randint(18, 85) if "age" in name else self.rng.randint(1, 20)
        if kind == "number":
            return round(self.rng.uniform(1, 100), 1)
        if kind == "boolean":
            return self._chance(0.5)
        choices = STRINGS.get(name.lower())
        return self.rng.choice(choices) if choices else self.rng.choice(("yes", "no", "maybe"))


class _Pending:
    """A step decided only when it is needed (the command's body is known by then)."""

    def __init__(self, decide):
        self.decide = decide


def _draw_temperament(rng):
    return rng.choices(TEMPERAMENTS, [t.share for t in TEMPERAMENTS])[0]


def _int(value, default):
    return value if isinstance(value, int) and not isinstance(value, bool) else default
