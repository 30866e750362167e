"""The "Add option" page of a key menu node: the keys, a label, what happens, and the menu's
new spoken text, in one form and one save; and "Remove", which says what will go first
(telnyx_ivr.menus.options does the work)."""

from django import forms
from django.contrib import messages
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse

from ..menus.kinds import (
    DIGIT_DEFAULTS,
    DTMF_CHARACTERS,
    DTMF_KINDS,
    TEXT_LIMIT,
    TRANSFER_ADDRESS,
    a_kind,
)
from ..menus.options import (
    ACTIONS,
    Option,
    add_option,
    removal_of,
    remove_option,
    suggested_text,
    taken_keys,
)
from ..models import Menu, Node, Route


def add_option_urls(model_admin):
    wrap = model_admin.admin_site.admin_view
    return [
        path(
            "<path:object_id>/nodes/<int:node_id>/add-option/",
            wrap(AddOptionView(model_admin)),
            name="telnyx_ivr_menu_add_option",
        ),
        path(
            "<path:object_id>/options/<int:route_id>/remove/",
            wrap(RemoveOptionView(model_admin)),
            name="telnyx_ivr_menu_remove_option",
        ),
    ]


def add_option_url(node):
    return reverse("admin:telnyx_ivr_menu_add_option", args=[node.menu_id, node.pk])


def remove_option_url(route):
    return reverse("admin:telnyx_ivr_menu_remove_option", args=[route.menu_id, route.pk])


