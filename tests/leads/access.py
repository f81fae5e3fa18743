"""Records rep_east1 (华东销售组, sales rep) may not see, for the access matrix
(tests/web/test_access_matrix.py and tests/api/test_scope.py); each made once per test."""

from datetime import date
from decimal import Decimal


def south_lead(people):
    """A lead of rep_south1."""
    from tuoke.leads.models import Lead
    from tuoke.leads.services import create_lead

    existing = Lead.objects.filter(short_name="南方线索").first()
    return existing or create_lead(by=people["rep_south1"], short_name="南方线索")


def deleted_channel(people):
    """Everyone reads channels: only one in the recycle bin is out of sight."""
    from tuoke.leads.models import Channel
    from tuoke.leads.services import create_channel, delete_channel

    existing = Channel.all_objects.filter(name="已删除渠道").first()
    if existing is not None:
        return existing
    channel = create_channel(by=people["marketing1"], name="已删除渠道", kind="other")
    delete_channel(channel, by=people["marketing1"])
    return channel


def channel_cost(people):
    """Costs are marketing's figures; a rep has no grant on them."""
    from tuoke.leads.models import Channel, ChannelCost
    from tuoke.leads.services import add_channel_cost, create_channel

    existing = ChannelCost.objects.filter(note="矩阵").first()
    if existing is not None:
        return existing
    channel = Channel.objects.filter(name="矩阵渠道").first() or create_channel(
        by=people["marketing1"], name="矩阵渠道", kind="event"
    )
    return add_channel_cost(
        channel,
        by=people["marketing1"],
        period_start=date(2026, 1, 1),
        period_end=date(2026, 1, 31),
        amount=Decimal("1000"),
        note="矩阵",
    )


def south_rule(people):
    """An assignment rule of 华南销售组."""
    from tuoke.leads.models import AssignmentRule
    from tuoke.leads.services import create_rule

    existing = AssignmentRule.objects.filter(name="华南轮转").first()
    return existing or create_rule(
        by=people["manager_south"],
        name="华南轮转",
        unit=people["rep_south1"].unit,
        members=[people["rep_south1"], people["rep_south2"]],
    )


def south_saved_view(people):
    """A view of the lead list rep_south1 shares with his team (华南销售组), not rep_east1's."""
    from tuoke.core.models import SavedView
    from tuoke.core.saved_views import save_view

    existing = SavedView.objects.filter(list_key="leads", name="华南新线索").first()
    return existing or save_view(
        by=people["rep_south1"],
        list_key="leads",
        name="华南新线索",
        query="status=new",
        shared=True,
    )
