"""Logging a follow-up and what it sets off: the customer's last follow-up time, the
lifecycle hook, the tasks it does and the next step it plans; editing and deleting one;
the follow-up kinds administrators keep."""

from datetime import date, datetime, timedelta

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from tuoke.activities import services
from tuoke.activities.models import FollowUp, FollowUpKind, Task
from tuoke.core.errors import Conflict
from tuoke.core.models import AuditEntry
from tuoke.customers.models import LifecycleChange, LifecycleStatus

from . import records

NOW = datetime(2026, 3, 10, 10, 0, tzinfo=timezone.get_default_timezone())
TODAY = date(2026, 3, 10)


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def rep(people):
    return people["rep_east1"]


@pytest.fixture
def customer(rep):
    return records.customer(rep, contacts=[{"name": "王强"}, {"name": "李娜"}])


def _task(owner, customer, *, due_on, title="回访", **extra):
    from tuoke.core.services import create_record

    return create_record(
        Task, by=owner, owner=owner, title=title, due_on=due_on, customer=customer, **extra
    )


def _codes(exc: ValidationError) -> dict[str, str]:
    return {field: errors[0].code for field, errors in exc.error_dict.items()}


def test_it_logs_a_follow_up_with_its_contacts_and_audits_it(rep, customer):
    wang = customer.contacts.get(name="王强")
    follow_up = services.log_follow_up(
        by=rep,
        customer=customer,
        kind="call",
        content="  电话沟通报价，客户希望月底前看到方案。 ",
        result="有意向",
        contacts=[wang],
    )
    follow_up.refresh_from_db()
    assert follow_up.owner == rep and follow_up.kind.key == "call"
    assert follow_up.content == "电话沟通报价，客户希望月底前看到方案。"
    assert follow_up.happened_at == NOW
    assert list(follow_up.contacts.all()) == [wang]
    assert AuditEntry.objects.filter(object_id=follow_up.pk, kind="create").exists()


def test_it_moves_the_last_follow_up_time_only_forward(rep, customer):
    services.log_follow_up(by=rep, customer=customer, kind="call", content="今天的电话")
    customer.refresh_from_db()
    assert customer.last_follow_up_at == NOW
    version = customer.version

    # A visit of last week logged late leaves the newer time.
    services.log_follow_up(
        by=rep,
        customer=customer,
        kind="visit",
        content="上周的拜访补录",
        happened_at=NOW - timedelta(days=7),
    )
    customer.refresh_from_db()
    assert customer.last_follow_up_at == NOW
    # Not an edit of the customer: nobody's open form goes stale.
    assert customer.version == version


def test_it_makes_a_lead_customer_potential_once(rep):
    customer = records.customer(rep, "线索客户", lifecycle_status=LifecycleStatus.LEAD)
    services.log_follow_up(by=rep, customer=customer, kind="call", content="第一次电话")
    services.log_follow_up(by=rep, customer=customer, kind="call", content="第二次电话")
    customer.refresh_from_db()
    assert customer.lifecycle_status == LifecycleStatus.POTENTIAL
    moves = LifecycleChange.objects.filter(customer=customer, cause="follow_up")
    assert [(m.from_status, m.to_status) for m in moves] == [("lead", "potential")]


def test_it_never_moves_a_customer_back(rep, customer):
    from tuoke.customers.services import advance_lifecycle

    advance_lifecycle(customer, to=LifecycleStatus.INTENT, cause="opportunity_stage")
    services.log_follow_up(by=rep, customer=customer, kind="call", content="电话")
    customer.refresh_from_db()
    assert customer.lifecycle_status == LifecycleStatus.INTENT


