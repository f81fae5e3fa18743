"""The funnel page, its drill-downs, customers by stage and close soon, as their users see
them (figures counted by hand in tests/sales/funnel_data.py)."""

import re
from datetime import timedelta
from html import unescape

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.sales import funnel_data, records

Q1 = {"period": "custom", "start": "2026-01-01", "end": "2026-03-31"}


@pytest.fixture
def data(people):
    return funnel_data.build(people)


def _links(html: str, testid: str) -> list[tuple[str, str]]:
    """(href, text) of the links carrying ``data-testid=testid``."""
    found = re.findall(rf'<a href="([^"]+)" data-testid="{testid}">([^<]*)</a>', html)
    return [(unescape(href), text.strip()) for href, text in found]


def _count_on(client, url: str) -> int:
    response = client.get(url)
    assert response.status_code == 200, url
    return len(response.context["page_obj"].paginator.object_list)


def test_it_shows_a_reps_funnel_with_the_bottleneck(login, people, data):
    client = login(people["rep_east1"])
    response = client.get(reverse("sales:funnel"), Q1)
    assert response.status_code == 200
    html = response.content.decode()
    assert response.context["funnel"].cohort == 4
    assert 'data-testid="bottleneck"' in html
    assert "Bottleneck: 方案报价" in html
    assert [text for _href, text in _links(html, "reached")] == ["4", "3", "2", "1", "1"]
    assert [text for _href, text in _links(html, "entered")] == ["4", "3", "2", "1", "1"]
    assert "33%" in html  # 1 won of 3 closed
    assert "How these figures are counted" in html
    assert "vendor/echarts/echarts.min.js" in html


@pytest.mark.parametrize("who", ["rep_east1", "manager_east", "boss"])
def test_every_number_drills_down_to_as_many_opportunities(login, people, data, who):
    client = login(people[who])
    html = client.get(reverse("sales:funnel"), Q1).content.decode()
    links = [
        link
        for testid in ("entered", "reached", "reason-count", "figure-cohort", "figure-won")
        for link in _links(html, testid)
    ]
    assert len(links) >= 12
    for href, text in links:
        assert _count_on(client, href) == int(text), href


def test_the_drill_down_lists_the_records_with_links(login, people, data):
    client = login(people["rep_east1"])
    html = client.get(reverse("sales:funnel"), Q1).content.decode()
    href = {t: h for h, t in _links(html, "reached")}["3"]
    page = client.get(href).content.decode()
    for title in ("A 商机", "B 商机", "D 商机"):
        assert title in page
    assert "C 商机" not in page
    assert reverse("sales:opportunity_detail", args=[data["A"].pk]) in page


def test_a_rep_sees_only_his_own(login, people, data):
    client = login(people["rep_south1"])
    response = client.get(reverse("sales:funnel"), Q1)
    assert response.context["funnel"].cohort == 1
    # The records of a colleague's stage stay out of his drill-down too.
    url = (
        reverse("sales:funnel_records")
        + "?"
        + "&".join(f"{k}={v}" for k, v in {**Q1, "measure": "cohort"}.items())
    )
    assert [o.title for o in client.get(url).context["page_obj"]] == ["F 商机"]
    # Asking for a colleague as owner is refused on the field; his own figures stay.
    response = client.get(reverse("sales:funnel"), {**Q1, "owner": people["rep_east1"].pk})
    assert response.context["form"].errors["owner"]
    assert response.context["funnel"].cohort == 1


def test_a_manager_narrows_to_a_rep(login, people, data):
    client = login(people["manager_east"])
    response = client.get(reverse("sales:funnel"), {**Q1, "owner": people["rep_east2"].pk})
    assert (response.context["funnel"].cohort, response.context["funnel"].won) == (1, 1)


def test_bad_filters_are_reported_not_500(login, people, data):
    client = login(people["rep_east1"])
    response = client.get(
        reverse("sales:funnel"), {"period": "custom", "start": "2026-03-01", "end": "2026-01-01"}
    )
    assert response.status_code == 200
    assert response.context["form"].errors["end"]
    for params in (
        {"measure": "nonsense"},
        {"measure": "entered"},
        {"measure": "entered", "stage": "x"},
        {"measure": "entered", "stage": "999999"},
        {"measure": "lost", "reason": "abc"},
        {"measure": "lost", "reason": "999999"},
    ):
        assert client.get(reverse("sales:funnel_records"), params).status_code == 404, params
    response = client.get(reverse("sales:funnel"), {"pipeline": "abc", "period": "decade"})
    assert response.status_code == 200


def test_the_funnel_page_costs_a_bounded_number_of_queries(
    login, people, data, django_assert_max_num_queries
):
    client = login(people["boss"])
    with django_assert_max_num_queries(25):
        client.get(reverse("sales:funnel"), Q1)


def test_customers_by_stage_per_rep_with_drill_down(login, people, data):
    client = login(people["manager_east"])
    response = client.get(reverse("sales:customers_by_stage"))
    html = response.content.decode()
    assert response.status_code == 200
    assert [row["owner"].username for row in response.context["rows"]] == ["rep_east1"]
    cells = _links(html, "cell")
    assert [text for _h, text in cells] == ["2"]  # D's and E's customers in 需求确认
    page = client.get(cells[0][0])
    assert page.context["customers"] == 2
    assert {o.title for o in page.context["page_obj"]} == {"D 商机", "E 商机"}


def test_close_soon_ranks_a_reps_deals_with_reasons(login, people, data):
    rep = people["rep_east1"]
    now = timezone.now()
    hot = records.opportunity(rep, data["A"].customer, title="热门商机", stage_name="商务谈判")
    hot.expected_close_date = timezone.localdate() + timedelta(days=5)
    hot.last_activity_at = now - timedelta(days=2)
    hot.save()
    client = login(rep)
    response = client.get(reverse("sales:close_soon"))
    html = response.content.decode()
    ranked = response.context["ranked"]
    assert ranked[0].opportunity == hot
    assert "stage 商务谈判 80%" in html
    assert "active 2 days ago" in html
    assert "expected to close in 5 days" in html
    assert {r.opportunity.title for r in ranked} == {"热门商机", "D 商机", "E 商机"}  # open only


def test_a_manager_picks_a_member_but_never_an_outsider(login, people, data):
    client = login(people["manager_east"])
    response = client.get(reverse("sales:close_soon"), {"owner": people["rep_east1"].pk})
    assert {r.opportunity.title for r in response.context["ranked"]} == {"D 商机", "E 商机"}
    assert (
        client.get(reverse("sales:close_soon"), {"owner": people["rep_south1"].pk}).status_code
        == 404
    )
    rep = login(people["rep_east1"])
    assert (
        rep.get(reverse("sales:close_soon"), {"owner": people["rep_east2"].pk}).status_code == 404
    )


def test_someone_without_opportunities_is_refused(login, people, data):
    client = login(people["marketing1"])
    for name in ("sales:funnel", "sales:funnel_records", "sales:customers_by_stage"):
        assert client.get(reverse(name), {**Q1, "measure": "cohort"}).status_code == 403, name
    assert client.get(reverse("sales:close_soon")).status_code == 403
    assert client.get("/api/v1/sales/funnel").status_code == 403
    assert client.get("/api/v1/sales/close-soon").status_code == 403
