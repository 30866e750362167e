"""Admin for menus: one page edits a menu's draft with its prompts, schemas, nodes and routes.

Field rules that concern one row are form errors at the field (and block the save); rules
about the whole menu (reachability, default routes, variables, ...) run on every save, are
shown at the node and in the menu's Validation box, and block publishing.
"""

import copy
import io
import json
import re
import zipfile

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.models import LogEntry
from django.contrib.admin.options import IS_POPUP_VAR
from django.contrib.admin.widgets import RelatedFieldWidgetWrapper
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Max
from django.forms.models import BaseInlineFormSet
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template import TemplateSyntaxError
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from jsonschema import Draft202012Validator

from ..engine.core import DEFAULT_APOLOGY
from ..menus.conditions import FIELD_WORDS, describe_condition, reads_earlier_calls
from ..menus.definition import build_definition
from ..menus.diagram import render_menu_diagram
from ..menus.io import dumps_definition, export_menu
from ..menus.kinds import (
    BUILTIN_VARIABLES,
    CONDITION_OPS,
    DIGIT_DEFAULTS,
    DIGIT_FIELDS,
    DTMF_CHARACTERS,
    DTMF_KINDS,
    E164,
    FIELDLESS_OPS,
    KIND_SPECIFIC_MODEL_FIELDS,
    MODEL_FIELDS,
    PROMPT_KIND,
    PROMPT_REQUIRED,
    ROUTE_WHENS,
    SAVING_KINDS,
    TEXT_LIMIT,
    TRANSFER_ADDRESS,
    a_kind,
)
from ..menus.publishing import activate_menu, deactivate_menu, duplicate_menu, publish_menu
from ..menus.schema import ai_schema_errors, menu_schema
from ..menus.validation import MenuValidationError, claim_conflicts, validate_menu
from ..menus.variables import template_variables
from ..models import AIParameterSchema, Menu, MenuVersion, Node, Prompt, Route
from . import error_summary, issue_words
from .add_option import add_option_url, add_option_urls, key_options_of, remove_option_url
from .display import local_time, local_time_seconds
from .form_fields import (
    JSON_OVERRIDES,
    NODE_LABELS,
    SECONDS_LABELS,
    SecondsField,
    seconds_text,
)
from .menu_analytics import menu_analytics_urls
from .test_call import call_page_urls

DOTTED_PATH = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+\Z")

PROMPT_KIND_WORDS = {"tts": "text-to-speech", "audio": "recorded audio"}


def _json_errors(value, definition_name):
    """Messages for ``value`` against ``$defs/<definition_name>`` of the menu file schema."""
    schema = {"$ref": f"#/$defs/{definition_name}", "$defs": menu_schema()["$defs"]}
    return [
        f"{error.json_path}: {error.message}"
        for error in Draft202012Validator(schema).iter_errors(value)
    ]


def _is_empty(value):
    return value is None or value == "" or value == [] or value == {}


# --- menu ----------------------------------------------------------------------------------


class LinesField(forms.CharField):
    """A list of strings edited as one per line."""

    widget = forms.Textarea(attrs={"rows": 3, "cols": 40})

    def __init__(self, *, item_pattern=None, item_message="", **kwargs):
        self.item_pattern = item_pattern
        self.item_message = item_message
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def prepare_value(self, value):
        if isinstance(value, list | tuple):
            return "\n".join(str(item) for item in value)
        return value

    def to_python(self, value):
        if isinstance(value, list):
            return value
        lines = [line.strip() for line in (value or "").splitlines()]
        return list(dict.fromkeys(line for line in lines if line))

    def validate(self, value):
        super().validate(value)
        if self.item_pattern is not None:
            bad = [item for item in value if not self.item_pattern.match(item)]
            if bad:
                raise ValidationError(f"{', '.join(bad)}: {self.item_message}")


def _save_mark(moment):
    """When a draft was saved, as the form carries it: microseconds since the epoch (not a
    time, which the page would show in UTC to anyone reading its source)."""
    return str(round(moment.timestamp() * 1_000_000))


