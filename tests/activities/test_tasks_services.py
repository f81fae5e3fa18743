"""Task services: manual tasks within the creator's scope (the assignee notified), edits with
a version, done and undone, soft delete, all audited; the scope of tasks; and the ways the
plan runs: `tuoke plan today`, the Celery task and its place in the beat schedule."""

from datetime import timedelta
from io import StringIO

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.http import Http404

from tuoke.activities import plan
from tuoke.activities.models import PlanRun, Task
from tuoke.core.audit import trail_of
from tuoke.core.errors import Conflict
from tuoke.core.models import Notification
from tuoke.core.scope import get_for

from .plan_records import DAY, NOW, customer


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def rep(people):
    return people["rep_east1"]


def _codes(exc: ValidationError) -> dict[str, str]:
    return {field: errors[0].code for field, errors in exc.error_dict.items()}


def test_a_rep_makes_himself_a_task_audited(rep):
    target = customer(rep, "腾达精密")
    task = plan.create_task(by=rep, title="  准备方案 ", due_on=DAY, customer=target, note="周四")

    assert (task.owner, task.title, task.source, task.customer) == (
        rep,
        "准备方案",
        "manual",
        target,
    )
    assert trail_of(task).filter(kind="create").exists()
    assert not Notification.objects.exists()  # nobody to tell


def test_the_assignee_must_be_within_the_creators_scope(rep, people):
    with pytest.raises(ValidationError) as refused:
        plan.create_task(by=rep, title="帮我打个电话", due_on=DAY, owner=people["rep_east2"])
    assert _codes(refused.value) == {"owner": "forbidden"}

    manager = people["manager_east"]
    plan.create_task(by=manager, title="整理资料", due_on=DAY, owner=rep)
    with pytest.raises(ValidationError):
        plan.create_task(by=manager, title="华南的事", due_on=DAY, owner=people["rep_south1"])
    # The director's scope is the sales department with its teams.
    plan.create_task(
        by=people["director"], title="华南的事", due_on=DAY, owner=people["rep_south1"]
    )


def test_the_assignee_is_notified_in_his_language(rep, people):
    rep.language = "zh-hans"
    rep.save(update_fields=["language"])
    plan.create_task(by=people["manager_east"], title="整理资料", due_on=DAY, owner=rep)

    note = Notification.objects.get(recipient=rep)
    assert note.kind == "task" and note.actor == people["manager_east"]
    assert "整理资料" in note.title and note.url == "/activities/today/"


def test_it_needs_a_title_and_a_day(rep):
    with pytest.raises(ValidationError) as refused:
        plan.create_task(by=rep, title=" ", due_on=DAY)
    assert _codes(refused.value) == {"title": "required"}
    with pytest.raises(ValidationError) as refused:
        plan.create_task(by=rep, title="x", due_on=None)
    assert _codes(refused.value) == {"due_on": "required"}


def test_people_without_the_grant_make_no_tasks(people):
    from tuoke.org.models import Role

    clerk = people["cs1"]
    role = clerk.roles.get()
    role.grants.filter(record_type="task").delete()
    clerk = type(clerk).objects.get(pk=clerk.pk)  # grants are cached on the user
    assert Role.objects.filter(pk=role.pk).exists()
    with pytest.raises(PermissionDenied):
        plan.create_task(by=clerk, title="x", due_on=DAY)


def test_edits_check_the_version_and_are_audited(rep):
    task = plan.create_task(by=rep, title="打电话", due_on=DAY)

    plan.update_task(task, by=rep, expected_version=1, due_on=DAY + timedelta(days=2))
    task.refresh_from_db()
    assert task.due_on == DAY + timedelta(days=2) and task.version == 2
    entry = trail_of(task).get(kind="update")
    assert entry.changes[0]["field"] == "due_on"

    with pytest.raises(Conflict):
        plan.update_task(task, by=rep, expected_version=1, title="改")
    with pytest.raises(ValidationError) as refused:
        plan.update_task(task, by=rep, source="cadence")
    assert _codes(refused.value) == {"source": "invalid"}


def test_done_and_undone(rep):
    task = plan.create_task(by=rep, title="打电话", due_on=DAY)

    plan.complete_task(task, by=rep)
    task.refresh_from_db()
    assert task.done_at == NOW and task.done_by == rep and task.is_done
    plan.complete_task(task, by=rep)  # twice is fine
    assert Task.objects.get(pk=task.pk).version == 2

    plan.reopen_task(task, by=rep)
    task.refresh_from_db()
    assert task.done_at is None and task.done_by is None


def test_reassigning_a_generated_task_onto_an_open_twin_is_refused(rep, people):
    manager = people["manager_east"]
    target = customer(rep, "腾达精密", tier="A", touched_days_ago=10)
    plan.generate_plan(DAY)
    twin = plan.create_task(by=manager, title="x", due_on=DAY, owner=manager)
    Task.objects.filter(pk=twin.pk).update(source="cadence", source_key=f"customer:{target.pk}")
    generated = Task.objects.get(owner=rep, source="cadence")

    with pytest.raises(ValidationError) as refused:
        plan.update_task(generated, by=manager, owner=manager)
    assert _codes(refused.value) == {"done_at": "open_already"}


