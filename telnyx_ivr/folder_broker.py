"""The zero-setup broker: kombu's folder transport, with each message written whole before a
worker can see it.

kombu's own ``filesystem`` transport opens the message file under its final name, then
encodes and writes the body. A worker polling the folder can take the file in between, read
nothing, and die on ``JSONDecodeError`` (celery/kombu#1551 reports the same error). Here the
body goes to a file whose name no worker takes, and is renamed to
its final name once written: a rename within a folder is atomic, so a worker sees the whole
message or none.

A site uses it by setting ``CELERY_BROKER_TRANSPORT = "telnyx_ivr.folder_broker:Transport"``
beside ``CELERY_BROKER_URL = "filesystem://"`` (docs/reliability.md).
"""

import contextlib
import os
import uuid
from time import monotonic

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
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
