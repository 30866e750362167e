"""Between the editable rows and the definition document of docs/menu-format.md."""

from collections import deque
from datetime import date, time

from ..engine.schedule import WEEKDAYS
from ..models import (
    AIParameterSchema,
    Menu,
    Node,
    OpeningHours,
    Prompt,
    Route,
    Schedule,
    ScheduleException,
)
from .kinds import DEFINITION_FIELDS, DIGIT_DEFAULTS, DIGIT_FIELDS

FORMAT = "telnyx-ivr-menu"
FORMAT_VERSION = 1

# Definition keys whose model field has another name.
_MODEL_FIELD = {"from": "from_number"}


def build_definition(menu):
    """Return the definition document (a dict) of ``menu``'s current draft rows."""
    prompts = {p.pk: p for p in Prompt.objects.filter(menu=menu)}
    schemas = {s.pk: s for s in AIParameterSchema.objects.filter(menu=menu)}
    nodes = list(Node.objects.filter(menu=menu).order_by("position", "id"))
    routes = {}
    for route in Route.objects.filter(node__menu=menu).select_related("target_node"):
        routes.setdefault(route.node_id, []).append(route)
    foreign_keys = _keys_of_foreign_rows(menu, nodes)
    schedules = {
        row.pk: row
        for row in Schedule.objects.filter(
            pk__in={node.schedule_id for node in nodes} - {None}
        ).prefetch_related("hours", "exceptions")
    }

    def key_of(model, pk, own):
        if pk is None:
            return None
        row = own.get(pk)
        return row.key if row is not None else foreign_keys[model, pk]

    definition = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "menu": {
            "slug": menu.slug,
            "name": menu.name,
            "description": menu.description,
            "numbers": list(menu.numbers or []),
            "connection_ids": list(menu.connection_ids or []),
            "is_default": menu.is_default,
            "voice": menu.voice,
            "language": menu.language,
            "service_level": menu.service_level,
            "entry_node": key_of(Node, menu.entry_node_id, {n.pk: n for n in nodes}),
        },
        "prompts": {p.key: prompt_definition(p) for p in prompts.values()},
        "ai_schemas": {
            s.key: {"description": s.description, "schema": s.schema} for s in schemas.values()
        },
        "nodes": {
            node.key: node_definition(
                node,
                sorted(routes.get(node.pk, []), key=lambda r: (r.position, r.pk)),
                prompt_key=lambda pk: key_of(Prompt, pk, prompts),
                schema_key=lambda pk: key_of(AIParameterSchema, pk, schemas),
                schedule_key=lambda pk: schedules[pk].key if pk is not None else None,
            )
            for node in nodes
        },
    }
    if schedules:  # only menus with office hours carry the key: others export as before
        definition["schedules"] = {row.key: row.data() for row in schedules.values()}
    on_failure = command_failure_definition(menu, lambda pk: key_of(Prompt, pk, prompts))
    if on_failure is not None:
        definition["menu"]["on_command_failure"] = on_failure
    return definition


def command_failure_definition(menu, prompt_key):
    """The menu's ``on_command_failure`` object, or None when its rows say only what the
    engine does anyway (the built-in apology, then hang up): menus that never set it export
    as they always did."""
    if (
        menu.failure_prompt_id is None
        and not menu.failure_text
        and menu.failure_then == Menu.FailureThen.HANGUP
        and not menu.failure_to
    ):
        return None
    return {
        "prompt": prompt_key(menu.failure_prompt_id),
        "text": menu.failure_text or None,
        "then": menu.failure_then,
        "to": menu.failure_to or None,
    }