def test_deleting_moves_it_to_the_recycle_bin(rep):
    task = plan.create_task(by=rep, title="打电话", due_on=DAY)
    plan.delete_task(task, by=rep)
    assert Task.all_objects.get(pk=task.pk).deleted_at == NOW
    assert not Task.objects.filter(pk=task.pk).exists()


def test_a_rep_sees_his_tasks_and_those_he_gave_a_manager_his_teams(rep, people):
    mine = plan.create_task(by=rep, title="我的", due_on=DAY)
    colleague = plan.create_task(by=people["rep_east2"], title="同事的", due_on=DAY)
    south = plan.create_task(by=people["rep_south1"], title="华南的", due_on=DAY)

    assert set(Task.objects.visible_to(rep)) == {mine}
    with pytest.raises(Http404):
        get_for(rep, Task, colleague.pk)
    assert set(Task.objects.visible_to(people["manager_east"])) == {mine, colleague}
    assert set(Task.objects.visible_to(people["director"])) == {mine, colleague, south}


def test_team_members_follow_the_task_scope(rep, people):
    assert not plan.team_members(rep).exists()
    east = {u.username for u in plan.team_members(people["manager_east"])}
    assert east == {"manager_east", "rep_east1", "rep_east2"}
    assert {"rep_south1", "manager_south"} <= {
        u.username for u in plan.team_members(people["boss"])
    }


# --- Running the plan ---------------------------------------------------------------------------


def test_tuoke_plan_today(rep):
    customer(rep, "腾达精密", tier="A", touched_days_ago=10)
    out = StringIO()

    call_command("plan", "today", stdout=out)

    assert "Plan for 2026-11-24" in out.getvalue() and "1 tasks made" in out.getvalue()
    run = PlanRun.objects.get()
    # (Other apps' sources, registered too, make none here.)
    assert run.trigger == "command" and run.counts["cadence"] == 1
    assert run.counts["next_step"] == 0 and run.created == 1

    call_command("plan", "today", stdout=StringIO())
    assert PlanRun.objects.order_by("-pk").first().created == 0


def test_tuoke_plan_for_another_day_and_source(rep):
    customer(rep, "腾达精密", tier="A", touched_days_ago=3)
    call_command("plan", "--day", "2026-11-28", "--source", "cadence", stdout=StringIO())

    run = PlanRun.objects.get()
    assert run.day.isoformat() == "2026-11-28" and run.counts == {"cadence": 1}
    assert Task.objects.get().due_on.isoformat() == "2026-11-28"


def test_tuoke_plan_refuses_bad_input():
    from django.core.management import CommandError

    with pytest.raises(CommandError):
        call_command("plan", "--day", "24.11.2026", stdout=StringIO())
    with pytest.raises(CommandError):
        call_command("plan", "--source", "renewals", stdout=StringIO())


def test_the_console_command_runs_it(rep):
    from django.core.management import call_command

    customer(rep, "腾达精密", tier="A", touched_days_ago=10)
    call_command("plan", "today")  # `tuoke plan today`
    assert Task.objects.filter(source="cadence").count() == 1


def test_the_scheduled_job(rep):
    from tuoke.activities.tasks import generate_plan_task
    from tuoke.celery import app

    customer(rep, "腾达精密", tier="A", touched_days_ago=10)

    # (Other apps' sources, registered too, make none here.)
    first = generate_plan_task.delay().get()
    assert (first["next_step"], first["cadence"], sum(first.values())) == (0, 1, 1)
    assert set(generate_plan_task.delay("2026-11-24").get().values()) == {0}
    assert PlanRun.objects.filter(trigger="schedule").count() == 2

    entry = app.conf.beat_schedule["generate-daily-plan"]
    assert entry["task"] == "tuoke.activities.tasks.generate_plan_task"
    assert entry["schedule"].hour == {6} and entry["schedule"].minute == {0}


def test_open_tasks_go_with_a_handover(rep, people):
    from tuoke.org.handover import hand_over

    colleague = people["rep_east2"]
    open_task = plan.create_task(by=rep, title="打电话", due_on=DAY)
    done = plan.complete_task(plan.create_task(by=rep, title="做完了", due_on=DAY), by=rep)
    target = customer(rep, "腾达精密", tier="A", touched_days_ago=10)
    plan.generate_plan(DAY)
    generated = Task.objects.get(owner=rep, source="cadence")
    # The colleague has the same customer on his plan already: the leaver's copy is dropped.
    twin = plan.create_task(by=colleague, title="x", due_on=DAY)
    Task.objects.filter(pk=twin.pk).update(source="cadence", source_key=f"customer:{target.pk}")

    moved = hand_over(rep, to=colleague, reason="调岗", by=people["manager_east"])

    assert moved["tasks"] == 1
    open_task.refresh_from_db()
    assert open_task.owner == colleague
    assert trail_of(open_task).filter(kind="update", note__contains="调岗").exists()
    assert Task.objects.get(pk=done.pk).owner == rep  # history stays
    assert Task.all_objects.get(pk=generated.pk).deleted_at is not None
