"""Adding an option to a key menu in one step, and removing one with what only it used.

"Press 3 for opening hours" becomes the route, the node and prompt it leads to, the menu's
valid digits, and (if the admin accepts it) the menu's spoken text with the option in it. All
in one transaction, on the draft. Removing it takes away the steps and prompts nothing else
uses, and the option's sentence from the spoken text.

What an option does (``Option.action``):
- ``say_hangup``: say a message, then hang up;
- ``say_back``: say a message, then offer the same menu again;
- ``transfer``: transfer the call to a number or SIP address;
- ``submenu``: go to a new key menu, which says ``message``; star goes back, anything else
  repeats it;
- ``node``: go to a node the menu already has.
"""

import re
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Max
from django.utils.text import slugify

from ..models import Node, Prompt, Route
from .kinds import DIGIT_DEFAULTS, DTMF_KINDS

ACTIONS = {
    "say_hangup": "Say a message, then hang up",
    "say_back": "Say a message, then offer this menu again",
    "transfer": "Transfer the call to a number or SIP address",
    "submenu": "Go to a new menu of its own",
    "node": "Go to a step this menu already has",
}
KEY_LIMIT = 64


@dataclass(frozen=True)
class Option:
    keys: str
    label: str
    action: str
    message: str = ""
    transfer_to: str = ""
    target: Node | None = None
    spoken_text: str | None = None  # the menu's new spoken text; None leaves it as it is


def taken_keys(node):
    """The key strings ``node`` already routes."""
    return set(node.routes.filter(when=Route.When.DIGITS).values_list("digits", flat=True))


def suggested_text(node, keys, label):
    """The menu's spoken text with the new option added, or None when it is not text (a
    recording) or there is none."""
    prompt = node.prompt
    if prompt is None or prompt.kind != Prompt.Kind.TTS or not prompt.text.strip():
        return None
    text = prompt.text.rstrip()
    if text[-1] not in ".!?":
        text += "."
    return f"{text} Press {keys} for {label}."


@transaction.atomic
def add_option(node, option):
    """Add ``option`` to the key menu ``node``; returns the new Route."""
    if node.kind not in DTMF_KINDS:
        raise ValueError(f"{node.kind} nodes take no key options")
    menu = node.menu
    name = option.label[:1].upper() + option.label[1:]
    if option.action == "node":
        target = option.target
    elif option.action == "transfer":
        target = _node(menu, option.label, name, Node.Kind.TRANSFER, to=option.transfer_to)
    else:
        prompt = _prompt(menu, option.label, option.message)
        kind = {
            "say_hangup": Node.Kind.HANGUP,
            "say_back": Node.Kind.ANNOUNCEMENT,
            "submenu": Node.Kind.SPEAK_MENU,
        }[option.action]
        target = _node(menu, option.label, name, kind, prompt=prompt)
        if option.action == "say_back":
            _route(target, Route.When.DEFAULT, Route.Target.NODE, target_node=node)
        elif option.action == "submenu":
            target.valid_digits = "*"
            target.save(update_fields=["valid_digits"])
            _route(target, Route.When.DIGITS, Route.Target.BACK, digits="*")
            _route(target, Route.When.DEFAULT, Route.Target.REPEAT)
    route = _route(node, Route.When.DIGITS, Route.Target.NODE, digits=option.keys,
                   target_node=target)  # fmt: skip
    _allow_keys(node, option.keys)
    if option.spoken_text is not None and node.prompt is not None:
        node.prompt.text = option.spoken_text
        node.prompt.save(update_fields=["text"])
    menu.save(update_fields=["updated_at"])
    return route


def _allow_keys(node, keys):
    changed = []
    if node.valid_digits:
        missing = "".join(sorted({c for c in keys if c not in node.valid_digits}))
        if missing:
            node.valid_digits += missing
            changed.append("valid_digits")
    maximum = node.maximum_digits or DIGIT_DEFAULTS["maximum_digits"]
    if len(keys) > maximum:
        node.maximum_digits = len(keys)
        changed.append("maximum_digits")
    if changed:
        node.save(update_fields=changed)


