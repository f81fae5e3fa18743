"""`tuoke bench seed --size small`: the benchmark data set, bulk-loaded, with correct keys."""

import io
import random

import pytest
from django.core.management import call_command

from tuoke.core import seed
from tuoke.core.scope import scope_of
from tuoke.customers import matching
from tuoke.customers.models import Contact, Customer, Tag
from tuoke.org.models import OrgUnit, User

pytestmark = pytest.mark.django_db

SMALL = seed.SIZES["small"]


@pytest.fixture
def seeded(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    call_command("bench", "seed", "--size", "small", stdout=open("/dev/null", "w"))  # noqa: SIM115


def test_it_builds_the_org_and_the_counts_of_the_small_set(seeded):
    bench_users = User.objects.filter(username__startswith="bench_")
    assert bench_users.count() == SMALL.units * SMALL.users_per_unit
    assert (
        OrgUnit.objects.filter(name__startswith="销售", name__endswith="组").count() >= SMALL.units
    )
    assert Customer.all_objects.count() == SMALL.customers
    assert Contact.all_objects.count() == SMALL.contacts
    # Every unit has its manager, who manages the unit's customers.
    manager = User.objects.get(username=seed.bench_username(0, 0))
    assert manager.unit.manager_id == manager.pk
    assert scope_of(manager, "customer") > scope_of(
        User.objects.get(username="bench_0_1"), "customer"
    )
    # Owners are the bench users, each has some customers; about 1% are in the recycle bin.
    owners = set(Customer.all_objects.values_list("owner_id", flat=True))
    assert owners <= set(bench_users.values_list("pk", flat=True))
    assert len(owners) == bench_users.count()
    deleted = Customer.all_objects.filter(deleted_at__isnull=False).count()
    assert 0 < deleted < SMALL.customers * 0.05
    assert Tag.objects.count() >= 10
    assert Customer.tags.through.objects.count() > SMALL.customers * 0.1


def test_it_stores_the_matching_keys_the_engine_computes(seeded):
    ids = list(Customer.all_objects.values_list("pk", flat=True))
    sample = random.Random(3).sample(ids, 300)
    for customer in Customer.all_objects.filter(pk__in=sample):
        keys = matching.keys_for(legal_name=customer.legal_name, credit_code=customer.credit_code)
        assert customer.name_key == keys.name_key, customer.legal_name
        assert (customer.pinyin_full, customer.pinyin_initials) == (
            keys.pinyin_full,
            keys.pinyin_initials,
        ), customer.legal_name
        if customer.credit_code:
            assert keys.credit_code == customer.credit_code  # a valid check character
        assert customer.created_at <= customer.updated_at


def test_it_writes_valid_distinct_contacts_and_names(seeded):
    mobiles = list(Contact.all_objects.values_list("mobile", flat=True))
    assert len(set(mobiles)) == len(mobiles)
    for value in mobiles[:200]:
        assert matching.normalize_phone(value) == value
    emails = [e for e in Contact.all_objects.values_list("email", flat=True) if e]
    assert len(set(emails)) == len(emails) > SMALL.contacts * 0.4
    legal_names = set(Customer.all_objects.values_list("legal_name", flat=True))
    assert len(legal_names) > SMALL.customers * 0.95  # varied names
    assert all(n.endswith("公司") for n in list(legal_names)[:100])
    # Indexes were rebuilt after the load: the duplicate check finds a seeded customer.
    customer = Customer.objects.order_by("pk").first()
    contact = Contact.objects.filter(customer=customer).first()
    from tuoke.customers.services import find_duplicates

    report = find_duplicates(user=None, legal_name=customer.legal_name)
    assert customer.pk in [c.customer.pk for c in report.same]
    if contact is not None:
        report = find_duplicates(user=None, legal_name="无关公司", phones=[contact.mobile])
        assert customer.pk in [c.customer.pk for c in report.same]


def test_it_keeps_a_seeded_database_as_it_is_unless_forced(seeded):
    out = io.StringIO()
    call_command("bench", "seed", "--size", "small", stdout=out)
    assert "already" in out.getvalue()
    assert Customer.all_objects.count() == SMALL.customers