class MenuForm(forms.ModelForm):
    numbers = LinesField(
        item_pattern=E164,
        item_message="not an E.164 number (e.g. +15551230000).",
        help_text="Called numbers (E.164) this menu answers, one per line.",
    )
    connection_ids = LinesField(help_text="Telnyx connection ids this menu answers, one per line.")
    # When the draft this page shows was saved: a save over a newer one is refused (below).
    opened_at = forms.CharField(required=False, widget=forms.HiddenInput)

    class Meta:
        model = Menu
        fields = [
            "name",
            "slug",
            "description",
            "numbers",
            "connection_ids",
            "is_default",
            "is_active",
            "voice",
            "language",
            "service_level",
            "entry_node",
            "failure_prompt",
            "failure_text",
            "failure_then",
            "failure_to",
        ]
        widgets = {"failure_text": forms.Textarea(attrs={"rows": 2, "cols": 60})}
        help_texts = {"failure_text": f'Blank, with no prompt either: "{DEFAULT_APOLOGY}"'}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None and "opened_at" in self.fields:
            self.fields["opened_at"].initial = _save_mark(self.instance.updated_at)

    def clean(self):
        cleaned = super().clean()
        self._clean_saved_meanwhile(cleaned)
        self._clean_command_failure(cleaned)
        if cleaned.get("is_active"):
            field_of = {
                "menu.numbers": "numbers",
                "menu.connection_ids": "connection_ids",
                "menu.is_default": "is_default",
            }
            for issue in claim_conflicts(
                self.instance,
                numbers=cleaned.get("numbers") or [],
                connection_ids=cleaned.get("connection_ids") or [],
                is_default=bool(cleaned.get("is_default")),
            ):
                self.add_error(field_of[issue.field], issue.message)
        return cleaned

    def _clean_saved_meanwhile(self, cleaned):
        """Two admins on one draft: the second save would undo the first without a word.
        It is refused with who saved and when; the page keeps its edits, and now carries
        the newer save's time, so saving again keeps this page's version on purpose."""
        opened = cleaned.get("opened_at")
        if self.instance.pk is None or not opened:
            return
        saved = Menu.objects.filter(pk=self.instance.pk).values_list("updated_at", flat=True)
        saved = saved.first()
        if saved is None or _save_mark(saved) == opened:
            return
        entry = (
            LogEntry.objects.filter(
                content_type=ContentType.objects.get_for_model(Menu),
                object_id=str(self.instance.pk),
            )
            .select_related("user")
            .order_by("-action_time")
            .first()
        )
        who = f" ({entry.user.get_username()})" if entry is not None else ""
        self.data = self.data.copy()
        self.data[self.add_prefix("opened_at")] = _save_mark(saved)
        raise ValidationError(
            f"Someone else{who} saved this menu at {local_time_seconds(saved)}, after you opened "
            "it. Nothing was saved, and your changes are still on this page. To see theirs, "
            "open the menu in a new tab; to keep yours instead, save again."
        )

    def _clean_command_failure(self, cleaned):
        text = cleaned.get("failure_text") or ""
        if text and cleaned.get("failure_prompt") is not None:
            self.add_error("failure_text", "Choose a prompt or write a text, not both.")
        elif len(text) > TEXT_LIMIT:
            self.add_error("failure_text", f"At most {TEXT_LIMIT} characters.")
        elif text:
            try:
                template_variables(text)
            except TemplateSyntaxError as exc:
                self.add_error("failure_text", f"Not a valid template: {exc}")
        to = cleaned.get("failure_to") or ""
        if cleaned.get("failure_then") == Menu.FailureThen.TRANSFER:
            if not to:
                self.add_error("failure_to", "A transfer needs a number or SIP URI.")
            elif not TRANSFER_ADDRESS.match(to):
                self.add_error("failure_to", "An E.164 number (+15551230000) or a sip: URI.")
        elif to:
            self.add_error("failure_to", "Only for a transfer: leave it empty to hang up.")


# --- prompts and schemas -------------------------------------------------------------------


class PromptForm(forms.ModelForm):
    audio_url = forms.URLField(max_length=2000, required=False, assume_scheme="https")

    class Meta:
        model = Prompt
        fields = [
            "menu",
            "key",
            "kind",
            "text",
            "payload_type",
            "voice",
            "language",
            "voice_settings",
            "audio_url",
            "media_name",
        ]
        widgets = {"text": forms.Textarea(attrs={"rows": 2, "cols": 50})}

    def clean(self):
        cleaned = super().clean()
        kind = cleaned.get("kind")
        if kind == Prompt.Kind.TTS:
            for field in ("audio_url", "media_name"):
                if cleaned.get(field):
                    self.add_error(field, "Only for audio prompts: leave it empty.")
            text = cleaned.get("text")
            if not text:
                self.add_error("text", "A text-to-speech prompt needs text.")
            else:
                try:
                    template_variables(text)
                except TemplateSyntaxError as exc:
                    self.add_error("text", f"Not a valid template: {exc}")
            settings = cleaned.get("voice_settings")
            if settings is not None:
                for problem in _json_errors(settings, "voice_settings"):
                    self.add_error("voice_settings", problem)
        elif kind == Prompt.Kind.AUDIO:
            for field in ("text", "voice", "language", "voice_settings"):
                if not _is_empty(cleaned.get(field)):
                    self.add_error(field, "Only for text-to-speech prompts: leave it empty.")
            if bool(cleaned.get("audio_url")) == bool(cleaned.get("media_name")):
                self.add_error("audio_url", "Give exactly one of audio URL and media name.")
        return cleaned


class AIParameterSchemaForm(forms.ModelForm):
    class Meta:
        model = AIParameterSchema
        fields = ["menu", "key", "description", "schema"]
        help_texts = {
            "schema": "The details the AI collects. The table writes them as a JSON Schema; "
            "'Show the JSON Schema' shows it, to edit what the table can't say."
        }

    def clean_schema(self):
        schema = self.cleaned_data.get("schema")
        problems = ai_schema_errors(schema)
        if problems:
            raise ValidationError(
                [ValidationError(f"Not a valid JSON Schema: {p}") for p in problems]
            )
        return schema


