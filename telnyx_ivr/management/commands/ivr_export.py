from django.core.management.base import BaseCommand, CommandError

from telnyx_ivr.menus.io import dumps_definition, export_menu
from telnyx_ivr.models import Menu


class Command(BaseCommand):
    help = (
        "Write a menu as JSON (docs/menu-format.md) to stdout: its draft, or a published "
        "version with --number N or --live."
    )

    def add_arguments(self, parser):
        parser.add_argument("slug")
        which = parser.add_mutually_exclusive_group()
        which.add_argument(
            "--number", type=int, dest="version_number", help="a published version's number"
        )
        which.add_argument("--live", action="store_true", help="the live version")

    def handle(self, *, slug, version_number=None, live=False, **options):
        menu = Menu.objects.filter(slug=slug).first()
        if menu is None:
            raise CommandError(f"No menu with slug {slug!r}.")
        if live:
            if menu.live_version is None:
                raise CommandError(f"Menu {slug!r} has no live version.")
            text = dumps_definition(menu.live_version.definition)
        elif version_number is not None:
            version = menu.versions.filter(number=version_number).first()
            if version is None:
                raise CommandError(f"Menu {slug!r} has no version {version_number}.")
            text = dumps_definition(version.definition)
        else:
            text = export_menu(menu)
        self.stdout.write(text, ending="")
