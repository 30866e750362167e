"""IVR menus as data: the editable draft rows and the frozen, published versions.

A menu's draft is its Menu row plus its Prompt, AIParameterSchema, Node and Route rows. Publishing
freezes the draft into a MenuVersion (see ``telnyx_ivr.menus.publishing``); calls run on a
MenuVersion's ``definition`` (the document of docs/menu-format.md), never on the draft rows.
"""

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models

from ..menus.kinds import KIND_COMMANDS, KIND_LABELS, KIND_NAMES

KEY_MAX_LENGTH = 64
key_validator = RegexValidator(
    r"^[a-z0-9_-]+\Z", "Use only lowercase letters, digits, '-' and '_'."
)
variable_validator = RegexValidator(
    r"^[a-z_][a-z0-9_]*\Z",
    "A variable name: lowercase letters, digits and '_', not starting with a digit.",
)


def key_field(**kwargs):
    return models.CharField(
        max_length=KEY_MAX_LENGTH,
        validators=[key_validator],
        help_text="Unique within the menu; lowercase letters, digits, '-' and '_'.",
        **kwargs,
    )


class Menu(models.Model):
    """An IVR menu's draft: which calls it answers, TTS defaults and its entry node."""

    class ServiceLevel(models.TextChoices):
        BASIC = "basic", "Basic"
        PREMIUM = "premium", "Premium"

    class FailureThen(models.TextChoices):
        HANGUP = "hangup", "Hang up"
        TRANSFER = "transfer", "Transfer the call"

    slug = models.SlugField(max_length=KEY_MAX_LENGTH, unique=True)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    numbers = models.JSONField(
        default=list, blank=True, help_text="Called numbers (E.164) this menu answers."
    )
    connection_ids = models.JSONField(
        default=list, blank=True, help_text="Telnyx connection ids this menu answers."
    )
    is_default = models.BooleanField(
        "default menu", default=False, help_text="Answers calls no other active menu claims."
    )
    voice = models.CharField(
        max_length=200, default="female", help_text="e.g. female, male, AWS.Polly.Joanna"
    )
    language = models.CharField(max_length=20, default="en-US")
    service_level = models.CharField(
        max_length=10, choices=ServiceLevel.choices, default=ServiceLevel.PREMIUM
    )
    entry_node = models.ForeignKey(
        "Node",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Where a call starts once answered.",
    )
    # What a caller hears when Telnyx refuses a command for good (on_command_failure in the
    # definition): the prompt or the text (not both), else a built-in apology; then this.
    failure_prompt = models.ForeignKey(
        "Prompt",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="apology prompt",
        help_text="A prompt of this menu, or leave it empty and write the apology below.",
    )
    failure_text = models.TextField(
        "apology text",
        blank=True,
        help_text="Blank, with no prompt either: a short built-in apology.",
    )
    failure_then = models.CharField(
        "then",
        max_length=10,
        choices=FailureThen.choices,
        default=FailureThen.HANGUP,
    )
    failure_to = models.CharField(
        "transfer to",
        max_length=255,
        blank=True,
        help_text="For a transfer: an E.164 number (+15551230000) or a sip: URI.",
    )
    is_active = models.BooleanField(
        "active", default=False, help_text="Only active menus with a live version answer calls."
    )
    live_version = models.ForeignKey(
        "MenuVersion",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class Prompt(models.Model):
    """A reusable announcement: text-to-speech (a Django template) or audio."""

    class Kind(models.TextChoices):
        TTS = "tts", "Text to speech"
        AUDIO = "audio", "Audio file"

    class PayloadType(models.TextChoices):
        TEXT = "text", "Text"
        SSML = "ssml", "SSML"

    menu = models.ForeignKey(Menu, on_delete=models.CASCADE, related_name="prompts")
    key = key_field()
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.TTS)
    text = models.TextField(
        blank=True,
        help_text="Django template; e.g. {{ caller_number }} or a variable saved by a node.",
    )
    payload_type = models.CharField(
        max_length=10, choices=PayloadType.choices, default=PayloadType.TEXT
    )
    voice = models.CharField(max_length=200, blank=True, help_text="Blank: the menu's voice.")
    language = models.CharField(max_length=20, blank=True, help_text="Blank: the menu's.")
    voice_settings = models.JSONField(null=True, blank=True)
    audio_url = models.URLField(max_length=2000, blank=True)
    media_name = models.CharField(
        max_length=255, blank=True, help_text="Media uploaded to Telnyx (instead of a URL)."
    )

    class Meta:
        ordering = ["menu", "key"]
        constraints = [
            models.UniqueConstraint(fields=["menu", "key"], name="telnyx_ivr_prompt_key_per_menu")
        ]

    def __str__(self):
        return self.key