# --- nodes ---------------------------------------------------------------------------------


class PlacedLast:
    """A new row's position box starts empty; left empty, the row goes after the others
    (new rows all had position 0 and landed among the first)."""

    def _position_optional(self):
        field = self.fields.get("position")
        if field is None:
            return
        field.required = False
        field.widget.attrs["placeholder"] = "last"
        if self.instance.pk is None:
            field.initial = None

    def _place_last(self, cleaned, siblings):
        if "position" in self.fields and cleaned.get("position") is None:
            last = siblings.exclude(pk=self.instance.pk).aggregate(last=Max("position"))["last"]
            cleaned["position"] = 0 if last is None else last + 1


class NodeForm(PlacedLast, forms.ModelForm):
    class Meta:
        model = Node
        fields = ["menu", "key", "name", "kind", "position", "save_as", *KIND_SPECIFIC_MODEL_FIELDS]
        widgets = {
            "greeting": forms.Textarea(attrs={"rows": 2, "cols": 60}),
            "gather_ended_speech": forms.Textarea(attrs={"rows": 2, "cols": 60}),
        }
        labels = {name: label for name, label in NODE_LABELS.items() if name not in SECONDS_LABELS}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._position_optional()
        if "kind" in self.fields:
            # The JS shows only the fields of the chosen kind; the map comes from the server
            # so that the browser and clean() agree.
            self.fields["kind"].widget.attrs["data-kind-fields"] = json.dumps(MODEL_FIELDS)
        for name, label in SECONDS_LABELS.items():
            if name in self.fields:
                self.fields[name] = SecondsField(label=label)
        for name in DIGIT_FIELDS:
            if name in self.fields and DIGIT_DEFAULTS[name] is not None:
                default = DIGIT_DEFAULTS[name]
                shown = seconds_text(default) if name in SECONDS_LABELS else str(default)
                self.fields[name].widget.attrs["placeholder"] = shown

    def clean(self):
        cleaned = super().clean()
        menu = cleaned.get("menu") or getattr(self.instance, "menu", None)
        if menu is not None and menu.pk is not None:
            self._place_last(cleaned, Node.objects.filter(menu=menu))
        kind = cleaned.get("kind")
        if not kind:
            return cleaned
        label, start = a_kind(kind), a_kind(kind, start=True)
        used = MODEL_FIELDS[kind]
        for field in KIND_SPECIFIC_MODEL_FIELDS:
            if field not in used and field in cleaned and not _is_empty(cleaned[field]):
                self.add_error(field, f"Not used by {label} node: leave it empty.")
        save_as = cleaned.get("save_as")
        if save_as and kind not in SAVING_KINDS:
            self.add_error("save_as", f"{start} node gathers nothing to save.")
        elif save_as in BUILTIN_VARIABLES:
            self.add_error("save_as", f"'{save_as}' is a built-in variable.")
        self._clean_prompts(kind, start, cleaned)
        if kind in DTMF_KINDS:
            self._clean_digits(cleaned)
        if kind in ("ai_gather", "ai_assistant"):
            self._clean_ai(kind, cleaned)
        if kind == "transfer":
            self._clean_transfer(cleaned)
        if (
            kind == "schedule"
            and cleaned.get("schedule") is None
            and not self.has_error("schedule")
        ):
            self.add_error("schedule", "Choose the opening hours this step checks.")
        return cleaned

    def _clean_prompts(self, kind, start, cleaned):
        prompt = cleaned.get("prompt")
        if kind in PROMPT_REQUIRED and prompt is None and not self.has_error("prompt"):
            self.add_error("prompt", f"{start} node needs a prompt.")
        wanted = PROMPT_KIND.get(kind)
        if prompt is not None and wanted and prompt.kind != wanted:
            words = PROMPT_KIND_WORDS[wanted]
            self.add_error("prompt", f"{start} node needs a {words} prompt.")

    def _clean_digits(self, cleaned):
        for name in DIGIT_FIELDS:
            if _is_empty(cleaned.get(name)) and not self.has_error(name):
                cleaned[name] = DIGIT_DEFAULTS[name]
        minimum, maximum = cleaned.get("minimum_digits"), cleaned.get("maximum_digits")
        for name, value in (("minimum_digits", minimum), ("maximum_digits", maximum)):
            if value is not None and not 1 <= value <= 128:
                self.add_error(name, "Must be between 1 and 128.")
        if minimum and maximum and minimum > maximum:
            self.add_error("minimum_digits", "More than the maximum digits.")
        valid = cleaned.get("valid_digits") or ""
        if any(char not in DTMF_CHARACTERS for char in valid):
            self.add_error("valid_digits", f"Use only the DTMF keys {DTMF_CHARACTERS}.")
        terminating = cleaned.get("terminating_digit") or ""
        if terminating and terminating not in DTMF_CHARACTERS:
            self.add_error("terminating_digit", f"One of the DTMF keys {DTMF_CHARACTERS}.")
        for name in ("timeout_millis", "inter_digit_timeout_millis", "maximum_tries"):
            if cleaned.get(name) == 0:
                self.add_error(name, "Must be at least 1.")

    def _clean_ai(self, kind, cleaned):
        if kind == "ai_gather" and cleaned.get("ai_schema") is None:
            self.add_error("ai_schema", "An AI gather needs a parameter schema.")
        for name in ("greeting", "gather_ended_speech"):
            if len(cleaned.get(name) or "") > TEXT_LIMIT:
                self.add_error(name, f"At most {TEXT_LIMIT} characters (a Telnyx limit).")
        for name in (
            "assistant",
            "voice_settings",
            "transcription",
            "interruption_settings",
            "message_history",
        ):
            value = cleaned.get(name)
            if value is not None:
                for problem in _json_errors(value, name):
                    self.add_error(name, problem)

    def _clean_transfer(self, cleaned):
        to = cleaned.get("to")
        if not to:
            self.add_error("to", "A transfer needs a number or SIP URI.")
        elif not TRANSFER_ADDRESS.match(to):
            self.add_error("to", "An E.164 number (+15551230000) or a sip: URI.")
        caller_id = cleaned.get("from_number")
        if caller_id and not TRANSFER_ADDRESS.match(caller_id):
            self.add_error("from_number", "An E.164 number (+15551230000) or a sip: URI.")


