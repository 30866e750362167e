"""The scripted caller: hands out a script's steps one per prompt and checks its expectations.

Not thread-safe on its own: the simulator calls it with its lock held.
"""

from .script import (
    ACTIONS,
    EXPECTATIONS,
    ExpectCommand,
    ExpectEnd,
    ExpectHeard,
    HangUp,
    ScriptError,
    parse_script,
)

HANG_UP = "hang_up"
WAIT = "wait"


class ScriptedCaller:
    """A caller that follows ``script`` (see telnyx_ivr.simulator.script).

    ``when_script_ends``: ``"hang_up"`` (the caller hangs up at the next prompt once the steps
    have run out) or ``"wait"`` (the prompt stays open until a step is added with
    ``add_step``, as the admin's step-by-step test call does).
    ``transfer_outcome``: ``"answered"``, or the hangup_cause of a far end that does not
    answer (``"no_answer"``, ``"user_busy"``, ``"timeout"``, ...).
    ``hang_up_after_transfer``: the caller hangs up once a transfer is bridged.
    ``announcement_seconds``: how long a speak or playback plays before it ends.
    """

    def __init__(
        self,
        script=(),
        *,
        when_script_ends=HANG_UP,
        transfer_outcome="answered",
        hang_up_after_transfer=True,
        announcement_seconds=0.0,
    ):
        if when_script_ends not in (HANG_UP, WAIT):
            raise ScriptError(f"when_script_ends must be {HANG_UP!r} or {WAIT!r}")
        items = parse_script(list(script))
        self.end_expectations = [item for item in items if isinstance(item, ExpectEnd)]
        self._items = [item for item in items if not isinstance(item, ExpectEnd)]
        self.when_script_ends = when_script_ends
        self.transfer_outcome = transfer_outcome
        self.hang_up_after_transfer = hang_up_after_transfer
        self.announcement_seconds = announcement_seconds
        self.failures = []
        self.checks = []  # (description, held, message) for every expectation checked
        self._position = 0  # index of the first unused item
        self._steps_taken = 0
        self._heard = []  # prompts heard since the last step
        self._satisfied = set()  # positions of ExpectHeard already met in the current stretch

    # --- the script ----------------------------------------------------------------------

    def add_step(self, step):
        """Append a step or expectation (plain data or a step object) to the script."""
        (item,) = parse_script([step])
        if isinstance(item, ExpectEnd):
            self.end_expectations.append(item)
        else:
            self._items.append(item)

    @property
    def remaining_steps(self):
        return [item for item in self._items[self._position :] if isinstance(item, ACTIONS)]

    def peek_step(self):
        for item in self._items[self._position :]:
            if isinstance(item, ACTIONS):
                return item
        return None

    def take_step(self, prompt_name):
        """The step for the prompt ``prompt_name`` now waiting, or None to keep it waiting.

        Expectations standing before the step are settled first.
        """
        for index in range(self._position, len(self._items)):
            item = self._items[index]
            if isinstance(item, ACTIONS):
                self._settle_stretch(
                    index,
                    f"before {prompt_name} got step {self._steps_taken + 1} ({item.describe()})",
                )
                self._position = index + 1
                self._steps_taken += 1
                return item
        if self.when_script_ends == HANG_UP:
            self._settle_stretch(len(self._items), f"before the caller hung up at {prompt_name}")
            self._position = len(self._items)
            return HangUp("normal_clearing")
        return None

    # --- expectations --------------------------------------------------------------------

    def command_received(self, action, body):
        for index in range(self._position, len(self._items)):
            item = self._items[index]
            if isinstance(item, ACTIONS):
                return
            if isinstance(item, ExpectCommand) and index not in self._satisfied:
                self._satisfied.add(index)
                held = item.action == action
                self._check(
                    item,
                    held,
                    f"expected the next command to be {item.action}, but the app sent {action}"
                    f" {_brief(body)}",
                )
                return

    def heard(self, text):
        if not text:
            return
        self._heard.append(text)
        for index in range(self._position, len(self._items)):
            item = self._items[index]
            if isinstance(item, ACTIONS):
                return
            if (
                isinstance(item, ExpectHeard)
                and index not in self._satisfied
                and item.text.casefold() in text.casefold()
            ):
                self._satisfied.add(index)
                self._check(item, True, "")

    def call_ended(self, outcome):
        """Settle everything left once the call has ended; ``outcome`` is the call's outcome."""
        self._settle_stretch(len(self._items), "before the call ended")
        unused = self.remaining_steps
        if unused:
            self._fail(
                f"the call ended with {len(unused)} script step(s) unused: "
                + ", ".join(step.describe() for step in unused)
            )
        self._position = len(self._items)
        for expected in self.end_expectations:
            wrong = [
                f"{name} was {outcome.get(key)!r}, not {want!r}"
                for name, key, want in (
                    ("ended by", "ended_by", expected.by),
                    ("hangup_cause", "hangup_cause", expected.cause),
                    ("transferred to", "transferred_to", expected.transferred_to),
                )
                if want is not None and outcome.get(key) != want
            ]
            self._check(expected, not wrong, "expected the call to end: " + "; ".join(wrong))

    def _settle_stretch(self, stop, when):
        for index in range(self._position, stop):
            item = self._items[index]
            if index in self._satisfied or not isinstance(item, EXPECTATIONS):
                continue
            if isinstance(item, ExpectHeard):
                heard = "; ".join(f'"{text}"' for text in self._heard) or "nothing"
                self._check(item, False, f'expected to hear "{item.text}" {when}; heard {heard}')
            elif isinstance(item, ExpectCommand):
                self._check(item, False, f"expected command {item.action} {when}; none came")
        self._heard = []
        self._satisfied = {index for index in self._satisfied if index >= stop}

    def _check(self, item, held, message):
        self.checks.append((item.describe(), held, "" if held else message))
        if not held:
            self.failures.append(message)

    def _fail(self, message):
        self.failures.append(message)
        self.checks.append(("script used up", False, message))


def _brief(body, limit=200):
    text = repr({k: v for k, v in (body or {}).items() if k not in ("command_id",)})
    return text if len(text) <= limit else text[: limit - 3] + "..."
