"""Saved views and list preferences (tuoke.core.saved_views), the list helpers for columns and
sorting (tuoke.core.lists) and the capped count of paginate."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.test import RequestFactory

from tuoke.core import lists, saved_views
from tuoke.core.audit import trail_of
from tuoke.core.errors import Conflict
from tuoke.core.models import AuditEntry, SavedView
from tuoke.core.views import paginate
from tuoke.org.models import User

LIST = "customers"


@pytest.fixture
def rep(people):
    return people["rep_east1"]


@pytest.fixture
def teammate(people):
    return people["rep_east2"]


@pytest.fixture
def outsider(people):
    return people["rep_south1"]


def _save(user, name="我的意向客户", query="status=intent&sort=-updated", **kwargs):
    return saved_views.save_view(by=user, list_key=LIST, name=name, query=query, **kwargs)


# --- Queries kept --------------------------------------------------------------------------------


def test_it_keeps_a_query_without_page_view_and_empty_values_in_a_stable_order():
    cleaned = saved_views.clean_query("?sort=name&page=3&view=7&q=&tag=2&tag=5&status=intent")
    assert cleaned == "sort=name&status=intent&tag=2&tag=5"
    assert saved_views.clean_query({"q": "腾达", "page": "2"}) == "q=%E8%85%BE%E8%BE%BE"


# --- Saving, renaming, sharing, deleting ---------------------------------------------------------


def test_it_saves_a_view_for_its_owner_with_an_audit_entry(rep, teammate):
    view = _save(rep, query="page=2&status=intent")
    assert view.owner == rep and view.query == "status=intent" and not view.shared
    assert trail_of(view).get().kind == AuditEntry.Kind.CREATE
    assert list(saved_views.views_for(rep, LIST)) == [view]
    assert list(saved_views.views_for(teammate, LIST)) == []
    assert list(saved_views.views_for(rep, "leads")) == []


def test_it_needs_a_name_unique_among_the_owners_views_of_the_list(rep, teammate):
    _save(rep, name="本周")
    with pytest.raises(ValidationError) as caught:
        _save(rep, name=" 本周 ")
    assert caught.value.error_dict["name"][0].code == "duplicate"
    with pytest.raises(ValidationError) as caught:
        _save(rep, name="  ")
    assert caught.value.error_dict["name"][0].code == "required"
    # Another user, or another list, may use the same name.
    assert _save(teammate, name="本周").name == "本周"
    assert saved_views.save_view(by=rep, list_key="leads", name="本周", query="").pk


def test_it_refuses_a_query_too_long_to_keep(rep):
    with pytest.raises(ValidationError) as caught:
        _save(rep, query="q=" + "x" * 3000)
    assert "query" in caught.value.error_dict


def test_a_shared_view_is_opened_by_the_team_but_changed_only_by_its_owner(rep, teammate, outsider):
    view = _save(rep, shared=True)
    assert list(saved_views.views_for(teammate, LIST)) == [view]
    assert list(saved_views.views_for(outsider, LIST)) == []
    assert saved_views.get_view_for(teammate, LIST, view.pk) == view
    with pytest.raises(PermissionDenied):
        saved_views.get_view_for(teammate, LIST, view.pk, "edit")
    with pytest.raises(Http404):
        saved_views.get_view_for(outsider, LIST, view.pk)
    with pytest.raises(Http404):
        saved_views.get_view_for(outsider, LIST, view.pk, "delete")
    with pytest.raises(Http404):
        saved_views.get_view_for(rep, "leads", view.pk)


def test_a_manager_does_not_see_his_reps_private_views(rep, people):
    _save(rep)
    assert list(saved_views.views_for(people["manager_east"], LIST)) == []


def test_it_renames_and_unshares_with_a_version_check_and_audit(rep, teammate):
    view = _save(rep, shared=True)
    saved_views.update_view(view, by=rep, expected_version=1, name="意向 · 华东", shared=False)
    view.refresh_from_db()
    assert (view.name, view.shared, view.version) == ("意向 · 华东", False, 2)
    assert list(saved_views.views_for(teammate, LIST)) == []
    changed = {c["field"] for c in trail_of(view).first().changes}
    assert changed == {"name", "shared"}
    with pytest.raises(Conflict):
        saved_views.update_view(view, by=rep, expected_version=1, name="旧的")


def test_it_replaces_what_a_view_shows(rep):
    view = _save(rep)
    saved_views.update_view(view, by=rep, query="status=signed&page=4")
    view.refresh_from_db()
    assert view.query == "status=signed"


def test_a_deleted_view_goes_to_the_recycle_bin_and_stops_being_the_default(rep):
    view = _save(rep, make_default=True)
    assert saved_views.default_view(rep, LIST) == view
    saved_views.delete_view(view, by=rep)
    assert saved_views.default_view(rep, LIST) is None
    assert list(saved_views.views_for(rep, LIST)) == []
    assert SavedView.all_objects.get(pk=view.pk).deleted_by == rep


# --- Preferences ---------------------------------------------------------------------------------


def test_a_user_opens_a_list_with_his_default_view_his_own_or_a_shared_one(rep, teammate):
    assert saved_views.default_view(rep, LIST) is None
    shared = _save(teammate, name="团队", shared=True)
    saved_views.set_default_view(user=rep, list_key=LIST, view=shared)
    assert saved_views.default_view(rep, LIST) == shared
    # Unshared: no longer his to open.
    saved_views.update_view(shared, by=teammate, shared=False)
    assert saved_views.default_view(rep, LIST) is None
    saved_views.set_default_view(user=rep, list_key=LIST, view=None)
    assert saved_views.preference(rep, LIST).default_view is None


def test_it_refuses_a_default_view_the_user_may_not_open(rep, outsider):
    theirs = _save(outsider, name="华南")
    with pytest.raises(ValidationError):
        saved_views.set_default_view(user=rep, list_key=LIST, view=theirs)


def test_it_remembers_the_columns_per_user_and_list(rep, teammate):
    assert saved_views.chosen_columns(rep, LIST) == []
    kept = saved_views.set_columns(user=rep, list_key=LIST, columns=["owner", "status", "owner"])
    assert kept == ["owner", "status"]
    assert saved_views.chosen_columns(rep, LIST) == ["owner", "status"]
    assert saved_views.chosen_columns(teammate, LIST) == []
    assert saved_views.chosen_columns(rep, "leads") == []


# --- Columns and sorting -------------------------------------------------------------------------

COLUMNS = [
    lists.Column("name", "Name", sort="name", fixed=True),
    lists.Column("status", "Status"),
    lists.Column("owner", "Owner"),
    lists.Column("industry", "Industry", default=False),
]


def test_it_shows_the_fixed_columns_first_then_the_chosen_ones_in_order():
    keys = [c.key for c in lists.shown_columns(COLUMNS, "industry,status,nope,name")]
    assert keys == ["name", "industry", "status"]
    assert [c.key for c in lists.shown_columns(COLUMNS, None)] == ["name", "status", "owner"]
    assert [c.key for c in lists.shown_columns(COLUMNS, "nope")] == ["name", "status", "owner"]
    assert lists.columns_param(lists.shown_columns(COLUMNS, ["owner"])) == "owner"


def test_it_sorts_only_by_known_keys_with_a_tiebreak_in_the_same_direction():
    fields = {"name": "pinyin_full", "follow_up": "last_follow_up_at"}
    sort, terms = lists.ordering("-name", fields, default="name")
    assert sort == "-name"
    assert [(t.expression.name, t.descending) for t in terms] == [
        ("pinyin_full", True),
        ("pk", True),
    ]
    assert lists.ordering("password", fields, default="-name")[0] == "-name"
    _sort, terms = lists.ordering("follow_up", fields, default="name", nullable={"follow_up"})
    assert terms[0].nulls_first and not terms[0].descending


# --- Capped count --------------------------------------------------------------------------------


def test_paginate_counts_at_most_the_cap_and_says_so(people, django_assert_max_num_queries):
    users = User.objects.order_by("pk")
    total = users.count()
    request = RequestFactory().get("/", {"page": "2"})
    with django_assert_max_num_queries(2):
        page = paginate(request, users, per_page=2, count_cap=5)
        rows = list(page.object_list)
    assert page.paginator.count == 6 and page.paginator.capped
    assert len(rows) == 2 and page.number == 2
    exact = paginate(request, users, per_page=2, count_cap=None)
    assert exact.paginator.count == total and not exact.paginator.capped
    assert not paginate(request, users, per_page=2).paginator.capped
