import time
from collections.abc import Callable

from django.core.management.base import BaseCommand
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from tuoke.activities.demo import build_activities
from tuoke.activities.plan import generate_plan
from tuoke.contracts.demo import build_contracts
from tuoke.customers.demo import build_customers
from tuoke.leads.demo import build_leads
from tuoke.org.demo import DEMO_PASSWORD, PEOPLE, build_org
from tuoke.sales.demo import build_sales

# The demo's builders in order, each idempotent: later apps add theirs here.
BUILDERS: list[tuple[str, Callable]] = [
    ("org", build_org),
    ("customers", build_customers),
    ("leads", build_leads),
    ("activities", build_activities),
    ("sales", build_sales),
    ("contracts", build_contracts),
]


def build_demo(report: Callable | None = None) -> None:
    """Build the whole demo; `report(name, made, began, seconds)` hears what each builder
    made, when it began and how long it took."""
    # A Chinese company: what the records keep as text when written (the audit trail's
    # labels and values, generated task titles) is written in Chinese.
    with translation.override("zh-hans"):
        for name, build in BUILDERS:
            began, started = timezone.now(), time.perf_counter()
            made = build()
            if report is not None:
                report(name, made, began, time.perf_counter() - started)
        # Today's plans once more, now with the sources of the apps built after activities
        # (stalled opportunities, overdue payments, renewals coming); what was planned
        # already stays as it is.
        generate_plan(day=timezone.localdate(), trigger="demo")


class Command(BaseCommand):
    help = "Load the demo company (idempotent): units, roles, users and their records."

    def add_arguments(self, parser):
        parser.add_argument(
            "--logins-only",
            action="store_true",
            help="Print the demo logins without loading anything.",
        )

    def handle(self, *args, logins_only=False, **options):
        if not logins_only:
            build_demo()
            self.stdout.write(self.style.SUCCESS(_("Demo data is ready.")))
        self.stdout.write(_("Demo logins (password %(password)s):") % {"password": DEMO_PASSWORD})
        for username, (display_name, title, *_rest) in PEOPLE.items():
            self.stdout.write(f"  {username:<14} {display_name} · {title}")
