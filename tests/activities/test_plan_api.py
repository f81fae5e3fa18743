"""The tasks and plan API: tasks (list with filters in constant queries, create, read, edit
with a version, delete, complete, reopen) within the data scope, the caller's plan, the
team's day for managers, the cadences and running the plan for administrators."""

from datetime import timedelta

import pytest
import time_machine

from tests.api.conftest import ApiClient, assert_error
from tuoke.activities import plan
from tuoke.activities.models import Task

from .plan_records import DAY, NOW, customer


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def rep(people):
    return people["rep_east1"]


def api(user) -> ApiClient:
    from tests.activities.records import api as make

    return make(user)


def _task(owner, title, due_on=DAY, **extra):
    by = extra.pop("by", owner)
    return plan.create_task(by=by, title=title, due_on=due_on, owner=owner, **extra)


def test_a_rep_creates_reads_and_completes_a_task(rep):
    target = customer(rep, "腾达精密")
    client = api(rep)

    created = client.post(
        "/tasks",
        {
            "title": "准备技术方案",
            "due_on": "2026-11-26",
            "customer_id": target.pk,
            "kind": "meeting",
            "note": "周四前发采购",
        },
    )

    assert created.status_code == 201, created.content
    body = created.json()
    assert body["title"] == body["display_title"] == "准备技术方案"
    assert body["customer"] == {"id": target.pk, "name": "腾达精密"}
    assert body["owner"]["username"] == "rep_east1" and body["source"] == "manual"
    assert body["kind"] == "meeting" and body["done"] is False and body["version"] == 1

    done = client.post(f"/tasks/{body['id']}/complete", {})
    assert done.status_code == 200 and done.json()["done"] is True
    assert done.json()["done_by"]["username"] == "rep_east1"

    again = client.post(f"/tasks/{body['id']}/reopen")
    assert again.status_code == 200 and again.json()["done"] is False
    assert client.get(f"/tasks/{body['id']}").json()["version"] == 3


def test_it_refuses_bad_input_naming_the_fields(rep, people):
    client = api(rep)
    assert_error(client.post("/tasks", {"due_on": "2026-11-26"}), 400, "title", "required")
    assert_error(
        client.post("/tasks", {"title": "x", "due_on": "2026-11-26", "kind": "fax"}), 400, "kind"
    )
    # A rep gives tasks to himself only.
    assert_error(
        client.post(
            "/tasks", {"title": "x", "due_on": "2026-11-26", "owner_id": people["rep_east2"].pk}
        ),
        400,
        "owner_id",
        "forbidden",
    )
    theirs = customer(people["rep_south1"], "南方客户")
    assert_error(
        client.post("/tasks", {"title": "x", "due_on": "2026-11-26", "customer_id": theirs.pk}),
        400,
        "customer_id",
    )


def test_a_manager_gives_a_task_to_his_rep(rep, people):
    response = api(people["manager_east"]).post(
        "/tasks", {"title": "整理资料", "due_on": "2026-11-25", "owner_id": rep.pk}
    )
    assert response.status_code == 201
    assert response.json()["owner"]["id"] == rep.pk
    assert response.json()["created_by"]["username"] == "manager_east"
    # The rep sees it; so does the manager among the tasks he gave.
    assert [t["title"] for t in api(rep).get("/tasks").json()["items"]] == ["整理资料"]
    given = api(people["manager_east"]).get("/tasks", {"given": "true"}).json()["items"]
    assert [t["title"] for t in given] == ["整理资料"]


def test_tasks_out_of_scope_are_404(rep, people):
    theirs = _task(people["rep_east2"], "同事的任务")
    client = api(rep)

    for response in (
        client.get(f"/tasks/{theirs.pk}"),
        client.patch(f"/tasks/{theirs.pk}", {"version": 1, "title": "改"}),
        client.post(f"/tasks/{theirs.pk}/complete"),
        client.post(f"/tasks/{theirs.pk}/reopen"),
        client.delete(f"/tasks/{theirs.pk}"),
    ):
        assert_error(response, 404)
    theirs.refresh_from_db()
    assert theirs.title == "同事的任务" and theirs.done_at is None and theirs.deleted_at is None
    assert_error(client.get("/tasks", {"owner": people["rep_east2"].pk}), 400, "owner")


