"""The demo's activities: a year of follow-ups along the sale for the demo customers, visits
done (checked in where the customer is), planned and cancelled, comments where colleagues
@mention each other, next steps open (some overdue) and today's plans ready; running it
again adds nothing."""

import random
from collections import Counter
from datetime import timedelta

import pytest
from django.db.models import Count, F, Max, Q
from django.utils import timezone

from tuoke.activities import demo
from tuoke.activities.models import Comment, FollowUp, PlanRun, Task, Visit
from tuoke.activities.plan import generate_plan
from tuoke.core.models import Notification
from tuoke.customers.models import Customer, LifecycleStatus

REPS = ("rep_east1", "rep_east2", "rep_south1", "rep_south2")


@pytest.fixture
def built(whole_demo):
    return {
        "people": whole_demo.people,
        "made": whole_demo.made["activities"],
        "again": whole_demo.again["activities"],
        "counts": _counts(),
    }


# One build of the demo for the package, on one worker (see conftest.py).
pytestmark = [pytest.mark.django_db, pytest.mark.xdist_group("demo")]


def _counts() -> dict[str, int]:
    return {model.__name__: model.all_objects.count() for model in (FollowUp, Visit, Comment, Task)}


def test_it_logs_a_year_of_follow_ups_for_the_demo_customers(built):
    now = timezone.now()
    follow_ups = FollowUp.objects.all()
    assert built["made"]["follow_ups"] == follow_ups.count() > 1000
    moments = list(follow_ups.values_list("happened_at", flat=True))
    assert max(moments) <= now and (max(moments) - min(moments)).days > 300
    months = {timezone.localtime(m).strftime("%Y-%m") for m in moments}
    assert len(months) >= 12
    # Each logged by its customer's owner, after the customer was made.
    assert not follow_ups.exclude(owner=F("customer__owner")).exists()
    assert not follow_ups.filter(happened_at__lt=F("customer__created_at")).exists()
    kinds = Counter(follow_ups.values_list("kind__key", flat=True))
    assert set(kinds) == {"call", "visit", "wechat", "email", "meeting", "other"}
    assert kinds.most_common(1)[0][1] < follow_ups.count() / 2


def test_the_content_moves_along_the_sale(built):
    contents = list(FollowUp.objects.values_list("content", flat=True))
    for stage in ("初次电话沟通", "需求调研", "方案演示", "报价", "商务谈判", "合同细节确认"):
        assert any(stage in text for text in contents), stage
    assert any("售后回访" in text for text in contents)
    assert len(set(contents)) > 300
    assert FollowUp.objects.exclude(result="").count() > FollowUp.objects.count() / 2
    # A signed customer's history starts with a first touch and reaches the after-sales.
    signed = Customer.objects.filter(lifecycle_status=LifecycleStatus.SIGNED).annotate(
        n=Count("follow_ups")
    )
    customer = signed.filter(n__gte=8).first()
    texts = list(customer.follow_ups.order_by("happened_at").values_list("content", flat=True))
    assert "售后" in texts[-1] or "回访" in "".join(texts[-3:])
    # Customers still "lead" have not been touched.
    assert not FollowUp.objects.filter(customer__lifecycle_status=LifecycleStatus.LEAD).exists()


def test_each_customers_last_follow_up_time_is_its_newest_follow_up(built):
    customers = Customer.objects.filter(owner__username__in=demo.OWNERS).annotate(
        newest=Max("follow_ups__happened_at")
    )
    with_history = [c for c in customers if c.newest is not None]
    assert len(with_history) > 250
    assert all(c.last_follow_up_at == c.newest for c in with_history)
    assert all(c.last_follow_up_at is None for c in customers if c.newest is None)


def test_visits_are_done_with_a_check_in_in_the_customers_city(built):
    done = Visit.objects.filter(status=Visit.Status.DONE).select_related("customer", "follow_up")
    assert done.count() > 100
    for visit in done:
        assert visit.follow_up.kind.key == "visit"
        assert visit.checked_in_at == visit.follow_up.happened_at
        assert visit.planned_at <= visit.checked_in_at <= timezone.now()
        assert visit.owner_id == visit.customer.owner_id
    placed = done.exclude(address="")
    assert placed.count() > done.count() * 0.8
    for visit in placed:
        assert visit.customer.city in visit.address
        lat, lon, _districts = demo.CITY_PLACES[visit.customer.city]
        assert abs(float(visit.latitude) - lat) < 0.1 and abs(float(visit.longitude) - lon) < 0.1
        assert 0 < visit.accuracy_m < 100
    # Some without a place: the browser would not say.
    assert done.filter(address="", latitude__isnull=True).exists()


