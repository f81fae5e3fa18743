"""The `tuoke` console command: Django's manage.py with Tuoke's settings, plus
`tuoke worker` and `tuoke scheduler` for the Celery processes."""

import os
import sys

# tuoke command → celery command; every further argument is passed through.
CELERY_COMMANDS = {"worker": "worker", "scheduler": "beat"}


def run_celery(command: str, args: list[str]) -> None:
    """Run a Celery command against Tuoke's app, as `celery -A tuoke.celery <command>` would.

    Like the ``celery`` program it exits with the command's status, and wrong options give
    a usage message instead of a traceback.
    """
    from celery.bin.celery import celery

    from tuoke.celery import app

    celery.params[0].default = app  # the --app option, as Celery.start() sets it
    if command != CELERY_COMMANDS[command]:
        # So that `tuoke scheduler --help` names itself rather than `tuoke beat`.
        celery.add_command(celery.commands[CELERY_COMMANDS[command]], name=command)
    celery.main(args=[command, *args], prog_name="tuoke", auto_envvar_prefix="CELERY")


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tuoke.settings")
    command = argv[1] if len(argv) > 1 else ""
    if command in CELERY_COMMANDS:
        run_celery(command, argv[2:])
        return
    from django.core.management import execute_from_command_line

    execute_from_command_line(argv)


if __name__ == "__main__":
    main()