def _keys_of_foreign_rows(menu, nodes):
    # Rows of another menu that this menu's rows point at (validate_menu reports them); their
    # keys still go into the definition so that it describes what the rows say.
    wanted = {Prompt: {menu.failure_prompt_id}, AIParameterSchema: set()}
    for node in nodes:
        wanted[Prompt].update({node.prompt_id, node.invalid_prompt_id, node.no_input_prompt_id})
        wanted[AIParameterSchema].add(node.ai_schema_id)
    found = {}
    for model, pks in wanted.items():
        pks.discard(None)
        for row in model.objects.filter(pk__in=pks).exclude(menu=menu):
            found[model, row.pk] = row.key
    if menu.entry_node_id is not None:
        for row in Node.objects.filter(pk=menu.entry_node_id).exclude(menu=menu):
            found[Node, row.pk] = row.key
    return found


def prompt_definition(prompt):
    """The definition object of one Prompt row."""
    if prompt.kind == Prompt.Kind.AUDIO:
        return {
            "kind": "audio",
            "audio_url": prompt.audio_url or None,
            "media_name": prompt.media_name or None,
        }
    return {
        "kind": "tts",
        "text": prompt.text,
        "payload_type": prompt.payload_type,
        "voice": prompt.voice or None,
        "language": prompt.language or None,
        "voice_settings": prompt.voice_settings,
    }


def node_definition(node, routes, *, prompt_key, schema_key, schedule_key=None):
    """The definition object of one Node row with its (ordered) Route rows."""
    data = {
        "kind": node.kind,
        "name": node.name,
        "save_as": node.save_as or None,
        "routes": [route_definition(route) for route in routes],
    }
    for field in DEFINITION_FIELDS.get(node.kind, ()):
        if field == "digits":
            data["digits"] = {
                name: _or_default(getattr(node, name), DIGIT_DEFAULTS[name])
                for name in DIGIT_FIELDS
            }
        elif field in ("prompt", "invalid_prompt", "no_input_prompt"):
            data[field] = prompt_key(getattr(node, f"{field}_id"))
        elif field == "ai_schema":
            data[field] = schema_key(node.ai_schema_id)
        elif field == "schedule":
            data[field] = schedule_key(node.schedule_id)
        else:
            value = getattr(node, _MODEL_FIELD.get(field, field))
            data[field] = None if value == "" else value
    return data


def _or_default(value, default):
    return default if value is None or value == "" else value


def route_definition(route):
    """The definition object of one Route row."""
    data = {"when": route.when, "target": route.target}
    if route.when == Route.When.DIGITS or route.digits:
        data["digits"] = route.digits
    if route.conditions:
        data["conditions"] = route.conditions
    if route.target == Route.Target.NODE or route.target_node_id is not None:
        data["node"] = route.target_node.key if route.target_node_id is not None else None
    if route.target == Route.Target.CALLABLE or route.callable:
        data["callable"] = route.callable
    return data


def apply_definition(definition, *, menu=None):
    """Make ``menu``'s draft rows (a new Menu if None) say what ``definition`` says.

    The definition must already be valid (``validate_definition``); the menu's prompts,
    schemas, nodes and routes are replaced, while ``is_active`` and the published versions
    are left alone. Schedules are shared by menus: one the site lacks is created from the
    definition, one it has is kept as it is. Call inside a transaction.
    """
    data = definition["menu"]
    if menu is None:
        menu = Menu()
    for field in (
        "slug",
        "name",
        "description",
        "numbers",
        "connection_ids",
        "is_default",
        "voice",
        "language",
        "service_level",
    ):
        setattr(menu, field, data[field])
    on_failure = data.get("on_command_failure") or {}
    menu.failure_text = on_failure.get("text") or ""
    menu.failure_then = on_failure.get("then") or Menu.FailureThen.HANGUP
    menu.failure_to = on_failure.get("to") or ""
    menu.entry_node = menu.failure_prompt = None
    menu.save()
    Route.objects.filter(menu=menu).delete()
    Node.objects.filter(menu=menu).delete()
    Prompt.objects.filter(menu=menu).delete()
    AIParameterSchema.objects.filter(menu=menu).delete()

    prompts = {
        key: Prompt.objects.create(menu=menu, key=key, **_prompt_fields(value))
        for key, value in definition["prompts"].items()
    }
    schemas = {
        key: AIParameterSchema.objects.create(
            menu=menu, key=key, description=value["description"], schema=value["schema"]
        )
        for key, value in definition["ai_schemas"].items()
    }
    schedules = ensure_schedules(definition.get("schedules") or {})
    nodes = {}
    for position, key in enumerate(_node_order(definition)):
        value = definition["nodes"][key]
        fields = _node_fields(value, prompts, schemas, schedules)
        nodes[key] = Node.objects.create(menu=menu, key=key, position=position, **fields)
    for key, value in definition["nodes"].items():
        for position, route in enumerate(value["routes"]):
            Route.objects.create(
                menu=menu,
                node=nodes[key],
                position=position,
                when=route["when"],
                digits=route.get("digits") or "",
                conditions=route.get("conditions"),
                target=route["target"],
                target_node=nodes.get(route.get("node")),
                callable=route.get("callable") or "",
            )
    menu.entry_node = nodes.get(data["entry_node"])
    menu.failure_prompt = prompts.get(on_failure.get("prompt"))
    menu.save(update_fields=["entry_node", "failure_prompt", "updated_at"])
    return menu