def test_it_completes_the_authors_due_tasks_on_that_customer(people, rep, customer):
    overdue = _task(rep, customer, due_on=TODAY - timedelta(days=2))
    today = _task(rep, customer, due_on=TODAY)
    later = _task(rep, customer, due_on=TODAY + timedelta(days=3))
    elsewhere = _task(rep, records.customer(rep, "别家"), due_on=TODAY)
    colleagues = _task(people["rep_east2"], customer, due_on=TODAY)

    follow_up = services.log_follow_up(by=rep, customer=customer, kind="call", content="回访了")

    for task in (overdue, today, later, elsewhere, colleagues):
        task.refresh_from_db()
    assert overdue.done_with == follow_up and overdue.done_by == rep and overdue.done_at == NOW
    assert today.done_with == follow_up
    assert later.done_at is None and elsewhere.done_at is None and colleagues.done_at is None
    assert AuditEntry.objects.filter(object_id=today.pk, kind="update").exists()


def test_it_completes_the_task_it_was_logged_from_even_if_not_due(rep, customer):
    later = _task(rep, customer, due_on=TODAY + timedelta(days=5))
    follow_up = services.log_follow_up(
        by=rep, customer=customer, kind="call", content="提前联系", task=later
    )
    later.refresh_from_db()
    assert later.done_with == follow_up


def test_it_refuses_a_task_about_another_customer(rep, customer):
    other = _task(rep, records.customer(rep, "别家"), due_on=TODAY)
    with pytest.raises(ValidationError) as caught:
        services.log_follow_up(by=rep, customer=customer, kind="call", content="x", task=other)
    assert _codes(caught.value) == {"task": "invalid"}


def test_a_next_step_makes_one_task_and_a_new_one_replaces_it(rep, customer):
    first = services.log_follow_up(
        by=rep,
        customer=customer,
        kind="call",
        content="约了下周演示",
        next_step="上门演示",
        next_step_on=TODAY + timedelta(days=7),
    )
    task = Task.objects.get(source="next_step")
    assert (task.owner, task.title, task.due_on) == (rep, "上门演示", TODAY + timedelta(days=7))
    assert task.customer == customer and task.kind.key == "call"
    assert task.source_key == f"follow_up:{first.pk}"

    # A later follow-up with a new next step replaces the earlier one: one open next step.
    second = services.log_follow_up(
        by=rep,
        customer=customer,
        kind="wechat",
        content="客户改期",
        next_step_on=TODAY + timedelta(days=10),
    )
    task.refresh_from_db()
    assert task.done_with == second
    open_tasks = Task.objects.filter(done_at__isnull=True)
    assert [(t.title, t.due_on) for t in open_tasks] == [
        ("Follow up with 腾达精密", TODAY + timedelta(days=10))
    ]


def test_editing_the_next_step_moves_its_task_and_clearing_it_drops_it(rep, customer):
    follow_up = services.log_follow_up(
        by=rep,
        customer=customer,
        kind="call",
        content="电话",
        next_step="寄样品",
        next_step_on=TODAY + timedelta(days=2),
    )
    follow_up = services.update_follow_up(
        follow_up,
        by=rep,
        expected_version=follow_up.version,
        next_step_on=TODAY + timedelta(days=4),
    )
    task = Task.objects.get(source="next_step")
    assert task.due_on == TODAY + timedelta(days=4) and Task.objects.count() == 1

    services.update_follow_up(follow_up, by=rep, next_step_on=None)
    assert not Task.objects.exists()
    assert Task.all_objects.get().deleted_at is not None


def test_an_update_with_a_stale_version_is_refused(rep, customer):
    follow_up = services.log_follow_up(by=rep, customer=customer, kind="call", content="电话")
    services.update_follow_up(follow_up, by=rep, content="改过")
    stale = FollowUp.objects.get(pk=follow_up.pk)
    stale.version = 1
    with pytest.raises(Conflict):
        services.update_follow_up(stale, by=rep, expected_version=1, content="又改")


def test_only_the_author_or_a_manager_changes_a_follow_up(people, rep, customer):
    follow_up = services.log_follow_up(by=rep, customer=customer, kind="call", content="电话")
    with pytest.raises(PermissionDenied):
        services.update_follow_up(follow_up, by=people["rep_east2"], content="别人改")
    services.update_follow_up(follow_up, by=people["manager_east"], content="经理改")
    follow_up.refresh_from_db()
    assert follow_up.content == "经理改"