class AddOptionForm(forms.Form):
    keys = forms.CharField(
        max_length=16,
        label="Key(s) the caller presses",
        help_text="One key such as 3, or several such as 12.",
    )
    label = forms.CharField(
        max_length=200, label="Label", help_text='What the option is for, e.g. "opening hours".'
    )
    action = forms.ChoiceField(
        choices=list(ACTIONS.items()), widget=forms.RadioSelect, label="What happens"
    )
    message = forms.CharField(
        required=False,
        max_length=TEXT_LIMIT,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 70}),
        label="Message",
        help_text="What the caller hears: for a message, or what the new menu says.",
    )
    transfer_to = forms.CharField(
        required=False,
        max_length=255,
        label="Transfer to",
        help_text="An E.164 number (+15551230000) or a sip: address.",
    )
    target = forms.ModelChoiceField(
        queryset=Node.objects.none(), required=False, label="Step to go to"
    )
    spoken_text = forms.CharField(
        required=False,
        max_length=TEXT_LIMIT,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 70}),
        label="The menu's spoken text",
        help_text='Left as it is, "Press <keys> for <label>." is added at its end; or write '
        "the whole text as it should be.",
    )
    update_text = forms.BooleanField(
        required=False, initial=True, label="Use this as the menu's spoken text"
    )

    def __init__(self, node, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.node = node
        self.fields["target"].queryset = Node.objects.filter(menu=node.menu).exclude(pk=node.pk)
        self.current_text = node.prompt.text if suggested_text(node, "N", "-") else None
        if self.current_text is None:  # a recording, or nothing to add to
            del self.fields["spoken_text"]
            del self.fields["update_text"]
        else:
            self.fields["spoken_text"].initial = self.current_text

    def clean_keys(self):
        keys = self.cleaned_data["keys"].strip()
        bad = sorted({c for c in keys if c not in DTMF_CHARACTERS})
        if bad:
            raise forms.ValidationError(
                f"Use only phone keys ({DTMF_CHARACTERS}), not {''.join(bad)}."
            )
        ends = self.node.terminating_digit or DIGIT_DEFAULTS["terminating_digit"]
        if ends and ends in keys:
            raise forms.ValidationError(
                f"{ends} ends what the caller types on this menu, so it cannot be part of an "
                "option."
            )
        if keys in taken_keys(self.node):
            raise forms.ValidationError(f"{keys} is already an option of this menu.")
        return keys

    def clean(self):
        cleaned = super().clean()
        action = cleaned.get("action")
        if action in ("say_hangup", "say_back", "submenu") and not cleaned.get("message"):
            self.add_error("message", "Write what the caller hears.")
        if action == "transfer":
            to = cleaned.get("transfer_to") or ""
            if not to:
                self.add_error("transfer_to", "Give the number or SIP address to transfer to.")
            elif not TRANSFER_ADDRESS.match(to):
                self.add_error("transfer_to", "An E.164 number (+15551230000) or a sip: address.")
        if action == "node" and cleaned.get("target") is None:
            self.add_error("target", "Choose the step this option goes to.")
        return cleaned

    def option(self):
        data = self.cleaned_data
        spoken = None
        if data.get("update_text"):
            text = (data.get("spoken_text") or "").strip()
            unchanged = text in ("", (self.current_text or "").strip())
            spoken = suggested_text(self.node, data["keys"], data["label"]) if unchanged else text
        return Option(
            keys=data["keys"],
            label=data["label"],
            action=data["action"],
            message=data.get("message") or "",
            transfer_to=data.get("transfer_to") or "",
            target=data.get("target"),
            spoken_text=spoken,
        )


class AddOptionView:
    def __init__(self, model_admin):
        self.model_admin = model_admin

    def __call__(self, request, object_id, node_id):
        menu = get_object_or_404(Menu, pk=object_id)
        node = get_object_or_404(Node.objects.select_related("prompt"), pk=node_id, menu=menu)
        change_url = reverse("admin:telnyx_ivr_menu_change", args=[menu.pk])
        if not self.model_admin.has_change_permission(request, menu):
            return HttpResponseRedirect(change_url)
        if node.kind not in DTMF_KINDS:
            messages.error(
                request, f"'{node.name}' is {a_kind(node.kind)} node: it has no key options."
            )
            return HttpResponseRedirect(change_url)
        if request.method == "POST":
            form = AddOptionForm(node, request.POST)
            if form.is_valid():
                option = form.option()
                add_option(node, option)
                messages.success(
                    request,
                    f"Added option {option.keys} ({option.label}) to '{node.name}'. "
                    "The draft is saved; Save and publish makes it live.",
                )
                return HttpResponseRedirect(change_url)
        else:
            form = AddOptionForm(node)
        context = {
            **self.model_admin.admin_site.each_context(request),
            "opts": Menu._meta,
            "title": f"Add an option to '{node.name}'",
            "menu": menu,
            "node": node,
            "form": form,
            "change_url": change_url,
            "options": key_options_of(node),
        }
        return TemplateResponse(request, "admin/telnyx_ivr/menu/add_option.html", context)


# Where a route goes when it is not to a node, as the caller meets it.
TARGET_WORDS = {
    "repeat": "hearing this menu again",
    "back": "the previous menu",
    "callable": "where Python code decides",
}


def key_options_of(node, *, with_routes=False):
    """The node's key options as the caller meets them: ``[("1", "Transfer to sales")]``
    (with the Route last, ``with_routes``)."""
    found = []
    routes = node.routes.filter(when="digits").select_related("target_node")
    for route in routes.order_by("position", "id"):
        where = route.target_node.name if route.target_node else TARGET_WORDS[route.target]
        found.append((route.digits, where, route) if with_routes else (route.digits, where))
    return found


class RemoveOptionView:
    """GET: what removing the option takes with it; POST: remove it all."""

    def __init__(self, model_admin):
        self.model_admin = model_admin

    def __call__(self, request, object_id, route_id):
        menu = get_object_or_404(Menu, pk=object_id)
        route = get_object_or_404(
            Route.objects.select_related("node__prompt", "target_node", "menu"),
            pk=route_id,
            menu=menu,
            when=Route.When.DIGITS,
        )
        change_url = reverse("admin:telnyx_ivr_menu_change", args=[menu.pk])
        if not self.model_admin.has_change_permission(request, menu):
            return HttpResponseRedirect(change_url)
        removal = removal_of(route)
        if request.method == "POST":
            remove_option(removal)
            messages.success(
                request,
                f"Removed option {route.digits} of '{route.node.name}'"
                + (f" and {_count(removal)}" if removal.nodes or removal.prompts else "")
                + ". The draft is saved; Save and publish makes it live.",
            )
            return HttpResponseRedirect(change_url)
        context = {
            **self.model_admin.admin_site.each_context(request),
            "opts": Menu._meta,
            "title": f"Remove option {route.digits} of '{route.node.name}'?",
            "menu": menu,
            "route": route,
            "removal": removal,
            "change_url": change_url,
        }
        return TemplateResponse(request, "admin/telnyx_ivr/menu/remove_option.html", context)


def _count(removal):
    parts = []
    if removal.nodes:
        parts.append(f"{len(removal.nodes)} step{'s' if len(removal.nodes) != 1 else ''}")
    if removal.prompts:
        parts.append(f"{len(removal.prompts)} prompt{'s' if len(removal.prompts) != 1 else ''}")
    return " and ".join(parts) + " only it used"
