"""My visits, planning one from the customer page, the visit page with its check-in and its
completion, and cancelling."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tuoke.activities import services
from tuoke.activities.models import Visit

from . import records


@pytest.fixture
def rep(people):
    return people["rep_east1"]


@pytest.fixture
def customer(rep):
    return records.customer(rep, contacts=[{"name": "王强"}])


def _plan(rep, customer, *, hours=2, purpose="演示"):
    return services.plan_visit(
        by=rep,
        customer=customer,
        planned_at=timezone.now() + timedelta(hours=hours),
        purpose=purpose,
    )


def test_a_rep_plans_a_visit_from_the_customer_page(login, rep, customer):
    client = login(rep)
    form = client.get(f"/activities/visits/new/?customer={customer.pk}")
    assert form.status_code == 200 and "王强" in form.content.decode()
    when = (timezone.localtime() + timedelta(days=1)).strftime("%Y-%m-%dT10:00")
    response = client.post(
        "/activities/visits/new/",
        {
            "customer": customer.pk,
            "planned_at": when,
            "purpose": "演示新产品",
            "contacts": [customer.contacts.get().pk],
        },
    )
    visit = Visit.objects.get()
    assert response["Location"] == f"/activities/visits/{visit.pk}/"
    assert visit.owner == rep and visit.purpose == "演示新产品" and visit.contacts.count() == 1


def test_my_visits_lists_planned_ones_soonest_first_and_filters(login, people, rep, customer):
    later = _plan(rep, customer, hours=48, purpose="第二次")
    sooner = _plan(rep, customer, hours=2, purpose="第一次")
    done = _plan(rep, customer, hours=1, purpose="已完成")
    services.complete_visit(done, "谈完了", by=rep)
    _plan(people["rep_east2"], records.customer(people["rep_east2"], "同事客户"))

    client = login(rep)
    page = client.get("/activities/visits/").content.decode()
    assert page.index("第一次") < page.index("第二次")
    assert "已完成" not in page and "同事客户" not in page
    assert "已完成" in client.get("/activities/visits/?status=done").content.decode()
    until = timezone.localdate() + timedelta(days=1)
    filtered = client.get(f"/activities/visits/?until={until:%Y-%m-%d}").content.decode()
    assert "第一次" in filtered and "第二次" not in filtered
    assert sooner.pk and later.pk


def test_a_manager_sees_his_teams_visits(login, people, rep, customer):
    _plan(rep, customer, purpose="张伟的拜访")
    client = login(people["manager_east"])
    assert "张伟的拜访" not in client.get("/activities/visits/").content.decode()
    assert "张伟的拜访" in client.get("/activities/visits/?whose=team").content.decode()


def test_an_empty_list_says_what_to_do(login, rep):
    page = login(rep).get("/activities/visits/").content.decode()
    assert 'data-testid="visits-empty"' in page


def test_the_rep_checks_in_with_the_place_and_completes_the_visit(login, rep, customer):
    visit = _plan(rep, customer)
    client = login(rep)
    page = client.get(f"/activities/visits/{visit.pk}/").content.decode()
    assert 'data-testid="check-in"' in page and "navigator.geolocation" in page

    response = client.post(
        f"/activities/visits/{visit.pk}/check-in/",
        {"latitude": "31.230416", "longitude": "121.473702", "accuracy_m": "15", "address": "上海"},
    )
    assert response.status_code == 302
    page = client.get(f"/activities/visits/{visit.pk}/").content.decode()
    assert "31.230416, 121.473702" in page and "± 15 m" in page
    assert 'data-testid="check-in"' not in page  # once

    response = client.post(
        f"/activities/visits/{visit.pk}/complete/",
        {"content": "客户认可方案", "next_step": "发报价", "next_step_on": ""},
    )
    assert response.status_code == 302
    visit.refresh_from_db()
    assert visit.status == "done" and visit.follow_up.content == "客户认可方案"


def test_a_check_in_without_the_place_says_so(login, rep, customer):
    visit = _plan(rep, customer)
    client = login(rep)
    response = client.post(
        f"/activities/visits/{visit.pk}/check-in/", {"geo_error": "denied"}, follow=True
    )
    page = response.content.decode()
    assert "without your location" in page and 'data-testid="check-in-no-place"' in page


def test_completing_needs_what_happened(login, rep, customer):
    visit = _plan(rep, customer)
    response = login(rep).post(f"/activities/visits/{visit.pk}/complete/", {"content": ""})
    assert response.status_code == 400
    assert 'data-field-error="content"' in response.content.decode()


def test_a_manager_sees_the_visit_but_does_not_check_in(login, people, rep, customer):
    visit = _plan(rep, customer)
    client = login(people["manager_east"])
    page = client.get(f"/activities/visits/{visit.pk}/").content.decode()
    assert 'data-testid="check-in"' not in page and 'data-testid="visit-cancel"' in page
    response = client.post(f"/activities/visits/{visit.pk}/check-in/", {})
    assert response.status_code == 400
    visit.refresh_from_db()
    assert visit.checked_in_at is None


def test_the_rep_cancels_a_visit_after_confirming(login, rep, customer):
    visit = _plan(rep, customer)
    client = login(rep)
    assert client.get(f"/activities/visits/{visit.pk}/cancel/").status_code == 200
    client.post(f"/activities/visits/{visit.pk}/cancel/", {"reason": "客户出差"})
    visit.refresh_from_db()
    assert visit.status == "cancelled"
