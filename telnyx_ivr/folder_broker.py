"""The zero-setup broker: kombu's folder transport, with each message written whole before a
worker can see it.

kombu's own ``filesystem`` transport opens the message file under its final name, then
encodes and writes the body. A worker polling the folder can take the file in between, read
nothing, and die on ``JSONDecodeError`` (celery/kombu#1551 reports the same error). Here the
body goes to a file whose name no worker takes, and is renamed to
its final name once written: a rename within a folder is atomic, so a worker sees the whole
message or none.

A site uses it by broker URL: ``register()``, called where the Celery app is made (so in
every process), names it ``telnyx-ivr-folder``, and ``CELERY_BROKER_URL = URL`` picks it, with
the transport options of ``filesystem://`` (docs/reliability.md). A URL, not
``CELERY_BROKER_TRANSPORT``: that setting would also override any other broker URL a process
is given (a test's, say).
"""

import contextlib
import os
import uuid
from time import monotonic

from kombu.exceptions import ChannelError
from kombu.transport import TRANSPORT_ALIASES, filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps


class Channel(filesystem.Channel):
    def _put(self, queue, payload, **kwargs):
        body = str_to_bytes(dumps(payload))
        name = f"{round(monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        # Not "<...>.<queue>.msg": the name a worker looks for appears only with the rename.
        writing = os.path.join(self.data_folder_out, f".{uuid.uuid4()}.writing")
        try:
            with open(writing, "wb") as file:
                file.write(body)
            os.replace(writing, final)
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.remove(writing)
            raise ChannelError(f"Cannot add file {final!r} to directory") from exc


class Transport(filesystem.Transport):
    Channel = Channel


ALIAS = "telnyx-ivr-folder"
URL = f"{ALIAS}://"


def register():
    """Let ``URL`` name this transport in this process (kombu's table of transport names)."""
    TRANSPORT_ALIASES[ALIAS] = f"{__name__}:Transport"
