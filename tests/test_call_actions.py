import json

import pytest

from telnyx_ivr.calls.actions import ActionRefused, add_ai_messages, stop_ai_assistant, stop_gather
from telnyx_ivr.menus.io import import_definition
from telnyx_ivr.models import Call

from .call_fixtures import Caller

pytestmark = pytest.mark.django_db

ASSISTANT_MENU = {
    "format": "telnyx-ivr-menu",
    "format_version": 1,
    "menu": {
        "slug": "assistant",
        "name": "Assistant",
        "description": "",
        "numbers": ["+15550002222"],
        "connection_ids": [],
        "is_default": False,
        "voice": "female",
        "language": "en-US",
        "service_level": "premium",
        "entry_node": "helper",
    },
    "prompts": {},
    "ai_schemas": {},
    "nodes": {
        "helper": {
            "kind": "ai_assistant",
            "name": "Helper",
            "save_as": None,
            "assistant": {"instructions": "Help the caller."},
            "greeting": "Hello!",
            "voice": None,
            "voice_settings": None,
            "transcription": None,
            "interruption_settings": None,
            "routes": [{"when": "default", "target": "node", "node": "bye"}],
        },
        "bye": {"kind": "hangup", "name": "Bye", "save_as": None, "prompt": None, "routes": []},
    },
}


def in_assistant(api, client, signed):
    import_definition(json.loads(json.dumps(ASSISTANT_MENU)), publish=True)
    caller = Caller(client, signed)
    caller.deliver("call.initiated", direction="incoming")
    caller.reply_to(api.requests[-1].json, "call.answered")
    assert api.requests[-1].action == "ai_assistant_start"
    return caller, Call.objects.get()


def test_stop_and_add_messages_to_a_running_assistant(api, client, signed):
    caller, call = in_assistant(api, client, signed)
    start = api.requests[-1].json

    added = add_ai_messages(call, [{"role": "system", "content": "VIP caller"}])
    assert (added.action, added.status) == ("ai_assistant_add_messages", "sent")
    assert api.requests[-1].json["messages"] == [{"role": "system", "content": "VIP caller"}]

    stopped = stop_ai_assistant(call)
    assert (stopped.action, stopped.status) == ("ai_assistant_stop", "sent")
    assert api.requests[-1].json["client_state"] == start["client_state"]
    assert added.command_id != stopped.command_id

    caller.reply_to(start, "call.conversation.ended")
    assert api.requests[-1].action == "hangup"


def test_actions_that_do_not_fit_the_step_are_refused(api, classic, caller):
    caller.deliver("call.initiated", direction="incoming")
    caller.reply_to(api.requests[-1].json, "call.answered")  # now in a DTMF gather
    call = Call.objects.get()
    sent = len(api.requests)
    with pytest.raises(ActionRefused, match="no AI assistant running"):
        stop_ai_assistant(call)
    assert len(api.requests) == sent

    stopped = stop_gather(call)
    assert (stopped.action, stopped.status) == ("gather_stop", "sent")
    gather = api.requests[-2].json
    caller.reply_to(gather, "call.gather.ended", status="cancelled")
    assert api.requests[-1].action == "gather_stop"  # cancelled: nothing more is sent
