"""Publishing drafts as versions, (de)activating and duplicating menus."""

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from ..models import Menu, MenuVersion
from .definition import apply_definition, build_definition
from .validation import MenuValidationError, claim_conflicts, validate_menu


def publish_menu(menu, *, user=None, note=""):
    """Freeze ``menu``'s draft into a new MenuVersion and make it the live version.

    Raises MenuValidationError (and changes nothing) when the draft has problems. Earlier
    versions are kept unchanged, so calls that started on one finish on it.
    """
    with transaction.atomic():
        # Locking the menu row serialises publishers, so version numbers never collide.
        menu = Menu.objects.select_for_update().get(pk=menu.pk)
        issues = validate_menu(menu)
        if issues:
            raise MenuValidationError(issues)
        last = menu.versions.aggregate(last=Max("number"))["last"] or 0
        version = MenuVersion.objects.create(
            menu=menu,
            number=last + 1,
            definition=build_definition(menu),
            published_at=timezone.now(),
            published_by=user,
            note=note,
        )
        menu.live_version = version
        menu.save(update_fields=["live_version", "updated_at"])
    return version


def activate_menu(menu):
    """Let ``menu`` answer calls; raises MenuValidationError if another active menu claims
    one of its numbers, connection ids or the default."""
    with transaction.atomic():
        menu = Menu.objects.select_for_update().get(pk=menu.pk)
        issues = claim_conflicts(menu)
        if issues:
            raise MenuValidationError(issues)
        menu.is_active = True
        menu.save(update_fields=["is_active", "updated_at"])
    return menu


def deactivate_menu(menu):
    """Stop ``menu`` answering new calls (calls in progress keep their version)."""
    Menu.objects.filter(pk=menu.pk).update(is_active=False, updated_at=timezone.now())


def duplicate_menu(menu):
    """Copy ``menu``'s draft into a new, inactive menu with no versions; returns the copy."""
    definition = build_definition(menu)
    definition["menu"]["slug"] = _free_slug(menu.slug)
    definition["menu"]["name"] = f"{menu.name} (copy)"[:200]
    with transaction.atomic():
        return apply_definition(definition)


def _free_slug(slug):
    number = 1
    while True:
        suffix = "-copy" if number == 1 else f"-copy-{number}"
        candidate = slug[: 64 - len(suffix)] + suffix
        if not Menu.objects.filter(slug=candidate).exists():
            return candidate
        number += 1
