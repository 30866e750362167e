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
        locked = Menu.objects.select_for_update().get(pk=menu.pk)
        definition = build_definition(locked)
        issues = validate_menu(locked, definition)
        if issues:
            raise MenuValidationError(issues)
        last = locked.versions.aggregate(last=Max("number"))["last"] or 0
        version = MenuVersion.objects.create(
            menu=locked,
            number=last + 1,
            definition=definition,
            published_at=timezone.now(),
            published_by=user,
            note=note,
        )
        locked.live_version = version
        locked.save(update_fields=["live_version", "updated_at"])
    # The caller's instance must not write the old live version back on its next save().
    menu.live_version = version
    return version


def activate_menu(menu):
    """Let ``menu`` answer calls; raises MenuValidationError if another active menu claims
    one of its numbers, connection ids or the default."""
    with transaction.atomic():
        locked = Menu.objects.select_for_update().get(pk=menu.pk)
        issues = claim_conflicts(locked)
        if issues:
            raise MenuValidationError(issues)
        locked.is_active = True
        locked.save(update_fields=["is_active", "updated_at"])
    menu.is_active = True
    return menu


def deactivate_menu(menu):
    """Stop ``menu`` answering new calls (calls in progress keep their version)."""
    Menu.objects.filter(pk=menu.pk).update(is_active=False, updated_at=timezone.now())
    menu.is_active = False


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
