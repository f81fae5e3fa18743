"""The Today page (a rep's home): tasks grouped overdue / today / coming up, the one-tap Log
link, the done toggle, the customers not touched for long; the team's plans for managers;
the task list and making, editing and deleting a task by hand; the cadence settings."""

from datetime import timedelta
from urllib.parse import parse_qs, urlparse

import pytest
import time_machine
from django.urls import reverse

from tuoke.activities import plan
from tuoke.activities.models import Cadence, Task

from .plan_records import DAY, NOW, customer


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def rep(people):
    return people["rep_east1"]


def _task(owner, title, due_on, **extra):
    return plan.create_task(
        by=extra.pop("by", owner), title=title, due_on=due_on, owner=owner, **extra
    )


def _groups(html: str) -> dict[str, list[str]]:
    """Titles of the tasks in each group of the page, in order."""
    import re

    found: dict[str, list[str]] = {}
    for group in ("overdue", "today", "done", "upcoming"):
        match = re.search(
            rf'data-testid="group-{group}"(.*?)(?=data-testid="group-|data-testid="untouched")',
            html,
            re.S,
        )
        if match is None:
            continue
        found[group] = re.findall(r'data-testid="task-title">(?:<a[^>]*>)?([^<]+)<', match.group(1))
    return found


def test_it_groups_the_reps_tasks(login, rep):
    target = customer(rep, "腾达精密", tier="A", touched_days_ago=3)
    _task(rep, "催合同", DAY - timedelta(days=2), customer=target)
    _task(rep, "打电话", DAY, customer=target)
    _task(rep, "送样品", DAY + timedelta(days=3))
    _task(rep, "下月再说", DAY + timedelta(days=20))
    done = _task(rep, "发报价", DAY)
    plan.complete_task(done, by=rep)

    response = login(rep).get(reverse("activities:today"))

    assert response.status_code == 200
    html = response.content.decode()
    assert _groups(html) == {
        "overdue": ["催合同"],
        "today": ["打电话"],
        "done": ["发报价"],
        "upcoming": ["送样品"],
    }
    assert "Tue, Nov 24" in html  # the day, as people say it
    assert "2 days overdue" in html
    assert "Fri, Nov 27" in html  # the day an upcoming task is due


def test_the_log_link_prefills_customer_kind_and_task(login, rep):
    target = customer(rep, "腾达精密", tier="A", touched_days_ago=10)
    plan.generate_plan(DAY)
    task = Task.objects.get(customer=target)

    response = login(rep).get(reverse("activities:today"))

    html = response.content.decode()
    import re

    link = re.search(r'href="([^"]+)" data-testid="task-log"', html).group(1).replace("&amp;", "&")
    url = urlparse(link)
    assert url.path == reverse("activities:follow_up_create")
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert query == {
        "customer": str(target.pk),
        "kind": "call",
        "task": str(task.pk),
        "next": reverse("activities:today"),
    }
    # A cadence task says how long the customer has waited, in the reader's language.
    assert "Regular follow-up" in html and "last follow-up 10 days ago" in html


def test_logging_from_the_link_completes_the_task(login, rep):
    target = customer(rep, "腾达精密", tier="A", touched_days_ago=10)
    plan.generate_plan(DAY)
    task = Task.objects.get(customer=target)
    client = login(rep)

    response = client.post(
        reverse("activities:follow_up_create"),
        {
            "customer": target.pk,
            "task": task.pk,
            "kind": "call",
            "content": "电话回访，客户下周来厂参观",
            "next": reverse("activities:today"),
        },
    )

    assert response.status_code == 302 and response["Location"] == reverse("activities:today")
    task.refresh_from_db()
    assert task.done_at is not None and task.done_with is not None
    assert _groups(client.get(reverse("activities:today")).content.decode())["done"] == [
        "Regular follow-up"
    ]


def test_the_done_toggle_ticks_a_task_off_and_back(login, rep):
    task = _task(rep, "打电话", DAY)
    client = login(rep)
    url = reverse("activities:task_done", args=[task.pk])

    response = client.post(url, {"next": "/"}, headers={"HX-Request": "true"})

    assert response.status_code == 200
    assert 'data-done="true"' in response.content.decode()
    task.refresh_from_db()
    assert task.done_at == NOW and task.done_by == rep

    response = client.post(url)  # without htmx: back to the page
    assert response.status_code == 302
    task.refresh_from_db()
    assert task.done_at is None


def test_a_rep_cannot_see_or_tick_off_anothers_task(login, rep, people):
    theirs = _task(people["rep_east2"], "同事的任务", DAY)
    client = login(rep)

    assert client.post(reverse("activities:task_done", args=[theirs.pk])).status_code == 404
    assert client.get(reverse("activities:task_edit", args=[theirs.pk])).status_code == 404
    assert client.post(reverse("activities:task_delete", args=[theirs.pk])).status_code == 404
    theirs.refresh_from_db()
    assert theirs.done_at is None and theirs.deleted_at is None
    assert "同事的任务" not in client.get(reverse("activities:today")).content.decode()


