"""The demo customers: about 300 varied companies with 600 contacts over the demo reps, a year
of lifecycle history, a few deliberate near-duplicates; running it again adds nothing."""

from collections import Counter
from datetime import timedelta

import pytest
from django.utils import timezone

from tuoke.customers import demo
from tuoke.customers.models import Contact, Customer, LifecycleChange, LifecycleStatus
from tuoke.customers.services import Cause, find_duplicates


@pytest.fixture
def built(whole_demo):
    return {
        "people": whole_demo.people,
        "made": whole_demo.made["customers"],
        "again": whole_demo.again["customers"],
    }


# One build of the demo for the package, on one worker (see conftest.py).
pytestmark = [pytest.mark.django_db, pytest.mark.xdist_group("demo")]


def _made_here():
    """The customers of this builder's plan: the leads' builder converts more of its own."""
    return Customer.objects.filter(legal_name__in=[p.company.legal_name for p in demo.plan()])


def test_it_makes_about_300_customers_and_600_contacts(built):
    assert 280 <= built["made"] <= 310
    assert _made_here().count() == built["made"]
    assert 550 <= Contact.objects.filter(customer__in=_made_here()).count() <= 660


def test_running_it_again_adds_nothing(built):
    assert built["again"] == 0


def test_names_are_varied_and_realistic(built):
    legal_names = list(_made_here().values_list("legal_name", flat=True))
    assert len(set(legal_names)) == len(legal_names)
    assert all(name.endswith("公司") for name in legal_names)
    industries = set(Customer.objects.values_list("industry", flat=True))
    cities = set(Customer.objects.values_list("city", flat=True))
    assert len(industries) > 30 and len(cities) > 10


def test_customers_are_spread_over_the_reps_in_their_regions(built):
    owners = Counter(Customer.objects.values_list("owner__username", flat=True))
    for rep in ("rep_east1", "rep_east2", "rep_south1", "rep_south2"):
        assert owners[rep] >= 40
    # Bar the near-duplicates, which a rep of the other team entered.
    variants = [p.company.legal_name for p in demo.plan() if p.similar]
    east = (
        _made_here()
        .filter(owner__username__in=["rep_east1", "rep_east2"])
        .exclude(legal_name__in=variants)
    )
    assert set(east.values_list("province", flat=True)) <= set(demo.EAST)
    # Each rep sees his own, not the other team's.
    rep = built["people"]["rep_east1"]
    visible = Customer.objects.visible_to(rep)
    assert visible.count() == owners["rep_east1"]


def test_every_status_has_customers_with_a_dated_history(built):
    statuses = Counter(Customer.objects.values_list("lifecycle_status", flat=True))
    assert all(statuses[s] > 5 for s in LifecycleStatus.values)
    signed = Customer.objects.filter(lifecycle_status=LifecycleStatus.SIGNED).first()
    history = list(LifecycleChange.objects.filter(customer=signed).order_by("at"))
    assert [c.to_status for c in history] == ["potential", "intent", "signed"]
    assert [c.cause for c in history] == [Cause.CREATED, Cause.FOLLOW_UP, Cause.CONTRACT_EFFECTIVE]
    assert history[0].at == signed.created_at
    assert history[0].at < history[1].at < history[2].at <= signed.updated_at
    assert signed.tier in ("A", "B", "C")
    churned = Customer.objects.filter(lifecycle_status=LifecycleStatus.CHURNED).first()
    override = LifecycleChange.objects.get(customer=churned, cause=Cause.OVERRIDE)
    assert override.reason in demo.CHURN_REASONS
    assert override.by.username.startswith("manager_")
    oldest = Customer.objects.order_by("created_at").first().created_at
    assert oldest < timezone.now() - timedelta(days=250)


def test_contacts_and_tags_are_filled_in(built):
    assert Contact.objects.filter(is_key_person=True).count() > 150
    assert Contact.objects.exclude(email="").count() > 300
    mobiles = list(Contact.objects.values_list("mobile", flat=True))
    assert len(set(mobiles)) == len(mobiles) and all(m.startswith("+861") for m in mobiles)
    assert Customer.tags.through.objects.count() > 100


def test_near_duplicates_are_there_on_purpose_and_flagged_as_similar(built):
    pairs = demo.near_duplicates()
    assert len(pairs) >= 8
    for variant, original in pairs:
        report = find_duplicates(user=None, legal_name=variant.legal_name, exclude=variant)
        assert not report.same
        assert original in [c.customer for c in report.similar]
        assert variant.pinyin_full == original.pinyin_full  # a homophone: same sound
