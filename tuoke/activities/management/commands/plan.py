"""`tuoke plan today` (or `tuoke plan --day 2026-11-24`): make the daily plan now."""

from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from tuoke.activities import plan


class Command(BaseCommand):
    help = (
        "Make the daily plan: the tasks the plan's sources (cadences, next steps …) want on "
        "everyone's plan and that are not there yet. Running it again the same day makes none."
    )

    def add_arguments(self, parser):
        parser.add_argument("verb", nargs="?", choices=["today"], default="today")
        parser.add_argument("--day", help="The day to plan (YYYY-MM-DD); default today.")
        parser.add_argument(
            "--source",
            action="append",
            dest="sources",
            help="Only this source (repeatable): " + ", ".join(s.key for s in plan.sources()),
        )

    def handle(self, *args, verb, day, sources, **options):
        try:
            chosen = date.fromisoformat(day) if day else plan.today()
        except ValueError as exc:
            raise CommandError(f"--day: {exc}") from exc
        try:
            run = plan.generate_plan(chosen, trigger="command", only=sources)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        seconds = (run.finished_at - run.started_at).total_seconds()
        self.stdout.write(f"Plan for {run.day.isoformat()}:")
        for key, made in run.counts.items():
            self.stdout.write(f"  {plan.source_label(key):<24} {made:>8,} tasks")
        self.stdout.write(
            self.style.SUCCESS(f"{run.created:,} tasks made in {seconds:.1f} s (run #{run.pk}).")
        )