def test_it_shows_the_customers_not_touched_for_long(login, rep):
    for n, days in enumerate((3, 200, 40, 90)):
        customer(rep, f"客户{n}", touched_days_ago=days)

    html = login(rep).get(reverse("activities:today")).content.decode()

    import re

    names = re.findall(r'data-testid="untouched-customer">.*?>([^<]+)</a>', html, re.S)
    # Longest ago first; one followed up three days ago is not "long".
    assert names == ["客户1", "客户3", "客户2"]
    assert "last follow-up 200 days ago" in html


def test_the_home_page_is_today_for_reps_and_stays_for_administrators(login, rep, admin_user):
    _task(rep, "打电话", DAY)

    rep_home = login(rep).get("/")
    assert rep_home.status_code == 200
    assert 'data-testid="group-today"' in rep_home.content.decode()

    admin_home = login(admin_user).get("/").content.decode()
    assert 'data-testid="group-today"' not in admin_home
    assert 'data-testid="org-stats"' in admin_home and 'data-testid="daily-plan"' in admin_home


def test_a_rep_without_tasks_or_customers_keeps_the_organisation_home(login, people):
    client = login(people["rep_south2"])
    assert 'data-testid="my-team"' in client.get("/").content.decode()
    today = client.get(reverse("activities:today")).content.decode()
    assert 'data-testid="empty-today"' in today and "Nothing due today" in today


def test_the_page_takes_a_fixed_number_of_queries(login, rep, django_assert_max_num_queries):
    targets = [customer(rep, f"客户{n}", tier="A", touched_days_ago=10 + n) for n in range(12)]
    plan.generate_plan(DAY)
    for n, target in enumerate(targets[:6]):
        _task(rep, f"任务{n}", DAY + timedelta(days=n - 3), customer=target)
    client = login(rep)
    client.get(reverse("activities:today"))
    with django_assert_max_num_queries(16):
        assert client.get(reverse("activities:today")).status_code == 200


# --- Team ---------------------------------------------------------------------------------------


def test_a_manager_sees_his_teams_day(login, rep, people):
    manager = people["manager_east"]
    _task(rep, "逾期", DAY - timedelta(days=1))
    _task(rep, "今天", DAY)
    plan.complete_task(_task(rep, "做完", DAY), by=rep)
    _task(people["rep_south1"], "华南的", DAY)

    response = login(manager).get(reverse("activities:team"))

    assert response.status_code == 200
    rows = {row.person.username: row for row in response.context["rows"]}
    assert set(rows) == {"manager_east", "rep_east1", "rep_east2"}
    assert (rows["rep_east1"].open, rows["rep_east1"].overdue, rows["rep_east1"].done) == (2, 1, 1)
    assert rows["rep_east1"].completion == 33
    assert rows["rep_east2"].completion is None


def test_a_manager_opens_a_members_plan_but_not_outside_his_team(login, rep, people):
    manager = people["manager_east"]
    _task(rep, "今天", DAY)
    client = login(manager)

    mine = client.get(reverse("activities:team_member", args=[rep.pk]))
    assert mine.status_code == 200 and "今天" in mine.content.decode()
    # Read-only for him: no toggles, no Log links.
    assert 'data-testid="task-done"' not in mine.content.decode()

    assert (
        client.get(reverse("activities:team_member", args=[people["rep_south1"].pk])).status_code
        == 404
    )


def test_reps_have_no_team_view(login, rep, people):
    client = login(rep)
    assert client.get(reverse("activities:team")).status_code == 403
    assert (
        client.get(reverse("activities:team_member", args=[people["rep_east2"].pk])).status_code
        == 404
    )


def test_the_director_sees_both_teams(login, people):
    rows = login(people["director"]).get(reverse("activities:team")).context["rows"]
    assert {"rep_east1", "rep_south1"} <= {r.person.username for r in rows}


# --- Task list and forms ------------------------------------------------------------------------


def test_the_task_list_filters_and_pages(login, rep, settings):
    settings.LIST_PAGE_SIZE = 5
    for n in range(7):
        _task(rep, f"任务{n}", DAY + timedelta(days=n - 2))
    plan.complete_task(Task.objects.get(title="任务6"), by=rep)
    client = login(rep)

    page = client.get(reverse("activities:task_list"))
    assert [t.title for t in page.context["page_obj"]] == [f"任务{n}" for n in range(5)]
    assert page.context["page_obj"].paginator.count == 6

    overdue = client.get(reverse("activities:task_list"), {"status": "overdue"})
    assert [t.title for t in overdue.context["page_obj"]] == ["任务0", "任务1"]
    done = client.get(reverse("activities:task_list"), {"status": "done"})
    assert [t.title for t in done.context["page_obj"]] == ["任务6"]
    found = client.get(reverse("activities:task_list"), {"q": "任务3", "status": "all"})
    assert [t.title for t in found.context["page_obj"]] == ["任务3"]


