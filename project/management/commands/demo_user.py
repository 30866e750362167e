"""The example project's demo login for `python3 dev.py run`. It belongs to the example only:
a host site has its own way to make staff users (``createsuperuser``)."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Create (or reset) the superuser of a local demo. Refused when DEBUG is off."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("password")

    def handle(self, *, username, password, **options):
        if not settings.DEBUG:
            raise CommandError(
                "demo_user makes a superuser with a published password, so it only runs with "
                "DEBUG on. Use `python manage.py createsuperuser` on a real site."
            )
        user, created = get_user_model().objects.get_or_create(username=username)
        user.is_staff = user.is_superuser = True
        user.set_password(password)
        user.save()
        self.stdout.write(f"{'Created' if created else 'Reset'} demo superuser {username!r}.")