def test_visits_are_planned_for_the_coming_days_and_a_few_were_cancelled(built):
    now = timezone.now()
    ahead = Visit.objects.filter(status=Visit.Status.PLANNED)
    assert ahead.count() >= 10
    assert all(now < v.planned_at < now + timedelta(days=7) for v in ahead)
    assert {v.owner.username for v in ahead} >= set(REPS)
    cancelled = Visit.objects.filter(status=Visit.Status.CANCELLED)
    assert 3 <= cancelled.count() <= 10
    assert all(v.planned_at < now and v.created_at < v.planned_at for v in cancelled)


def test_comments_mention_colleagues_of_the_same_unit(built):
    comments = Comment.objects.prefetch_related("mentions").select_related("author")
    assert comments.count() > 20
    assert all(c.created_at <= timezone.now() for c in comments)
    for comment in comments:
        (mentioned,) = comment.mentions.all()
        assert mentioned.unit_id is not None and mentioned.unit_id == comment.author.unit_id
        assert f"@{mentioned.display_name}" in comment.body
    authors = {c.author.username for c in comments}
    assert authors & {"manager_east", "manager_south"} and authors & set(REPS)
    # Each mention reached its colleague: the comment, or (out of his sight) whom to ask.
    notes = Notification.objects.filter(kind="mention")
    assert notes.count() == sum(c.mentions.count() for c in comments)
    assert notes.exclude(body="").exists()
    assert (
        notes.filter(read_at__isnull=True).exists() and notes.filter(read_at__isnull=False).exists()
    )
    blind = notes.filter(body="")
    assert all("/customers/access-requests/new/" in n.url for n in blind)


def test_next_steps_are_open_and_some_overdue(built):
    today = timezone.localdate()
    next_steps = Task.objects.filter(source="next_step")
    open_ones = next_steps.filter(done_at__isnull=True)
    assert open_ones.filter(due_on__lt=today).count() >= 5
    assert open_ones.filter(due_on__gt=today).count() >= 5
    # Earlier ones were done by the customer's next follow-up.
    done = next_steps.filter(done_at__isnull=False).select_related("done_with")
    assert done.count() > 100
    assert all(t.done_with.customer_id == t.customer_id for t in done)
    assert all(t.done_at == t.done_with.happened_at for t in done)
    # One open next step per customer at most: his newest follow-up's.
    per_customer = Counter(open_ones.values_list("customer_id", flat=True))
    assert max(per_customer.values()) == 1


def test_every_demo_rep_has_tasks_for_today(built):
    today = timezone.localdate()
    run = PlanRun.objects.filter(trigger="demo").order_by("pk").first()
    assert run.day == today and run.created > 0
    for rep in REPS:
        due = Task.objects.filter(owner__username=rep, done_at__isnull=True, due_on=today)
        assert due.exists(), rep
    assert (
        Task.objects.filter(
            Q(source="cadence") | Q(source="next_step"), due_on=today, done_at__isnull=True
        ).count()
        > 20
    )


def test_running_it_again_adds_nothing(built):
    assert built["again"] == {"plan_tasks": 0}
    assert _counts() == built["counts"]
    assert generate_plan(day=timezone.localdate(), trigger="demo").created == 0
    assert _counts() == built["counts"]


def test_a_customers_history_is_drawn_from_a_fixed_seed(built):
    customer = Customer.objects.filter(lifecycle_status=LifecycleStatus.INTENT).first()
    now = timezone.now()

    def draw():
        rng = random.Random(f"{demo.SEED}:{customer.legal_name}")
        demo._place(rng, customer)
        return [(s.kind, s.at, s.content) for s in demo._history(rng, customer, [], {}, "", now)]

    assert draw() == draw()