def test_a_rep_adds_a_task_about_a_customer(login, rep):
    target = customer(rep, "腾达精密")
    client = login(rep)

    form = client.get(reverse("activities:task_create"), {"customer": target.pk})
    assert form.status_code == 200 and "腾达精密" in form.content.decode()
    assert "owner" not in form.context["form"].fields  # a rep gives tasks to himself only

    response = client.post(
        reverse("activities:task_create"),
        {"customer": target.pk, "title": "准备方案", "due_on": "2026-11-26", "kind": "meeting"},
    )

    assert response.status_code == 302
    task = Task.objects.get(title="准备方案")
    assert (task.owner, task.customer, task.kind.key, task.source) == (
        rep,
        target,
        "meeting",
        "manual",
    )


def test_a_manager_gives_a_task_to_his_rep_who_is_notified(login, rep, people):
    from tuoke.core.models import Notification

    manager = people["manager_east"]
    response = login(manager).post(
        reverse("activities:task_create"),
        {"title": "整理客户资料", "due_on": "2026-11-25", "owner": rep.pk},
    )

    assert response.status_code == 302
    task = Task.objects.get(title="整理客户资料")
    assert task.owner == rep and task.created_by == manager
    note = Notification.objects.get(recipient=rep)
    assert note.kind == "task" and "整理客户资料" in note.title


def test_a_rep_cannot_pick_a_customer_out_of_his_scope(login, rep, people):
    theirs = customer(people["rep_south1"], "南方客户")
    response = login(rep).post(
        reverse("activities:task_create"),
        {"customer": theirs.pk, "title": "偷看", "due_on": "2026-11-25"},
    )
    assert response.status_code == 302
    assert Task.objects.get(title="偷看").customer is None


def test_the_subject_picker_finds_customers_in_scope(login, rep, people):
    customer(rep, "腾达精密")
    customer(people["rep_south1"], "腾达南方")
    html = login(rep).get(reverse("activities:task_subjects"), {"q": "腾达"}).content.decode()
    assert "腾达精密" in html and "腾达南方" not in html


def test_a_task_is_edited_with_its_version_and_deleted_after_confirming(login, rep):
    task = _task(rep, "打电话", DAY)
    client = login(rep)
    edit = reverse("activities:task_edit", args=[task.pk])

    response = client.post(
        edit, {"title": "改天打电话", "due_on": "2026-11-27", "version": task.version}
    )
    assert response.status_code == 302
    task.refresh_from_db()
    assert (task.title, task.due_on.isoformat(), task.version) == ("改天打电话", "2026-11-27", 2)

    stale = client.post(edit, {"title": "再改", "due_on": "2026-11-28", "version": 1})
    assert stale.status_code == 200 and "changed by someone else" in stale.content.decode()

    delete = reverse("activities:task_delete", args=[task.pk])
    assert 'data-testid="confirm"' in client.get(delete).content.decode()
    assert client.post(delete).status_code == 302
    assert Task.all_objects.get(pk=task.pk).deleted_at is not None


def test_administrators_set_the_cadences_and_run_the_plan(login, admin_user, rep):
    customer(rep, "腾达精密", tier="A", touched_days_ago=5)
    client = login(admin_user)
    url = reverse("activities:plan_settings")

    page = client.get(url)
    assert page.status_code == 200 and page.context["form"]["days_A"].value() == 7

    response = client.post(
        url, {"save": "1", "days_A": "3", "days_B": "14", "days_C": "30", "days_none": ""}
    )
    assert response.status_code == 302
    assert dict(Cadence.objects.values_list("tier", "days")) == {"A": 3, "B": 14, "C": 30}

    assert client.post(url, {"run": "1"}).status_code == 302
    assert Task.objects.filter(customer__short_name="腾达精密", source="cadence").exists()


def test_reps_read_the_cadences_but_cannot_change_them(login, rep):
    client = login(rep)
    url = reverse("activities:plan_settings")
    page = client.get(url)
    assert page.status_code == 200 and not page.context["may_edit"]
    assert client.post(url, {"save": "1", "days_A": "1"}).status_code == 403
    assert client.post(url, {"run": "1"}).status_code == 403


def test_a_day_is_named_as_chinese_and_english_readers_expect():
    from datetime import date

    from django.utils import translation

    from tuoke.activities.plan import day_label

    day = date(2026, 11, 24)
    with translation.override("zh-hans"):
        assert day_label(day, relative_to=date(2026, 11, 1)) == "11月24日 周二"
    with translation.override("en"):
        assert day_label(day, relative_to=date(2026, 11, 1)) == "Tue, Nov 24"
