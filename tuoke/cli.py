"""The `tuoke` console command: Django's manage.py with Tuoke's settings, plus
`tuoke worker` and `tuoke scheduler` for the Celery processes."""

import os
import sys


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tuoke.settings")
    command = argv[1] if len(argv) > 1 else ""
    if command in {"worker", "scheduler"}:
        from tuoke.celery import app

        celery_command = "worker" if command == "worker" else "beat"
        app.start([celery_command, *argv[2:]])
        return
    from django.core.management import execute_from_command_line

    execute_from_command_line(argv)


if __name__ == "__main__":
    main()