def _node_order(definition):
    # Entry node first, then as a caller would meet them, then the rest: the admin's order.
    nodes = definition["nodes"]
    order = {}
    queue = deque([definition["menu"].get("entry_node")])
    while queue:
        key = queue.popleft()
        if key in nodes and key not in order:
            order[key] = None
            queue.extend(route.get("node") for route in nodes[key]["routes"])
    return [*order, *sorted(key for key in nodes if key not in order)]


def _prompt_fields(value):
    if value["kind"] == "audio":
        return {
            "kind": "audio",
            "audio_url": value["audio_url"] or "",
            "media_name": value["media_name"] or "",
        }
    return {
        "kind": "tts",
        "text": value["text"],
        "payload_type": value["payload_type"],
        "voice": value["voice"] or "",
        "language": value["language"] or "",
        "voice_settings": value["voice_settings"],
    }


def ensure_schedules(data):
    """``{key: Schedule}`` for the definition's ``schedules``, creating those the site lacks."""
    found = {row.key: row for row in Schedule.objects.filter(key__in=list(data))}
    for key, value in data.items():
        if key in found:
            continue
        row = Schedule.objects.create(key=key, name=value["name"], time_zone=value["time_zone"])
        for day, intervals in value["weekly"].items():
            for opens, closes in intervals:
                OpeningHours.objects.create(
                    schedule=row,
                    weekday=WEEKDAYS.index(day),
                    opens=_time(opens),
                    closes=_time(closes),
                )
        for exception in value["exceptions"]:
            day = date.fromisoformat(exception["date"])
            hours = exception["hours"] or [(None, None)]
            for opens, closes in hours:
                ScheduleException.objects.create(
                    schedule=row,
                    date=day,
                    name=exception["name"],
                    opens=_time(opens),
                    closes=_time(closes),
                )
        found[key] = row
    return found


def _time(text):
    if text is None:
        return None
    return time(0, 0) if text == "24:00" else time.fromisoformat(text)


def _node_fields(value, prompts, schemas, schedules):
    fields = {"kind": value["kind"], "name": value["name"], "save_as": value["save_as"] or ""}
    for field in DEFINITION_FIELDS[value["kind"]]:
        item = value[field]
        if field == "digits":
            fields.update({name: item[name] for name in DIGIT_FIELDS})
        elif field in ("prompt", "invalid_prompt", "no_input_prompt"):
            fields[field] = prompts.get(item)
        elif field == "ai_schema":
            fields[field] = schemas.get(item)
        elif field == "schedule":
            fields[field] = schedules.get(item)
        else:
            model_field = _MODEL_FIELD.get(field, field)
            text_field = Node._meta.get_field(model_field).get_internal_type() in (
                "CharField",
                "TextField",
            )
            fields[model_field] = ("" if item is None else item) if text_field else item
    return fields