# --- routes --------------------------------------------------------------------------------


class RouteForm(PlacedLast, forms.ModelForm):
    class Meta:
        model = Route
        fields = [
            "menu",
            "node",
            "position",
            "when",
            "digits",
            "conditions",
            "target",
            "target_node",
            "callable",
        ]
        widgets = {"conditions": forms.Textarea(attrs={"rows": 1, "cols": 30})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._position_optional()

    def clean(self):
        cleaned = super().clean()
        node, when, target = cleaned.get("node"), cleaned.get("when"), cleaned.get("target")
        if node is not None and node.pk is not None:
            self._place_last(cleaned, Route.objects.filter(node=node))
        if node is not None and when and when not in ROUTE_WHENS[node.kind]:
            allowed = ", ".join(ROUTE_WHENS[node.kind]) or "none: it ends the menu"
            self.add_error(
                "when",
                f"{a_kind(node.kind, start=True)} node has no '{when}' outcome ({allowed}).",
            )
        digits = cleaned.get("digits") or ""
        if when == Route.When.DIGITS:
            if not digits:
                self.add_error("digits", "Give the digits this route matches.")
            elif any(char not in DTMF_CHARACTERS for char in digits):
                self.add_error("digits", f"Use only the DTMF keys {DTMF_CHARACTERS}.")
        elif digits:
            self.add_error("digits", "Only a digits route has digits: leave it empty.")
        conditions = cleaned.get("conditions")
        if conditions is not None and when not in (Route.When.VALID, Route.When.MATCH):
            self.add_error(
                "conditions",
                "Only an 'AI result valid' or a 'Conditions hold' route has conditions.",
            )
        elif conditions is None and when == Route.When.MATCH:
            self.add_error(
                "conditions",
                'Give the conditions, e.g. [{"field": "caller_number", "op": "starts_with", '
                '"value": "+44"}].',
            )
        elif conditions is not None:
            if isinstance(conditions, list) and conditions:
                problems = [p for item in conditions for p in _json_errors(item, "condition")]
            else:
                problems = ['A list such as [{"field": "age", "op": "equals", "value": 18}].']
            if not problems and when == Route.When.VALID and reads_earlier_calls(conditions):
                problems = ["'called_within_days' is for checks only, not for AI answers."]
            for problem in problems:
                self.add_error("conditions", problem)
        if target == Route.Target.NODE and cleaned.get("target_node") is None:
            if not self.has_error("target_node"):
                self.add_error("target_node", "Choose the node this route goes to.")
        elif target != Route.Target.NODE and cleaned.get("target_node") is not None:
            self.add_error("target_node", "Only for routes to a node: leave it empty.")
        path_text = cleaned.get("callable") or ""
        if target == Route.Target.CALLABLE and not DOTTED_PATH.match(path_text):
            self.add_error("callable", "A dotted path such as myproject.routing.pick_node.")
        elif target != Route.Target.CALLABLE and path_text:
            self.add_error("callable", "Only for callable routes: leave it empty.")
        return cleaned


# What the conditions editor (conditions.js) calls the check of an earlier call, which reads
# no field and so stands among the fields; the rest of its words are describe_condition's.
EARLIER_CALL_WORDS = "called before"
# Stands for the value in describe_condition's sentence, to find the words on either side.
_VALUE_MARK = "\x00"


def condition_tests():
    """Each operator as the conditions editor offers it: its words and those after the value
    ("days"), both cut from describe_condition's sentence so the page and the diagram say the
    same, and the kind of value it takes (CONDITION_OPS)."""
    tests = []
    for op, value in CONDITION_OPS.items():
        sentence = describe_condition({"field": "", "op": op, "value": _VALUE_MARK})
        words, _, unit = sentence.partition(_VALUE_MARK)
        words = words.strip()
        if op in FIELDLESS_OPS:
            # "called in the last": the field's list already says "called before".
            words = words.split(" ", 1)[-1]
        tests.append(
            {
                "op": op,
                "words": words,
                "unit": unit.strip(),
                "value": value,
                "fieldless": op in FIELDLESS_OPS,
            }
        )
    return tests


def _field_choice(path, kind):
    return {"path": path, "words": FIELD_WORDS.get(path, path), "type": kind}


def _schema_fields(schema, prefix=""):
    properties = (schema.schema or {}).get("properties") if schema is not None else None
    if not isinstance(properties, dict):
        return []
    return [
        _field_choice(f"{prefix}{name}", spec.get("type", "") if isinstance(spec, dict) else "")
        for name, spec in properties.items()
    ]


def condition_fields(menu):
    """What a route's conditions can read, for the conditions editor: on a check, the menu's
    variables (an AI answer's fields one by one, as ``details.age``); on an AI answer's
    ``valid`` route, the fields of that node's schema, by node id. Keys pressed are text."""
    builtins = [name for name in FIELD_WORDS if name in BUILTIN_VARIABLES]
    builtins += sorted(BUILTIN_VARIABLES - set(builtins))
    variables = [_field_choice(name, "string") for name in builtins]
    answers = {}
    nodes = menu.nodes.select_related("ai_schema").order_by("position", "id") if menu else []
    for node in nodes:
        if node.kind == "ai_gather":
            answers[str(node.pk)] = _schema_fields(node.ai_schema)
        if node.save_as and node.kind in SAVING_KINDS:
            if node.kind == "ai_gather":
                variables.append(_field_choice(node.save_as, "object"))
                variables += _schema_fields(node.ai_schema, f"{node.save_as}.")
            else:
                variables.append(_field_choice(node.save_as, "string"))
    return {"variables": variables, "answers": answers}


# --- inlines -------------------------------------------------------------------------------


def draft_report(menu):
    """The draft's definition and its problems, worked out once per menu instance: the change
    page shows them in three places (node forms, validation box, diagram)."""
    report = getattr(menu, "_telnyx_ivr_report", None)
    if report is None:
        definition = build_definition(menu)
        report = (definition, validate_menu(menu, definition))
        menu._telnyx_ivr_report = report
    return report


def _menu_of(request):
    return getattr(request, "_telnyx_ivr_menu", None)


def _limit_to_menu(db_field, request, kwargs):
    menu = _menu_of(request)
    model = db_field.remote_field.model
    if model in (Node, Prompt, AIParameterSchema):
        queryset = model.objects.filter(menu=menu) if menu is not None else model.objects.none()
        kwargs["queryset"] = queryset
    return kwargs


class ThisMenuRelatedWidget(RelatedFieldWidgetWrapper):
    """The "+" and pencil beside a prompt, schema or node dropdown, whose pop-up knows the
    menu being edited: a new prompt is made for it without asking which menu."""

    @classmethod
    def of(cls, wrapper, menu):
        widget = copy.copy(wrapper)
        widget.__class__ = cls
        widget.menu_pk = menu.pk
        return widget

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        context["url_params"] += f"&menu={self.menu_pk}"
        return context


class ThisMenuPopups:
    """The "+" and pencil links of this admin's dropdowns open their pop-up for the menu
    being edited (ThisMenuRelatedWidget)."""

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        menu = _menu_of(request)
        wrapped = field is not None and isinstance(field.widget, RelatedFieldWidgetWrapper)
        if wrapped and menu is not None:
            field.widget = ThisMenuRelatedWidget.of(field.widget, menu)
        return field


class MenuChildInline(ThisMenuPopups):
    """Inline whose foreign keys offer only rows of the menu being edited."""

    formfield_overrides = {models.JSONField: JSON_OVERRIDES}

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        kwargs = _limit_to_menu(db_field, request, kwargs)
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if field is not None:
            # Every inline form would query its dropdown's choices again (one query per node
            # and field); list them once per request and share the list. Validation still
            # goes through the field's queryset.
            cache = request.__dict__.setdefault("_telnyx_ivr_choices", {})
            key = (db_field.model, db_field.name)
            if key not in cache:
                cache[key] = list(field.choices)
            field.choices = cache[key]
        return field


class PromptInline(MenuChildInline, admin.TabularInline):
    model = Prompt
    form = PromptForm
    extra = 0
    fields = [name for name in PromptForm.Meta.fields if name != "menu"]  # the menu is the page


class AIParameterSchemaInline(MenuChildInline, admin.StackedInline):
    model = AIParameterSchema
    form = AIParameterSchemaForm
    extra = 0


class NodeFormSet(BaseInlineFormSet):
    """Validates the menu once and hands each node form its own issues to show."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.issues_by_node = {}
        self.definition = {}
        if self.instance is not None and self.instance.pk is not None:
            self.definition, issues = draft_report(self.instance)
            for issue in issues:
                self.issues_by_node.setdefault(issue.node, []).append(issue)

    def _construct_form(self, i, **kwargs):
        form = super()._construct_form(i, **kwargs)
        form.instance._telnyx_ivr_issues = [
            (issue_words.where(issue, self.definition), issue_words.message(issue.message))
            for issue in self.issues_by_node.get(form.instance.key, [])
        ]
        return form


class NodeInline(MenuChildInline, admin.StackedInline):
    model = Node
    form = NodeForm
    formset = NodeFormSet
    extra = 0
    readonly_fields = ["problems", "key_options"]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "problems",
                    ("key", "name"),
                    ("kind", "position"),
                    "save_as",
                    "key_options",
                ]
            },
        ),
        ("Prompts", {"fields": ["prompt", "invalid_prompt", "no_input_prompt"]}),
        (
            "Digit rules (blank: the API's default)",
            {
                "fields": [
                    ("minimum_digits", "maximum_digits", "maximum_tries"),
                    ("valid_digits", "terminating_digit"),
                    ("timeout_millis", "inter_digit_timeout_millis", "initial_timeout_millis"),
                ]
            },
        ),
        (
            "AI",
            {
                "fields": [
                    "ai_schema",
                    "greeting",
                    "assistant",
                    ("voice", "language"),
                    "voice_settings",
                    "transcription",
                    "interruption_settings",
                    "user_response_timeout_ms",
                    ("send_partial_results", "send_message_history_updates"),
                    "message_history",
                    "gather_ended_speech",
                ]
            },
        ),
        ("Transfer", {"fields": [("to", "from_number", "timeout_secs")]}),
        ("Office hours", {"fields": ["schedule"]}),
    ]

    @admin.display(description="options")
    def key_options(self, obj):
        """A key menu's options in words, and the link that adds one in a single step."""
        if obj is None or obj.pk is None:
            return "Save the menu first; then options can be added here."
        if obj.kind not in DTMF_KINDS:
            return "Only key menus have options."
        options = [
            (keys, where, remove_option_url(route))
            for keys, where, route in key_options_of(obj, with_routes=True)
        ]
        listed = (
            format_html_join(
                ", ",
                'press {} → {} <a class="ivr-remove-option" href="{}">(remove)</a>',
                options,
            )
            if options
            else "none yet"
        )
        return format_html(
            '{} <a class="button ivr-add-option" href="{}">Add an option</a>',
            listed,
            add_option_url(obj),
        )

    @admin.display(description="problems")
    def problems(self, obj):
        issues = getattr(obj, "_telnyx_ivr_issues", None) or []
        if not issues:
            return "—" if obj is None or obj.pk is None else "none"
        return format_html(
            '<ul class="ivr-issues">{}</ul>',
            format_html_join("", "<li>{}: {}</li>", issues),
        )


class RouteInline(MenuChildInline, admin.TabularInline):
    model = Route
    form = RouteForm
    extra = 0
    fields = [
        "node",
        "position",
        "when",
        "digits",
        "conditions",
        "target",
        "target_node",
        "callable",
    ]
    ordering = ["node__position", "node__id", "position", "id"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("node").order_by(*self.ordering)

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name == "conditions":
            # conditions.js draws the list as lines of words; what it offers comes from the
            # server, so the page says the tests as the rest of the admin does.
            field.widget.attrs["data-condition-editor"] = json.dumps(
                {
                    "tests": condition_tests(),
                    **condition_fields(_menu_of(request)),
                    "earlier_call": EARLIER_CALL_WORDS,
                    "answers_on": Route.When.VALID,
                    "checks_on": Route.When.MATCH,
                }
            )
        return field


# --- menu admin ----------------------------------------------------------------------------


@admin.register(Menu)
class MenuAdmin(ThisMenuPopups, admin.ModelAdmin):
    form = MenuForm
    save_on_top = True  # the page is long: the buttons are at its top too
    inlines = [PromptInline, AIParameterSchemaInline, NodeInline, RouteInline]
    list_display = ["name", "slug", "is_active", "is_default", "live_version_number", "updated_at"]
    list_filter = ["is_active", "is_default"]
    search_fields = ["name", "slug", "description"]
    prepopulated_fields = {"slug": ["name"]}
    readonly_fields = ["live_version_link", "versions_list", "validation_report", "diagram"]
    actions = ["publish_menus", "duplicate_menus", "activate_menus", "deactivate_menus", "export"]
    fieldsets = [
        (None, {"fields": ["name", "slug", "description", "opened_at"]}),
        ("Calls it answers", {"fields": ["numbers", "connection_ids", "is_default", "is_active"]}),
        ("Speech defaults", {"fields": [("voice", "language", "service_level")]}),
        ("Flow", {"fields": ["entry_node"]}),
        (
            "When Telnyx keeps refusing a command",
            {
                "fields": [("failure_prompt", "failure_text"), ("failure_then", "failure_to")],
                "description": "What the caller hears instead of silence, then what happens. "
                "The call counts as failed either way.",
            },
        ),
        ("Status", {"fields": ["validation_report", "live_version_link", "versions_list"]}),
        (
            "Diagram of the draft",
            {
                "fields": ["diagram"],
                "description": "The draft as last saved: edits on this page show here once "
                "saved. Click a step to edit it.",
            },
        ),
    ]

    class Media:
        js = [
            "telnyx_ivr/menu_admin.js",
            "telnyx_ivr/node_delete.js",
            "telnyx_ivr/diagram_links.js",
            "telnyx_ivr/ai_fields.js",
            "telnyx_ivr/conditions.js",
        ]
        css = {"all": ["telnyx_ivr/menu_admin.css"]}

    def get_form(self, request, obj=None, change=False, **kwargs):
        request._telnyx_ivr_menu = obj
        return super().get_form(request, obj, change=change, **kwargs)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name in ("entry_node", "failure_prompt"):
            kwargs = _limit_to_menu(db_field, request, kwargs)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_urls(self):
        urls = super().get_urls()
        own = [
            path(
                "<path:object_id>/export/",
                self.admin_site.admin_view(self.export_view),
                name="telnyx_ivr_menu_export",
            ),
            path(
                "<path:object_id>/publish/",
                self.admin_site.admin_view(self.publish_view),
                name="telnyx_ivr_menu_publish",
            ),
            *call_page_urls(self),
            *add_option_urls(self),
            *menu_analytics_urls(self),
        ]
        return own + urls

    def render_change_form(self, request, context, *args, **kwargs):
        if context.get("errors"):
            context["ivr_problems"] = error_summary.problems(
                context["adminform"], context["inline_admin_formsets"]
            )
        return super().render_change_form(request, context, *args, **kwargs)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        form.instance.__dict__.pop("_telnyx_ivr_report", None)  # the rows have just changed
        issues = validate_menu(form.instance)
        if issues:
            self.message_user(
                request,
                f"The draft was saved but has {len(issues)} problem(s) to fix before it can "
                "be published:",
                messages.WARNING,
            )
            definition = build_definition(form.instance)
            for issue in issues:
                self.message_user(
                    request, issue_words.describe(issue, definition), messages.WARNING
                )
        else:
            self.message_user(request, "The draft is valid and can be published.")

    # --- read-only panels ---

    @admin.display(description="live version")
    def live_version_number(self, obj):
        return f"v{obj.live_version.number}" if obj.live_version_id else "—"

    @admin.display(description="live version")
    def live_version_link(self, obj):
        if obj is None or obj.live_version_id is None:
            return "Not published yet."
        version = obj.live_version
        url = reverse("admin:telnyx_ivr_menuversion_change", args=[version.pk])
        return format_html(
            '<a href="{}">version {}</a>, published {}',
            url,
            version.number,
            local_time(version.published_at),
        )

    @admin.display(description="versions")
    def versions_list(self, obj):
        if obj is None or obj.pk is None:
            return "—"
        versions = obj.versions.all()[:20]
        if not versions:
            return "None."
        return format_html(
            "<ul>{}</ul>",
            format_html_join(
                "",
                '<li><a href="{}">v{}</a> {} {}</li>',
                (
                    (
                        reverse("admin:telnyx_ivr_menuversion_change", args=[v.pk]),
                        v.number,
                        local_time(v.published_at),
                        v.note,
                    )
                    for v in versions
                ),
            ),
        )

    @admin.display(description="validation")
    def validation_report(self, obj):
        if obj is None or obj.pk is None:
            return "Save the menu, then add nodes and routes."
        definition, issues = draft_report(obj)
        if not issues:
            return format_html('<span class="ivr-valid">{}</span>', "Valid: ready to publish.")
        return format_html(
            '<ul class="ivr-issues">{}</ul>',
            format_html_join(
                "", "<li>{}</li>", ((issue_words.describe(i, definition),) for i in issues)
            ),
        )

    @admin.display(description="diagram")
    def diagram(self, obj):
        if obj is None or obj.pk is None:
            return "—"
        return format_html(
            '<div class="ivr-diagram-wrap">{}</div>', render_menu_diagram(draft_report(obj)[0])
        )

    # --- views ---

    def export_view(self, request, object_id):
        menu = get_object_or_404(Menu, pk=object_id)
        if not self.has_view_permission(request, menu):
            return HttpResponseRedirect(reverse("admin:index"))
        return _json_download(f"{menu.slug}.json", export_menu(menu))

    def publish_view(self, request, object_id):
        menu = get_object_or_404(Menu, pk=object_id)
        change_url = reverse("admin:telnyx_ivr_menu_change", args=[menu.pk])
        if request.method != "POST" or not self.has_change_permission(request, menu):
            return HttpResponseRedirect(change_url)
        self._publish(request, menu)
        return HttpResponseRedirect(change_url)

    def response_change(self, request, obj):
        # "Save and publish": the edits on the page are saved (the form was valid, or this
        # is not reached), then the draft they make is published. Publishing alone from the
        # page lost unsaved edits without a word.
        if "_publish" in request.POST:
            self._publish(request, obj)
            return HttpResponseRedirect(reverse("admin:telnyx_ivr_menu_change", args=[obj.pk]))
        return super().response_change(request, obj)

    def _publish(self, request, menu):
        try:
            version = publish_menu(menu, user=request.user, note=request.POST.get("note", ""))
        except MenuValidationError as exc:
            self.message_user(
                request, f"'{menu}' was not published: fix these first.", messages.ERROR
            )
            definition = build_definition(menu)
            for issue in exc.issues:
                self.message_user(request, issue_words.describe(issue, definition), messages.ERROR)
            return None
        self.message_user(request, f"Published '{menu}' as version {version.number}.")
        return version

    # --- actions ---

    @admin.action(description="Publish the selected menus' drafts", permissions=["change"])
    def publish_menus(self, request, queryset):
        for menu in queryset:
            self._publish(request, menu)

    @admin.action(description="Duplicate the selected menus", permissions=["add"])
    def duplicate_menus(self, request, queryset):
        for menu in queryset:
            copy = duplicate_menu(menu)
            self.message_user(request, f"Copied '{menu}' to '{copy}' ({copy.slug}), inactive.")

    @admin.action(description="Activate the selected menus", permissions=["change"])
    def activate_menus(self, request, queryset):
        for menu in queryset:
            try:
                activate_menu(menu)
            except MenuValidationError as exc:
                self.message_user(request, f"'{menu}' was not activated:", messages.ERROR)
                for issue in exc.issues:
                    self.message_user(request, str(issue), messages.ERROR)
                continue
            note = "" if menu.live_version_id else " It answers no calls until it is published."
            self.message_user(request, f"Activated '{menu}'.{note}")

    @admin.action(description="Deactivate the selected menus", permissions=["change"])
    def deactivate_menus(self, request, queryset):
        for menu in queryset:
            deactivate_menu(menu)
        self.message_user(request, f"Deactivated {queryset.count()} menu(s).")

    @admin.action(description="Export the selected menus as JSON")
    def export(self, request, queryset):
        menus = list(queryset)
        if len(menus) == 1:
            return _json_download(f"{menus[0].slug}.json", export_menu(menus[0]))
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for menu in menus:
                archive.writestr(f"{menu.slug}.json", export_menu(menu))
        response = HttpResponse(buffer.getvalue(), content_type="application/zip")
        response["Content-Disposition"] = 'attachment; filename="menus.zip"'
        return response


def _json_download(filename, text):
    response = HttpResponse(text.encode("utf-8"), content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# --- prompts, schemas and versions on their own pages --------------------------------------


class MenuChildAdmin(admin.ModelAdmin):
    formfield_overrides = {models.JSONField: JSON_OVERRIDES}
    list_display = ["key", "menu"]
    list_filter = ["menu"]
    search_fields = ["key", "menu__name"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        if IS_POPUP_VAR in request.GET and request.GET.get("menu") and obj is None:
            # Opened with "+" on a menu's page: made for that menu (initial from the URL).
            form.base_fields["menu"].widget = forms.HiddenInput()
        return form


@admin.register(Prompt)
class PromptAdmin(MenuChildAdmin):
    form = PromptForm
    list_display = ["key", "menu", "kind"]


@admin.register(AIParameterSchema)
class AIParameterSchemaAdmin(MenuChildAdmin):
    form = AIParameterSchemaForm
    list_display = ["key", "menu", "description"]

    class Media:
        js = ["telnyx_ivr/ai_fields.js"]
        css = {"all": ["telnyx_ivr/menu_admin.css"]}


@admin.register(MenuVersion)
class MenuVersionAdmin(admin.ModelAdmin):
    """Read-only: versions are what calls ran on."""

    list_display = ["menu", "number", "published_at", "published_by", "is_live"]
    list_filter = ["menu"]
    fields = ["menu", "number", "published_at", "published_by", "note", "diagram", "document"]
    readonly_fields = fields

    class Media:
        css = {"all": ["telnyx_ivr/menu_admin.css"]}

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(boolean=True, description="live")
    def is_live(self, obj):
        return obj.menu.live_version_id == obj.pk

    @admin.display(description="diagram")
    def diagram(self, obj):
        return format_html(
            '<div class="ivr-diagram-wrap">{}</div>', render_menu_diagram(obj.definition)
        )

    @admin.display(description="definition")
    def document(self, obj):
        return format_html(
            '<pre class="telnyx-ivr-json">{}</pre>', dumps_definition(obj.definition)
        )
