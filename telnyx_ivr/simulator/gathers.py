"""How a DTMF gather ends, computed from the command's rules and the keys the caller pressed.

Rules (Telnyx's, with the API's defaults): keys are collected until the terminating digit
(not included in ``digits``), until ``maximum_digits`` are in (later keys do not reach the
gather), or until the inter-digit timeout after the last key. The collected digits are then
checked: ``valid`` when their count is within ``minimum_digits``..``maximum_digits`` and each
is in ``valid_digits``, else ``invalid``. No key at all is ``timeout``.
"""

from dataclasses import dataclass

from . import api_errors

DTMF_KEYS = "0123456789*#ABCD"
DEFAULTS = {
    "minimum_digits": 1,
    "maximum_digits": 128,
    "maximum_tries": 3,
    "timeout_millis": 60000,
    "inter_digit_timeout_millis": 5000,
    "terminating_digit": "#",
    "valid_digits": "0123456789#*",
}


@dataclass(frozen=True)
class GatherRules:
    minimum_digits: int = 1
    maximum_digits: int = 128
    valid_digits: str = "0123456789#*"
    terminating_digit: str = "#"
    maximum_tries: int = 1

    @classmethod
    def from_command(cls, body, *, with_tries):
        """Read and range-check the rules of a gather command; raise api_errors.APIError."""
        values = {}
        for name in ("minimum_digits", "maximum_digits", "maximum_tries"):
            value = body.get(name)
            if value is None:
                values[name] = DEFAULTS[name]
                continue
            if isinstance(value, bool) or not isinstance(value, int):
                raise api_errors.invalid(name, f"{name} must be an integer, not {value!r}")
            values[name] = value
        for name in ("timeout_millis", "inter_digit_timeout_millis", "initial_timeout_millis"):
            value = body.get(name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
                raise api_errors.invalid(name, f"{name} must be an integer, not {value!r}")
            if isinstance(value, int) and value < 1:
                raise api_errors.out_of_range(name, f"{name} must be at least 1, got {value}")
        if not 1 <= values["minimum_digits"] <= 128:
            raise api_errors.out_of_range(
                "minimum_digits",
                f"The value is outside of allowed range 1 to 128: {values['minimum_digits']}",
            )
        if not 1 <= values["maximum_digits"] <= 128:
            raise api_errors.out_of_range(
                "maximum_digits",
                f"The value is outside of allowed range 1 to 128: {values['maximum_digits']}",
            )
        if values["minimum_digits"] > values["maximum_digits"]:
            raise api_errors.out_of_range(
                "minimum_digits",
                f"minimum_digits ({values['minimum_digits']}) is above maximum_digits "
                f"({values['maximum_digits']})",
            )
        if values["maximum_tries"] < 1:
            raise api_errors.out_of_range(
                "maximum_tries", f"maximum_tries must be at least 1, got {values['maximum_tries']}"
            )
        terminating = body.get("terminating_digit", DEFAULTS["terminating_digit"])
        if terminating is None:
            terminating = DEFAULTS["terminating_digit"]
        if (
            not isinstance(terminating, str)
            or len(terminating) > 1
            or (terminating and terminating not in DTMF_KEYS)
        ):
            raise api_errors.invalid_enum("terminating_digit", list(DTMF_KEYS))
        valid_digits = body.get("valid_digits") or DEFAULTS["valid_digits"]
        if not isinstance(valid_digits, str) or any(key not in DTMF_KEYS for key in valid_digits):
            raise api_errors.invalid(
                "valid_digits",
                f"valid_digits may hold only DTMF keys {DTMF_KEYS}: {valid_digits!r}",
            )
        return cls(
            minimum_digits=values["minimum_digits"],
            maximum_digits=values["maximum_digits"],
            valid_digits=valid_digits,
            terminating_digit=terminating,
            maximum_tries=values["maximum_tries"] if with_tries else 1,
        )


@dataclass(frozen=True)
class TryResult:
    digits: str  # as call.gather.ended reports them
    status: str  # valid, invalid or timeout
    heard: str  # keys that reached the gather (one call.dtmf.received each)
    ignored: str  # keys pressed after the gather had stopped listening


def collect(keys, rules):
    """Play ``keys`` into one try of a gather with ``rules``; return its TryResult."""
    if not keys:
        return TryResult(digits="", status="timeout", heard="", ignored="")
    digits = ""
    for index, key in enumerate(keys):
        if rules.terminating_digit and key == rules.terminating_digit:
            return _finish(digits, rules, keys[: index + 1], keys[index + 1 :])
        digits += key
        if len(digits) >= rules.maximum_digits:
            return _finish(digits, rules, keys[: index + 1], keys[index + 1 :])
    return _finish(digits, rules, keys, "")


def _finish(digits, rules, heard, ignored):
    valid = rules.minimum_digits <= len(digits) <= rules.maximum_digits and all(
        key in rules.valid_digits for key in digits
    )
    return TryResult(
        digits=digits, status="valid" if valid else "invalid", heard=heard, ignored=ignored
    )