def _route(node, when, target, **fields):
    last = node.routes.aggregate(last=Max("position"))["last"]
    return Route.objects.create(
        menu=node.menu,
        node=node,
        when=when,
        target=target,
        position=0 if last is None else last + 1,
        **fields,
    )


def _prompt(menu, label, text):
    key = _free_key(Prompt.objects.filter(menu=menu), label)
    return Prompt.objects.create(menu=menu, key=key, kind=Prompt.Kind.TTS, text=text)


def _node(menu, label, name, kind, **fields):
    last = Node.objects.filter(menu=menu).aggregate(last=Max("position"))["last"]
    return Node.objects.create(
        menu=menu,
        key=_free_key(Node.objects.filter(menu=menu), label),
        name=name,
        kind=kind,
        position=0 if last is None else last + 1,
        **fields,
    )


def _free_key(rows, label):
    """A key made of ``label`` that no row of ``rows`` has: "opening-hours", then "-2"..."""
    base = slugify(label)[: KEY_LIMIT - 4] or "option"
    taken = set(rows.values_list("key", flat=True))
    key, number = base, 1
    while key in taken:
        number += 1
        key = f"{base}-{number}"
    return key


@dataclass(frozen=True)
class Removal:
    """What removing the option ``route`` takes with it: the steps only it leads to (and
    those only they lead to), the prompts only they use, and the menu's new spoken text."""

    route: Route
    nodes: tuple
    prompts: tuple
    spoken_text: str | None  # None: the text does not name the option, it stays
    still_mentioned: bool = False  # the text names the keys in a way not taken out here


def removal_of(route):
    menu, node = route.menu, route.node
    routes = list(Route.objects.filter(menu=menu).exclude(pk=route.pk))
    gone = set()

    def only_from_gone(pk):
        return all(r.node_id in gone for r in routes if r.target_node_id == pk)

    target = route.target_node_id
    if target not in (None, menu.entry_node_id, node.pk) and only_from_gone(target):
        candidates = {target}
        while candidates:  # and the steps only the removed ones lead to, and so on
            gone |= candidates
            others = Node.objects.filter(menu=menu).exclude(pk__in=gone | {menu.entry_node_id})
            candidates = {
                other.pk
                for other in others
                if any(r.target_node_id == other.pk for r in routes) and only_from_gone(other.pk)
            }
    nodes = tuple(Node.objects.filter(pk__in=gone).order_by("position", "id"))
    kept = Node.objects.filter(menu=menu).exclude(pk__in=gone)
    used = {menu.failure_prompt_id}
    for field in ("prompt_id", "invalid_prompt_id", "no_input_prompt_id"):
        used |= set(kept.values_list(field, flat=True))
    fields = ("prompt_id", "invalid_prompt_id", "no_input_prompt_id")
    mine = {getattr(n, f) for n in nodes for f in fields}
    prompts = tuple(Prompt.objects.filter(pk__in=mine - used - {None}).order_by("key"))
    spoken = _text_without(node, route.digits)
    text = node.prompt.text if node.prompt is not None else ""
    mentioned = spoken is None and bool(re.search(rf"(?<!\w){re.escape(route.digits)}(?!\w)", text))
    return Removal(route, nodes, prompts, spoken, still_mentioned=mentioned)


def _text_without(node, keys):
    prompt = node.prompt
    if not keys or prompt is None or prompt.kind != Prompt.Kind.TTS:
        return None
    sentence = re.compile(rf"\s*Press {re.escape(keys)} (?:for|to) [^.!?]*[.!?]")
    text, found = sentence.subn("", prompt.text)
    return text.strip() if found else None


@transaction.atomic
def remove_option(removal):
    menu, node = removal.route.menu, removal.route.node
    removal.route.delete()
    Route.objects.filter(node__in=removal.nodes).delete()
    Route.objects.filter(target_node__in=removal.nodes).delete()
    for gone in removal.nodes:
        gone.delete()
    for prompt in removal.prompts:
        prompt.delete()
    if removal.spoken_text is not None and node.prompt is not None:
        node.prompt.text = removal.spoken_text
        node.prompt.save(update_fields=["text"])
    menu.save(update_fields=["updated_at"])
