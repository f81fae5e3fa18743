from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from tuoke.org import services
from tuoke.org.models import User


class Command(BaseCommand):
    help = "Create a personal API token: tuoke token create USERNAME [--name NAME]. Prints it once."

    def add_arguments(self, parser):
        parser.add_argument("verb", choices=["create"])
        parser.add_argument("username")
        parser.add_argument("--name", default="cli")

    def handle(self, *args, verb, username, name, **options):
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user named {username!r}.")
        try:
            _token, raw = services.create_token(user=user, name=name)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        self.stdout.write(raw)