def test_a_task_is_edited_with_its_version(rep):
    task = _task(rep, "打电话")
    client = api(rep)

    edited = client.patch(f"/tasks/{task.pk}", {"version": 1, "due_on": "2026-11-27"})
    assert edited.status_code == 200 and edited.json()["due_on"] == "2026-11-27"
    assert_error(client.patch(f"/tasks/{task.pk}", {"version": 1, "title": "再改"}), 409, "version")
    assert_error(client.patch(f"/tasks/{task.pk}", {"title": "再改"}), 400, "version", "required")
    assert_error(client.patch(f"/tasks/{task.pk}", {"version": 2, "title": None}), 400, "title")

    assert client.delete(f"/tasks/{task.pk}").status_code == 204
    assert Task.all_objects.get(pk=task.pk).deleted_at is not None


def test_reopening_a_generated_task_made_again_is_refused(rep):
    customer(rep, "腾达精密", tier="A", touched_days_ago=10)
    plan.generate_plan(DAY - timedelta(days=1))
    first = Task.objects.get()
    plan.complete_task(first, by=rep)
    with time_machine.travel(NOW + timedelta(days=1), tick=False):
        plan.generate_plan()  # done yesterday without a follow-up: due again today

        response = api(rep).post(f"/tasks/{first.pk}/reopen")

    assert_error(response, 400, "done_at", "open_already")


def test_the_list_filters_and_takes_constant_queries(
    rep, django_assert_max_num_queries, django_assert_num_queries
):
    target = customer(rep, "腾达精密")
    for n in range(3):
        _task(rep, f"任务{n}", DAY + timedelta(days=n - 1), customer=target)
    plan.complete_task(Task.objects.get(title="任务2"), by=rep)
    client = api(rep)

    def titles(**params):
        return [t["title"] for t in client.get("/tasks", params).json()["items"]]

    assert titles() == ["任务0", "任务1"]
    assert titles(status="overdue") == ["任务0"]
    assert titles(status="done") == ["任务2"]
    assert titles(status="all", due_from="2026-11-24") == ["任务1", "任务2"]
    assert titles(status="all", q="任务1") == ["任务1"]
    assert titles(customer_id=target.pk, source="manual") == ["任务0", "任务1"]

    client.get("/tasks")
    with django_assert_max_num_queries(8) as few:
        client.get("/tasks", {"status": "all"})
    for n in range(10):
        _task(rep, f"更多{n}", DAY, customer=target)
    with django_assert_num_queries(len(few)):
        client.get("/tasks", {"status": "all"})


def test_my_plan_for_today(rep):
    target = customer(rep, "腾达精密", tier="A", touched_days_ago=10)
    plan.generate_plan(DAY)
    _task(rep, "逾期", DAY - timedelta(days=3))
    _task(rep, "后天", DAY + timedelta(days=2))

    body = api(rep).get("/plan/today").json()

    assert body["day"] == "2026-11-24"
    assert [t["title"] for t in body["overdue"]] == ["逾期"] and body["overdue_count"] == 1
    assert [t["display_title"] for t in body["today"]] == ["Regular follow-up"]
    assert body["today"][0]["source"] == "cadence" and body["today"][0]["kind"] == "call"
    assert [t["title"] for t in body["upcoming"]] == ["后天"]
    assert body["done"] == []
    assert body["untouched_customers"][0]["id"] == target.pk


def test_managers_see_their_teams_day_reps_do_not(rep, people):
    _task(rep, "今天", DAY)
    plan.complete_task(_task(rep, "做完", DAY), by=rep)

    body = api(people["manager_east"]).get("/plan/team", {"day": "2026-11-24"}).json()

    members = {m["user"]["username"]: m for m in body["members"]}
    assert set(members) == {"manager_east", "rep_east1", "rep_east2"}
    assert members["rep_east1"] | {"user": None} == {
        "user": None,
        "open": 1,
        "overdue": 0,
        "done": 1,
        "completion": 50,
    }
    assert_error(api(rep).get("/plan/team"), 403)


def test_administrators_run_the_plan_and_set_cadences(rep, admin_user):
    customer(rep, "腾达精密", tier="A", touched_days_ago=5)
    client = api(admin_user)

    cadences = client._call("put", "/plan/cadences", {"cadences": {"A": 3, "": None}})
    assert cadences.status_code == 200, cadences.content
    assert {c["tier"]: c["days"] for c in cadences.json()} == {"A": 3, "B": 14, "C": 30}

    run = client.post("/plan/run", {"day": "2026-11-24"})
    assert run.status_code == 200
    assert run.json()["created"] == 1 and run.json()["counts"]["cadence"] == 1
    assert client.post("/plan/run").json()["created"] == 0
    assert_error(client.post("/plan/run", {"sources": ["renewals"]}), 400, "sources")

    assert_error(api(rep).post("/plan/run"), 403)
    assert_error(api(rep)._call("put", "/plan/cadences", {"cadences": {"A": 1}}), 403)
    assert len(api(rep).get("/plan/cadences").json()) == 3
