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
            # A Chinese company: what the records keep as text when written (the audit
            # trail's labels and values, generated task titles) is written in Chinese.
            with translation.override("zh-hans"):
                build_org()
                # Later apps add their demo records here, each idempotent.
                build_customers()
                build_leads()
                build_activities()
                build_sales()
                build_contracts()
                # Today's plans once more, now with the sources of the apps built after
                # activities (stalled opportunities, overdue payments, renewals coming); what
                # was planned already stays as it is.
                generate_plan(day=timezone.localdate(), trigger="demo")
            self.stdout.write(self.style.SUCCESS(_("Demo data is ready.")))
        self.stdout.write(_("Demo logins (password %(password)s):") % {"password": DEMO_PASSWORD})
        for username, (display_name, title, *_rest) in PEOPLE.items():
            self.stdout.write(f"  {username:<14} {display_name} · {title}")
