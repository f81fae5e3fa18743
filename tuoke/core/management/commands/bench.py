from django.core.management.base import BaseCommand
from django.db import connection

from tuoke.core import seed


class Command(BaseCommand):
    help = (
        "Benchmark data: `tuoke bench seed --size small|medium|large` builds a data set of "
        "ARCHITECTURE.md in the database of DATABASE_URL (use a database of its own)."
    )

    def add_arguments(self, parser):
        parser.add_argument("verb", choices=["seed"])
        parser.add_argument("--size", choices=sorted(seed.SIZES), default="small")
        parser.add_argument(
            "--force",
            action="store_true",
            help="Seed even though bench customers exist already (adds another set).",
        )

    def handle(self, *args, verb, size, force, **options):
        from tuoke.customers.models import Customer
        from tuoke.org.models import User

        seeded = User.objects.filter(username=seed.bench_username(0, 0)).exists()
        if seeded and Customer.all_objects.exists() and not force:
            # Seeding takes minutes: a second `make bench-large` reuses the data set.
            self.stdout.write("This database holds a bench data set already (--force adds one).")
            return
        self.stdout.write(f"Seeding the {size!r} data set on {connection.vendor}…")
        report = seed.seed(size, log=self.stdout.write)
        for table, rows in report["counts"].items():
            self.stdout.write(f"  {table:<32} {rows:>12,}")
        timings = "  ".join(f"{k} {v}" for k, v in report["timings"].items())
        self.stdout.write(self.style.SUCCESS(f"Done: {timings}"))
