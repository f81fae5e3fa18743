"""The lead list's columns and saved views (tuoke.leads.list_views on the shared machinery of
tuoke.core.saved_views): a rep keeps his filters, sort and columns under a name, opens the list
with it, shares it with his team; nobody reaches another team's views."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tuoke.core import custom_fields as cf
from tuoke.core import saved_views
from tuoke.core.models import SavedView
from tuoke.leads import services

from .conftest import make_lead

LIST = reverse("leads:lead_list")


@pytest.fixture
def rep(people):
    return people["rep_east1"]


def _lead(marketing, name, **facts):
    """A lead known by its short name alone (make_lead gives every lead the same company)."""
    return make_lead(marketing, company_name="", short_name=name, **facts)


@pytest.fixture
def book(people, marketing, website, fair, rep):
    """rep_east1's leads from two channels, a colleague's, and one of 华南."""
    made = {
        "腾达精密": _lead(marketing, "腾达精密", owner=rep, channel=website, industry="精密制造"),
        "华信电子": _lead(marketing, "华信电子", owner=rep, channel=fair),
        "金龙机械": _lead(marketing, "金龙机械", owner=rep, channel=fair),
        "东方电气": _lead(marketing, "东方电气", owner=people["rep_east2"]),
        "白云机电": _lead(marketing, "白云机电", owner=people["rep_south1"]),
    }
    services.clean_lead(made["金龙机械"], kind="junk", reason="广告", by=marketing)
    return made


def _get(client, **params):
    return client.get(LIST, {"view": "all", **params})


def _names(response) -> list[str]:
    return [row["lead"].display_name for row in response.context["rows"]]


def _headers(response) -> list[str]:
    return [column.key for column in response.context["columns"]]


# --- Columns -------------------------------------------------------------------------------------


def test_it_shows_the_default_columns_and_custom_fields_marked_for_lists(
    rep, book, marketing, login
):
    cf.create_custom_field(
        target="lead", key="booth", label="展位号", kind="text", by=None, show_in_list=True
    )
    cf.create_custom_field(target="lead", key="budget_note", label="预算说明", kind="text", by=None)
    _lead(marketing, "西湖电子", owner=rep, custom={"booth": "A-12"})
    response = _get(login(rep))
    assert _headers(response) == [
        "lead",
        "contact",
        "channel",
        "status",
        "owner",
        "created",
        "custom.booth",
    ]
    page = response.content.decode()
    assert "A-12" in page and 'data-column="custom.booth"' in page
    assert page.count('data-testid="lead-row"') == 4  # his own leads, the cleaned one too


def test_cols_in_the_url_choose_and_order_the_columns(rep, book, login):
    response = _get(login(rep), cols="industry,owner,nope,lead")
    assert _headers(response) == ["lead", "industry", "owner"]
    assert "精密制造" in response.content.decode()


def test_the_chosen_columns_are_remembered_for_the_user_and_this_list(rep, book, people, login):
    client = login(rep)
    response = client.post(
        reverse("leads:list_columns"),
        {"columns": ["unit", "industry", "password"], "query": "status=new&page=3&cols=owner"},
    )
    assert response.status_code == 302
    assert response["Location"] == f"{LIST}?cols=unit%2Cindustry&status=new"
    assert saved_views.chosen_columns(rep, "leads") == ["unit", "industry"]
    assert saved_views.chosen_columns(rep, "customers") == []
    assert _headers(_get(client)) == ["lead", "unit", "industry"]
    assert "华东销售组" in _get(client).content.decode()  # the owner's unit
    assert _headers(_get(login(people["rep_east2"])))[:3] == ["lead", "contact", "channel"]
    assert client.get(reverse("leads:list_columns")).status_code == 405


def test_the_page_costs_the_same_queries_with_any_columns_and_views(rep, book, marketing, login):
    for i in range(30):
        _lead(marketing, f"客户{i:02d}", owner=rep)
    client = login(rep)
    # Each count after a first view, which fills the caches kept under the directory's
    # fingerprint (grants, saved views, custom fields; a saved view changes it).
    _get(client)
    with CaptureQueriesContext(connection) as plain:
        page = _get(client).content.decode()
    assert page.count('data-testid="lead-row"') == 25
    saved_views.set_columns(user=rep, list_key="leads", columns=["unit", "region", "updated"])
    for name in ("新线索", "展会", "本周"):
        saved_views.save_view(by=rep, list_key="leads", name=name, query="status=new")
    _get(client)
    with CaptureQueriesContext(connection) as wide:
        page = _get(client).content.decode()
    assert page.count('data-testid="lead-row"') == 25 and "华东销售组" in page
    assert len(wide.captured_queries) == len(plain.captured_queries) <= 9


# --- Saved views ---------------------------------------------------------------------------------


def test_it_saves_the_current_filters_sort_and_columns_as_a_view(rep, book, fair, login):
    client = login(rep)
    listed = _get(client, channel=fair.pk, status="open", sort="company", cols="owner")
    assert _names(listed) == ["华信电子"]
    state = listed.context["state_query"]
    assert state == f"channel={fair.pk}&cols=owner&sort=company&status=open"
    response = client.post(reverse("leads:saved_view_create"), {"name": "展会线索", "query": state})
    view = SavedView.objects.get(name="展会线索")
    assert view.list_key == "leads" and view.owner == rep
    assert response.status_code == 302
    assert response["Location"] == f"{LIST}?{state}&view={view.pk}"
    opened = client.get(response["Location"])
    assert opened.context["current_view"] == view and not opened.context["modified"]
    assert _names(opened) == ["华信电子"] and _headers(opened) == ["lead", "owner"]
    assert 'data-testid="current-view">展会线索<' in opened.content.decode()
    changed = client.get(f"{LIST}?{state}&view={view.pk}&q=华信")
    assert changed.context["modified"]
    assert 'data-testid="view-modified"' in changed.content.decode()


def test_a_view_needs_a_unique_name_on_this_list(rep, login):
    saved_views.save_view(by=rep, list_key="customers", name="本周", query="")
    client = login(rep)
    assert client.post(reverse("leads:saved_view_create"), {"name": "本周"}).status_code == 302
    again = client.post(reverse("leads:saved_view_create"), {"name": "本周", "query": ""})
    assert again.status_code == 400 and 'data-field-error="name"' in again.content.decode()


def test_the_list_opens_with_the_default_view_unless_asked_for_all(rep, book, login):
    saved_views.save_view(
        by=rep, list_key="customers", name="客户", query="status=intent", make_default=True
    )
    client = login(rep)
    assert client.get(LIST).status_code == 200  # a customer view is not the leads' default
    view = saved_views.save_view(
        by=rep, list_key="leads", name="新线索", query="status=new", make_default=True
    )
    response = client.get(LIST)
    assert response.status_code == 302
    assert response["Location"] == f"{LIST}?status=new&view={view.pk}"
    assert _names(client.get(response["Location"])) == ["华信电子", "腾达精密"]
    everything = _get(client)
    assert everything.context["current_view"] is None and len(_names(everything)) == 3
    assert [v.name for v in everything.context["views"]] == ["新线索"]


def test_a_teammate_opens_a_shared_view_but_cannot_change_it(rep, book, people, login):
    view = saved_views.save_view(
        by=rep, list_key="leads", name="团队新线索", query="status=new", shared=True
    )
    teammate = login(people["rep_east2"])
    opened = teammate.get(LIST, {"status": "new", "view": view.pk})
    assert opened.context["current_view"] == view
    assert _names(opened) == ["东方电气"]  # his own leads: the view keeps to his scope
    assert teammate.get(reverse("leads:saved_view_edit", args=[view.pk])).status_code == 403
    assert teammate.post(reverse("leads:saved_view_delete", args=[view.pk])).status_code == 403
    outsider = login(people["rep_south1"])
    assert view not in _get(outsider).context["views"]
    assert outsider.get(reverse("leads:saved_view_edit", args=[view.pk])).status_code == 404
    assert outsider.get(LIST, {"view": view.pk}).context["current_view"] is None
    # The same view is not reachable through the customer list's pages either.
    assert login(rep).get(reverse("customers:saved_view_edit", args=[view.pk])).status_code == 404


def test_the_owner_manages_his_views_on_the_lists_own_pages(rep, login):
    view = saved_views.save_view(by=rep, list_key="leads", name="新线索", query="status=new")
    client = login(rep)
    page = client.get(reverse("leads:saved_view_list"))
    assert [row["view"] for row in page.context["rows"]] == [view]
    assert f"{LIST}?status=new&amp;view={view.pk}" in page.content.decode()
    edited = client.post(
        reverse("leads:saved_view_edit", args=[view.pk]),
        {"version": 1, "name": "我的新线索", "make_default": "on"},
    )
    assert edited.status_code == 302 and edited["Location"] == reverse("leads:saved_view_list")
    assert saved_views.default_view(rep, "leads").name == "我的新线索"
    client.post(reverse("leads:saved_view_default"), {"view": ""})
    assert saved_views.default_view(rep, "leads") is None
    assert client.post(reverse("leads:saved_view_delete", args=[view.pk])).status_code == 302
    assert not SavedView.objects.filter(pk=view.pk).exists()


def test_people_without_leads_have_no_lead_views(people, login):
    client = login(people["finance1"])
    assert client.get(reverse("leads:saved_view_list")).status_code == 403
    assert client.post(reverse("leads:saved_view_create"), {"name": "x"}).status_code == 403
    assert not SavedView.objects.exists()
