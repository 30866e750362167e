from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from telnyx_ivr import examples
from telnyx_ivr.menus.io import MenuFileError, import_definition, parse_menu_file
from telnyx_ivr.models import Menu


class Command(BaseCommand):
    help = (
        "Import menu JSON files (docs/menu-format.md). A file whose slug names an existing menu "
        "replaces that menu's draft. Each file is checked against the menu JSON Schema and the "
        "menu rules first; a file with any problem changes nothing. --example NAME loads a "
        "menu shipped with the app."
    )

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="*", metavar="FILE")
        parser.add_argument(
            "--example",
            action="append",
            default=[],
            choices=examples.names(),
            metavar="NAME",
            dest="example_names",
            help=f"an example menu shipped with the app ({', '.join(examples.names())}); "
            "may be given more than once",
        )
        parser.add_argument(
            "--publish",
            action="store_true",
            help="also publish the imported draft and activate the menu",
        )
        parser.add_argument("--note", default="imported", help="note on the published version")
        parser.add_argument("--user", help="username recorded as the publisher")
        parser.add_argument(
            "--skip-existing",
            action="store_true",
            help="leave menus whose slug already exists alone (e.g. for a demo's start script)",
        )

    def handle(
        self, *, paths, example_names, publish, note, user=None, skip_existing=False, **options
    ):
        if not paths and not example_names:
            raise CommandError("Name menu files to import, or --example NAME.")
        publisher = None
        if user:
            publisher = get_user_model().objects.filter(username=user).first()
            if publisher is None:
                raise CommandError(f"No user {user!r}.")
        failed = []
        sources = [(path, lambda path=path: read_file(Path(path))) for path in paths]
        sources += [
            (f"example {name}", lambda name=name: examples.read(name)) for name in example_names
        ]
        for path, read in sources:
            try:
                result = self.import_menu(
                    read, publish=publish, note=note, user=publisher, skip=skip_existing
                )
            except MenuFileError as exc:
                failed.append(path)
                self.stderr.write(f"{path}: not imported, nothing was changed:")
                for error in exc.errors:
                    self.stderr.write(f"  {error}")
                continue
            if result is None:
                self.stdout.write(f"Skipped {path}: its menu already exists.")
                continue
            action = "Created" if result.created else "Replaced the draft of"
            line = f"{action} menu {result.menu.slug!r} from {path}"
            if result.version is not None:
                line += f"; published version {result.version.number} and activated it"
            self.stdout.write(line + ".")
        if failed:
            raise CommandError(f"{len(failed)} file(s) not imported: {', '.join(failed)}")

    def import_menu(self, read, *, publish, note, user, skip):
        document = parse_menu_file(read())
        slug = (
            document.get("menu", {}).get("slug") if isinstance(document.get("menu"), dict) else None
        )
        if skip and isinstance(slug, str) and Menu.objects.filter(slug=slug).exists():
            return None
        return import_definition(document, publish=publish, user=user, note=note)


def read_file(path):
    try:
        return path.read_bytes()
    except OSError as exc:
        raise MenuFileError([f"cannot read the file: {exc.strerror or exc}"]) from exc
