"""The zero-setup broker (telnyx_ivr.folder_broker): a worker polling the folder never takes
a message that is still being written. kombu's own folder transport creates the message file
under the name workers look for, then encodes and writes the body; a worker that takes it in
between reads nothing and dies on JSONDecodeError (it stopped ``dev.py run`` in CI)."""

import json
import threading
from pathlib import Path
from queue import Empty

from kombu import Connection

from telnyx_ivr.folder_broker import Transport

QUEUE = "telnyx_ivr"
ROOT = Path(__file__).resolve().parent.parent


class SlowToEncode:
    """A message part whose encoding waits until the test lets it go, holding the writer
    between creating the message and finishing it."""

    def __init__(self):
        self.encoding = threading.Event()
        self.go_on = threading.Event()

    def __json__(self):
        self.encoding.set()
        assert self.go_on.wait(10), "the test never let the encoding finish"
        return "the whole body"


def channel(folder, transport):
    options = {"data_folder_in": str(folder), "data_folder_out": str(folder)}
    connection = Connection("filesystem://", transport=transport, transport_options=options)
    return connection, connection.channel()


def take_while_writing(folder, transport):
    """What a worker's ``_get`` finds while a message is being written, then after."""
    connection, chan = channel(folder, transport)
    slow = SlowToEncode()
    writer = threading.Thread(target=chan._put, args=(QUEUE, {"body": slow}))
    writer.start()
    try:
        assert slow.encoding.wait(10)
        try:
            during = chan._get(QUEUE)
        except Empty:
            during = Empty
        except json.JSONDecodeError as exc:
            during = exc
    finally:
        slow.go_on.set()
        writer.join(10)
    try:
        after = chan._get(QUEUE)
    except Empty:
        after = Empty
    connection.release()
    return during, after


def test_a_message_being_written_is_not_there_yet_then_whole(tmp_path):
    during, after = take_while_writing(tmp_path, Transport)
    assert during is Empty
    assert after == {"body": "the whole body"}
    assert list(tmp_path.iterdir()) == []  # no half-written file left behind


def test_kombus_own_folder_transport_hands_out_the_empty_file(tmp_path):
    # Why telnyx_ivr.folder_broker exists; when kombu writes whole messages, this fails and
    # the subclass can go.
    during, _ = take_while_writing(tmp_path, "filesystem")
    assert isinstance(during, json.JSONDecodeError)


def test_the_example_projects_default_broker_url_names_this_transport(tmp_path):
    """No CELERY_BROKER_URL: the example project's URL reaches this transport, in any process
    that made the Celery app (project/celery.py registers the name), and a message goes
    through it whole."""
    from django.conf import settings

    import project.celery  # noqa: F401  (what every process of the example project imports)

    options = {"data_folder_in": str(tmp_path), "data_folder_out": str(tmp_path)}
    connection = Connection(settings.FOLDER_BROKER_URL, transport_options=options)
    try:
        assert type(connection.transport) is Transport
        chan = connection.channel()
        chan._put(QUEUE, {"body": "through the folder"})
        assert chan._get(QUEUE) == {"body": "through the folder"}
    finally:
        connection.release()