def test_deleting_a_follow_up_drops_its_open_next_step(rep, customer):
    follow_up = services.log_follow_up(
        by=rep, customer=customer, kind="call", content="电话", next_step_on=TODAY
    )
    services.delete_follow_up(follow_up, by=rep)
    assert not FollowUp.objects.exists() and FollowUp.all_objects.get().deleted_at is not None
    assert not Task.objects.exists()


@pytest.mark.parametrize(
    "given,field,code",
    [
        ({"customer": None}, "customer", "required"),
        ({"content": "   "}, "content", "required"),
        ({"kind": "telepathy"}, "kind", "invalid"),
        ({"happened_at": NOW + timedelta(hours=2)}, "happened_at", "in_future"),
        ({"next_step_on": TODAY - timedelta(days=1)}, "next_step_on", "invalid"),
    ],
)
def test_it_refuses_what_makes_no_sense(rep, customer, given, field, code):
    facts = {"by": rep, "customer": customer, "kind": "call", "content": "电话", **given}
    with pytest.raises(ValidationError) as caught:
        services.log_follow_up(**facts)
    assert _codes(caught.value) == {field: code}
    assert not FollowUp.all_objects.exists()


def test_it_refuses_a_contact_of_another_customer(rep, customer):
    other = records.customer(rep, "别家", contacts=[{"name": "赵六"}])
    with pytest.raises(ValidationError) as caught:
        services.log_follow_up(
            by=rep, customer=customer, kind="call", content="x", contacts=[other.contacts.get()]
        )
    assert _codes(caught.value) == {"contacts": "invalid"}


def test_it_logs_a_follow_up_on_a_lead_and_completes_its_tasks(people, rep):
    from tuoke.core.services import create_record
    from tuoke.leads.services import create_lead

    lead = create_lead(by=rep, company_name="杭州云栖科技有限公司", owner=rep)
    task = create_record(Task, by=rep, owner=rep, title="联系线索", due_on=TODAY, lead=lead)
    follow_up = services.log_follow_up(by=rep, lead=lead, kind="call", content="打了电话")
    task.refresh_from_db()
    assert follow_up.lead == lead and follow_up.customer is None
    assert task.done_with == follow_up


def test_an_inactive_kind_is_refused_for_new_follow_ups(admin_user, rep, customer):
    wechat = FollowUpKind.objects.get(key="wechat")
    services.set_kind_active(wechat, by=admin_user, active=False)
    with pytest.raises(ValidationError) as caught:
        services.log_follow_up(by=rep, customer=customer, kind="wechat", content="x")
    assert _codes(caught.value) == {"kind": "inactive_kind"}


# --- Kinds --------------------------------------------------------------------------------------


def test_an_administrator_adds_renames_orders_and_deactivates_kinds(admin_user):
    fair = services.create_kind(by=admin_user, name="展会交流", icon="building-store")
    assert fair.key and fair.label == "展会交流" and fair.active
    assert list(services.active_kinds())[-1] == fair

    services.move_kind(fair, by=admin_user, step=-1)
    keys = list(services.active_kinds().values_list("key", flat=True))
    assert keys.index(fair.key) == len(keys) - 2

    call = FollowUpKind.objects.get(key="call")
    services.update_kind(call, by=admin_user, name="电话拜访")
    call.refresh_from_db()
    assert call.label == "电话拜访" and call.key == "call"

    services.set_kind_active(fair, by=admin_user, active=False)
    assert fair not in services.active_kinds()


def test_kind_names_are_unique_and_one_kind_stays(admin_user):
    with pytest.raises(ValidationError) as caught:
        services.create_kind(by=admin_user, name="Call")
    assert _codes(caught.value) == {"name": "duplicate"}
    kinds = list(services.active_kinds())
    for kind in kinds[:-1]:
        services.set_kind_active(kind, by=admin_user, active=False)
    with pytest.raises(ValidationError) as caught:
        services.set_kind_active(kinds[-1], by=admin_user, active=False)
    assert _codes(caught.value) == {"active": "last_kind"}


def test_only_administrators_change_kinds(rep):
    with pytest.raises(PermissionDenied):
        services.create_kind(by=rep, name="闲聊")
