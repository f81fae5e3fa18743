"""The demo leads: channels with half a year of costs, 500 leads over the reps and statuses."""

from collections import Counter

import pytest

from tuoke.leads.demo import LEAD_COUNT
from tuoke.leads.models import Channel, ChannelCost, Lead, LeadStatus

# One build of the demo for the package, on one worker (see conftest.py).
pytestmark = [pytest.mark.django_db, pytest.mark.xdist_group("demo")]


def test_it_builds_channels_costs_and_leads_once(whole_demo):
    assert whole_demo.made["leads"] == LEAD_COUNT
    assert whole_demo.again["leads"] == 0
    assert Channel.objects.count() == 6
    assert ChannelCost.objects.count() == 5 * 6 + 1  # monthly ones and the trade fair
    statuses = Counter(Lead.objects.values_list("status", flat=True))
    assert set(statuses) == set(LeadStatus.values)
    assert statuses[LeadStatus.CONVERTED] > 20 and statuses[LeadStatus.CLEANED] > 20
    owners = Counter(Lead.objects.values_list("owner__username", flat=True))
    assert {"rep_east1", "rep_east2", "rep_south1", "rep_south2", "marketing1"} <= set(owners)
    assert Lead.objects.exclude(cleaning_reason="").filter(status=LeadStatus.CLEANED).exists()
    converted = Lead.objects.filter(status=LeadStatus.CONVERTED)
    assert all(lead.converted_customer_id for lead in converted)
    assert Lead.objects.filter(duplicate_of__isnull=False).exists()
    oldest = Lead.objects.order_by("created_at").first().created_at
    newest = Lead.objects.order_by("-created_at").first().created_at
    assert (newest - oldest).days > 120
    assert Lead.objects.count() == LEAD_COUNT