class AIParameterSchema(models.Model):
    """A named JSON Schema: the ``parameters`` of ``gather_using_ai``."""

    menu = models.ForeignKey(Menu, on_delete=models.CASCADE, related_name="ai_schemas")
    key = key_field()
    description = models.CharField(max_length=500, blank=True)
    schema = models.JSONField(help_text='A JSON Schema object, e.g. {"type": "object", ...}.')

    class Meta:
        ordering = ["menu", "key"]
        verbose_name = "AI parameter schema"
        constraints = [
            models.UniqueConstraint(fields=["menu", "key"], name="telnyx_ivr_aischema_key_per_menu")
        ]

    def __str__(self):
        return self.key


class Node(models.Model):
    """One step of a menu. Which fields apply depends on ``kind`` (see NODE_KIND_FIELDS)."""

    class Kind(models.TextChoices):
        SPEAK_MENU = "speak_menu", KIND_LABELS["speak_menu"]
        AUDIO_MENU = "audio_menu", KIND_LABELS["audio_menu"]
        GATHER = "gather", KIND_LABELS["gather"]
        AI_GATHER = "ai_gather", KIND_LABELS["ai_gather"]
        AI_ASSISTANT = "ai_assistant", KIND_LABELS["ai_assistant"]
        ANNOUNCEMENT = "announcement", KIND_LABELS["announcement"]
        TRANSFER = "transfer", KIND_LABELS["transfer"]
        HANGUP = "hangup", KIND_LABELS["hangup"]
        SCHEDULE = "schedule", KIND_LABELS["schedule"]
        CONDITION = "condition", KIND_LABELS["condition"]

    menu = models.ForeignKey(Menu, on_delete=models.CASCADE, related_name="nodes")
    key = key_field()
    name = models.CharField(max_length=200)
    kind = models.CharField(
        max_length=20,
        choices=Kind.choices,
        help_text="What this step does. The Telnyx command each one sends: "
        + "; ".join(f"{KIND_NAMES[k]}: {command}" for k, command in KIND_COMMANDS.items())
        + ".",
    )
    position = models.PositiveIntegerField(default=0, help_text="Order in the admin.")
    save_as = models.CharField(
        max_length=64,
        blank=True,
        validators=[variable_validator],
        help_text="Variable this node fills (digits, or an AI gather's result).",
    )
    # Prompts (speak_menu, audio_menu, gather, announcement, hangup).
    prompt = models.ForeignKey(
        Prompt, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    invalid_prompt = models.ForeignKey(
        Prompt, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    no_input_prompt = models.ForeignKey(
        Prompt, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # DTMF digit rules (speak_menu, audio_menu, gather); blank means the API's default.
    minimum_digits = models.PositiveSmallIntegerField(null=True, blank=True)
    maximum_digits = models.PositiveSmallIntegerField(null=True, blank=True)
    valid_digits = models.CharField(max_length=16, blank=True)
    terminating_digit = models.CharField(max_length=1, blank=True)
    timeout_millis = models.PositiveIntegerField(null=True, blank=True)
    inter_digit_timeout_millis = models.PositiveIntegerField(null=True, blank=True)
    initial_timeout_millis = models.PositiveIntegerField(null=True, blank=True)
    maximum_tries = models.PositiveSmallIntegerField(null=True, blank=True)
    # AI (ai_gather, ai_assistant), with the API's parameter names.
    ai_schema = models.ForeignKey(
        AIParameterSchema, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    greeting = models.TextField(blank=True)
    assistant = models.JSONField(null=True, blank=True)
    voice = models.CharField(max_length=200, blank=True)
    voice_settings = models.JSONField(null=True, blank=True)
    language = models.CharField(max_length=20, blank=True)
    transcription = models.JSONField(null=True, blank=True)
    interruption_settings = models.JSONField(null=True, blank=True)
    user_response_timeout_ms = models.PositiveIntegerField(null=True, blank=True)
    send_partial_results = models.BooleanField(null=True, blank=True)
    send_message_history_updates = models.BooleanField(null=True, blank=True)
    message_history = models.JSONField(null=True, blank=True)
    gather_ended_speech = models.TextField(blank=True)
    # Transfer.
    to = models.CharField(max_length=255, blank=True, help_text="E.164 number or sip: URI.")
    from_number = models.CharField(
        "from", max_length=255, blank=True, help_text="Caller id; blank: the caller's number."
    )
    timeout_secs = models.PositiveIntegerField(null=True, blank=True)
    # Office hours.
    schedule = models.ForeignKey(
        "telnyx_ivr.Schedule",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="nodes",
        help_text="The opening hours this step checks; edit them under Schedules.",
    )

    class Meta:
        ordering = ["menu", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["menu", "key"], name="telnyx_ivr_node_key_per_menu")
        ]

    def __str__(self):
        return f"{self.name} ({self.key})"


class Route(models.Model):
    """From a node to the next by outcome; a node's routes are tried in ``position`` order."""

    class When(models.TextChoices):
        DIGITS = "digits", "Digits"
        INVALID = "invalid", "Invalid input"
        NO_INPUT = "no_input", "No input"
        VALID = "valid", "AI result valid"
        ERROR = "error", "Playback failed"
        OPEN = "open", "Office open"
        CLOSED = "closed", "Office closed"
        HOLIDAY = "holiday", "Holiday"
        MATCH = "match", "Conditions hold"
        DEFAULT = "default", "Default"

    class Target(models.TextChoices):
        NODE = "node", "Node"
        REPEAT = "repeat", "Repeat this node"
        BACK = "back", "Back to the previous menu"
        CALLABLE = "callable", "Python callable"

    menu = models.ForeignKey(Menu, on_delete=models.CASCADE, related_name="routes")
    node = models.ForeignKey(Node, on_delete=models.CASCADE, related_name="routes")
    position = models.PositiveIntegerField(default=0)
    when = models.CharField(max_length=10, choices=When.choices)
    digits = models.CharField(max_length=128, blank=True)
    conditions = models.JSONField(
        null=True,
        blank=True,
        help_text='AI answers and checks: [{"field": "age", "op": "at_least", "value": 18}, ...]',
    )
    target = models.CharField(max_length=10, choices=Target.choices, default=Target.NODE)
    target_node = models.ForeignKey(
        Node, null=True, blank=True, on_delete=models.SET_NULL, related_name="incoming_routes"
    )
    callable = models.CharField(
        max_length=255, blank=True, help_text="Dotted path to def pick(variables) -> node key."
    )

    class Meta:
        ordering = ["menu", "node", "position", "id"]

    def __str__(self):
        return f"{self.node.key}: {self.when} -> {self.target}"


class MenuVersion(models.Model):
    """A published, immutable copy of a menu's definition. Calls keep the version they began on."""

    menu = models.ForeignKey(Menu, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    definition = models.JSONField()
    published_at = models.DateTimeField()
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["menu", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["menu", "number"], name="telnyx_ivr_menuversion_number_per_menu"
            )
        ]

    def __str__(self):
        return f"{self.menu} v{self.number}"

    def save(self, *args, **kwargs):
        # Call logs rely on a version never changing once written.
        if self.pk is not None and not kwargs.get("force_insert"):
            raise ValueError("A published MenuVersion is immutable.")
        super().save(*args, **kwargs)
