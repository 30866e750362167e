"""Call Control error answers, shaped as Telnyx sends them.

Body: ``{"errors": [{"code": "90018", "title": ..., "detail": ..., "source": {"pointer": ...}}]}``.
Codes and titles come from the reference (``gather-using-audio.openapi.md``); where it names
no code for a check the simulator makes (bad JSON, non-base64 ``client_state``), it uses
``INVALID_PARAMETER`` and says so in docs/simulator.md.
"""

from dataclasses import dataclass, field

AUTHENTICATION_FAILED = "10009"
MISSING_PARAMETER = "10004"
INVALID_ENUM = "10032"
OUT_OF_RANGE = "10033"
RATE_LIMITED = "10011"
UNEXPECTED = "10007"
NOT_FOUND = "10005"
INVALID_PARAMETER = "10002"  # simulator's choice: the reference names no code for these
INVALID_CALL_CONTROL_ID = "90015"
CALL_ENDED = "90018"
CALL_NOT_ANSWERED = "90034"
AI_ASSISTANT_ACTIVE = "90061"


@dataclass
class APIError(Exception):
    """A command the simulator refuses, with the HTTP status and Telnyx error it answers."""

    status: int
    code: str
    title: str
    detail: str = ""
    pointer: str | None = None
    headers: dict = field(default_factory=dict)

    def __str__(self):
        return f"{self.status} {self.code} {self.title}: {self.detail}"

    def body(self):
        error = {"code": self.code, "title": self.title, "detail": self.detail}
        if self.pointer:
            error["source"] = {"pointer": self.pointer}
        return {"errors": [error]}


def unknown_call(call_control_id):
    return APIError(
        422,
        INVALID_CALL_CONTROL_ID,
        "Invalid Call Control ID",
        f"The call_control_id provided was not valid: {call_control_id!r}.",
        "/call_control_id",
    )


def call_ended():
    return APIError(
        422,
        CALL_ENDED,
        "Call has already ended",
        "This call is no longer active and can't receive commands.",
    )


def call_not_answered():
    return APIError(
        422,
        CALL_NOT_ANSWERED,
        "Call not answered yet",
        "This call can't receive this command because it has not been answered yet.",
    )


def assistant_active():
    return APIError(
        422,
        AI_ASSISTANT_ACTIVE,
        "AI Assistant is already in progress",
        "AI Assistant cannot be started more than once.",
    )


def missing(name, detail=None):
    return APIError(
        422,
        MISSING_PARAMETER,
        "Missing required parameter",
        detail or f"The '{name}' parameter is required and cannot be blank.",
        f"/{name}",
    )


def out_of_range(name, detail):
    return APIError(422, OUT_OF_RANGE, "Value outside of range", detail, f"/{name}")


def invalid_enum(name, allowed):
    return APIError(
        422,
        INVALID_ENUM,
        "Invalid enumerated value",
        f"The value must be one of: {', '.join(allowed)}.",
        f"/{name}",
    )


def invalid(name, detail):
    return APIError(
        422, INVALID_PARAMETER, "Invalid parameter", detail, f"/{name}" if name else None
    )


def bad_request(detail):
    """400: the request itself could not be read (no JSON, no length)."""
    error = invalid(None, detail)
    error.status = 400
    return error


def authentication_failed():
    return APIError(
        401,
        AUTHENTICATION_FAILED,
        "Authentication failed",
        "The API key in the Authorization header (Bearer <key>) is missing or not valid.",
    )


def not_found(path):
    return APIError(404, NOT_FOUND, "Resource not found", f"No such resource: {path}")


def server_error(detail="Simulated server error (fault)."):
    return APIError(500, UNEXPECTED, "Unexpected error", detail)


def rate_limited(reset_seconds, limit=100):
    return APIError(
        429,
        RATE_LIMITED,
        "Too many requests",
        "Simulated rate limit (fault).",
        headers={
            "x-ratelimit-limit": str(limit),
            "x-ratelimit-remaining": "0",
            "x-ratelimit-reset": str(reset_seconds),
        },
    )
