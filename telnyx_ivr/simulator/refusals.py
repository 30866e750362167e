"""Why the app refused a simulated call's webhooks, in words that name the fix.

Telnyx follows no redirect and retries no 4xx but 408 and 429, and neither does the
simulator. So when a call's first webhook, ``call.initiated``, is refused that way, the app
has stored nothing of the call and can never send it a command: whoever waits for the call
stops at once (``refused_start``) instead of waiting out its timeout. A later refusal proves
no such thing (the next webhook may be taken), so only the first one stops a call.

Both work on transcript entries, ``call.transcript`` or the control API's, alike.
"""

from urllib.parse import urlsplit

from ..conf import SETTINGS_NAME
from .service import DEV_SERVER, webhook_path
from .webhooks import RETRIED_STATUSES

WEBHOOK_URL_SETTING = f'{SETTINGS_NAME}["SIMULATOR_WEBHOOK_URL"]'


def is_final_refusal(status):
    """An answer no redelivery can change: a redirect, or a 4xx that is not retried."""
    return status is not None and 300 <= status < 500 and status not in RETRIED_STATUSES


def refusals(transcript):
    """The webhook entries the app did not take (no answer, or 3xx and up), in sending order."""
    return [
        entry
        for entry in transcript
        if entry["kind"] == "webhook"
        and "status" in entry
        and (entry["status"] is None or entry["status"] >= 300)
    ]


def refused_start(transcript):
    """The call's first webhook entry when the app refused it for good, else None."""
    first = next((entry for entry in transcript if entry["kind"] == "webhook"), None)
    refused = (
        first is not None
        and first.get("event_type") == "call.initiated"
        and is_final_refusal(first.get("status"))
    )
    return first if refused else None


def refused_start_problem(entry, webhook_url):
    """What to say of a call whose first webhook ``entry`` was refused for good."""
    return (
        f"the app refused the call's first webhook, {entry['text']}, so it never heard of "
        f"the call: {explain(entry, webhook_url)}"
    )


def explain(entry, webhook_url):
    """The likely cause of the refusal ``entry`` of a webhook sent to ``webhook_url``."""
    status, answer = entry.get("status"), entry.get("answer")
    said = f" ({answer})" if answer else ""
    if status is None:
        return f"nothing answered at {webhook_url}: is the web server running there?"
    if 300 <= status < 400:
        return (
            f"this site redirected the webhook to {entry.get('location') or 'another URL'} "
            f"(HTTP {status}) instead of taking it, and Telnyx, like the simulator, does not "
            "follow redirects. SECURE_SSL_REDIRECT does this to plain http: list the webhook's "
            f"path in SECURE_REDIRECT_EXEMPT, or set {WEBHOOK_URL_SETTING} to a URL that is not "
            "redirected"
        )
    if status == 404:
        return _not_found(webhook_url)
    if status == 403 and (answer or "").startswith("not_configured"):
        return (
            f"this site has no public key configured{said}: add the simulator's public key to "
            f'{SETTINGS_NAME}["PUBLIC_KEYS"]'
        )
    if status == 403:
        return (
            f"this site refused the webhook's signature{said}: is the simulator's public key "
            f'(of its {SETTINGS_NAME}["SIMULATOR_SIGNING_KEY"]) in {SETTINGS_NAME}["PUBLIC_KEYS"]?'
        )
    return f"this site answered HTTP {status}{said}"


def _not_found(webhook_url):
    parts = urlsplit(webhook_url or "")
    path = webhook_path()
    if path is None:
        return (
            f"nothing is mounted at {webhook_url}, and this site's URLconf does not include "
            "telnyx_ivr.urls: include it, then point the simulator at its webhook"
        )
    if parts.path != path:
        return (
            f"nothing is mounted at {webhook_url}: this site's webhook path is {path}, so set "
            f"{WEBHOOK_URL_SETTING} to {parts.scheme}://{parts.netloc}{path} (left unset, it is "
            f"{DEV_SERVER}{path})"
        )
    return (
        f"{webhook_url} answered 404 although {path} is this site's webhook path: is another "
        f"site listening on {parts.netloc}? Set {WEBHOOK_URL_SETTING} to where this one listens"
    )
