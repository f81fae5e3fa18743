"""Tasks and the daily plan.

The writes on tasks (made by hand, edited, done, undone, deleted); the registry of plan
sources with the two built in ("next_step": follow-ups' next steps that fell due, "cadence":
customers due by their tier's cadence), the generator that turns the sources' drafts into
tasks without duplicates; and the reads of a person's plan and of his team's.

Later apps register their own sources (renewals, overdue payments, customers about to be
recycled) with ``register(PlanSource(key, label, generate))``.
"""

from __future__ import annotations

import time as clock
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any, cast

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import (
    Case,
    CharField,
    Count,
    Exists,
    F,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
    Window,
)
from django.db.models.functions import Cast, Coalesce, Concat, RowNumber
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from tuoke.core import services as core_services
from tuoke.core.errors import ErrorCode, field_error
from tuoke.core.models import Action, Scope
from tuoke.core.scope import require, scope_of
from tuoke.customers.models import Customer, LifecycleStatus
from tuoke.leads.models import Lead, LeadStatus

from .models import Cadence, FollowUp, FollowUpKind, PlanRun, Task

if TYPE_CHECKING:
    from tuoke.org.models import User

CADENCE_SOURCE = "cadence"
NEXT_STEP_SOURCE = "next_step"  # the same key log_follow_up gives the task of a next step
# At most this many customers per rep on his plan by cadence (settings.PLAN_CADENCE_DAILY_CAP).
DEFAULT_CADENCE_CAP = 20
# A next step whose date passed longer ago than this is left to the cadence: on the first
# run after an import it would bury a rep under years-old promises (the task of a next step
# logged in Tuoke is made at once, when it is logged).
NEXT_STEP_LOOKBACK_DAYS = 30
# The follow-up kind the plan suggests for a customer due by cadence.
CADENCE_KIND = "call"
UPCOMING_DAYS = 7
OVERDUE_SHOWN = 20
UNTOUCHED_SHOWN = 10
UNTOUCHED_MIN_DAYS = 7  # "not touched for long" starts a week back
KEY_BATCH = 500


class PlanError(StrEnum):
    """Error codes of tasks, beside the common ``ErrorCode``."""

    OPEN_ALREADY = "open_already"


# --- Days ---------------------------------------------------------------------------------------


def today() -> date:
    return timezone.localdate()


def day_start(day: date) -> datetime:
    """Midnight at the start of ``day`` in the company's time zone."""
    return timezone.make_aware(datetime.combine(day, time.min))


def day_label(day: date, *, relative_to: date | None = None) -> str:
    """A day as people say it: "Today", "Tomorrow", else "Tue, Nov 24" (in Chinese
    "11月24日 周二", through the translation of the format)."""
    if relative_to is not None:
        if day == relative_to:
            return _("Today")
        if day == relative_to + timedelta(days=1):
            return _("Tomorrow")
        if day == relative_to - timedelta(days=1):
            return _("Yesterday")
    weekdays = (
        pgettext("short weekday", "Mon"),
        pgettext("short weekday", "Tue"),
        pgettext("short weekday", "Wed"),
        pgettext("short weekday", "Thu"),
        pgettext("short weekday", "Fri"),
        pgettext("short weekday", "Sat"),
        pgettext("short weekday", "Sun"),
    )
    months = (
        pgettext("short month", "Jan"),
        pgettext("short month", "Feb"),
        pgettext("short month", "Mar"),
        pgettext("short month", "Apr"),
        pgettext("short month", "May"),
        pgettext("short month", "Jun"),
        pgettext("short month", "Jul"),
        pgettext("short month", "Aug"),
        pgettext("short month", "Sep"),
        pgettext("short month", "Oct"),
        pgettext("short month", "Nov"),
        pgettext("short month", "Dec"),
    )
    return _("%(weekday)s, %(month_name)s %(day)s") % {
        "weekday": weekdays[day.weekday()],
        "month_name": months[day.month - 1],
        "month": day.month,
        "day": day.day,
        "year": day.year,
    }


# --- The registry of plan sources ---------------------------------------------------------------


@dataclass(frozen=True)
class Draft:
    """A task a source wants on someone's plan; ``source_key`` says what it is about (one
    open task per owner, source and key)."""

    owner_id: int
    source_key: str
    title: str
    due_on: date
    customer_id: int | None = None
    lead_id: int | None = None
    kind: str = ""  # a FollowUpKind key, pre-filled when the follow-up is logged from the task
    note: str = ""


@dataclass(frozen=True)
class PlanSource:
    """Something that puts tasks on people's plans: ``generate(day)`` yields the drafts of
    that day, read with set-based queries (never a query per customer).

    ``repeats``: whether the same key may come back on a later day once its task was done
    or deleted (a customer due by cadence comes back; a next step, once done, never). A key
    done or deleted on the day itself never comes back that day.
    ``describe(task)`` gives the title shown in the reader's language (else ``task.title``).
    """

    key: str
    label: str | Promise
    generate: Callable[[date], Iterable[Draft]]
    repeats: bool = True
    describe: Callable[[Task], str] | None = None
    order: int = 100


_sources: dict[str, PlanSource] = {}


def register(source: PlanSource) -> None:
    _sources[source.key] = source


def sources() -> list[PlanSource]:
    return sorted(_sources.values(), key=lambda s: (s.order, s.key))


def get_source(key: str) -> PlanSource | None:
    return _sources.get(key)


def source_label(key: str) -> str:
    if key == Task.MANUAL:
        return _("Manual")
    found = _sources.get(key)
    return str(found.label) if found else key


def shown_title(task: Task) -> str:
    """A task's title in the reader's language (a generated task's source may word it)."""
    found = _sources.get(task.source)
    if found is not None and found.describe is not None:
        return found.describe(task)
    return task.title


# --- The generator ------------------------------------------------------------------------------


def cadence_cap() -> int:
    """At most this many customers per rep on his plan by cadence."""
    return int(getattr(settings, "PLAN_CADENCE_DAILY_CAP", DEFAULT_CADENCE_CAP))


def _chunks(items: list, size: int = KEY_BATCH) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _missing(source: PlanSource, drafts: list[Draft], day: date) -> list[Draft]:
    """The drafts with no task yet: none open for the same owner and key, none done or
    deleted that day (and, for sources that do not repeat, none ever)."""
    keys = sorted({d.source_key for d in drafts})
    start = day_start(day)
    blocked: set[tuple[int, str]] = set()
    for chunk in _chunks(keys):
        existing = Task.all_objects.filter(source=source.key, source_key__in=chunk)
        if source.repeats:
            existing = existing.filter(
                Q(done_at__isnull=True, deleted_at__isnull=True)
                | Q(done_at__gte=start)
                | Q(deleted_at__gte=start)
            )
        blocked.update(existing.values_list("owner_id", "source_key"))
    seen: set[tuple[int, str]] = set()
    missing = []
    for draft in drafts:
        mark = (draft.owner_id, draft.source_key)
        if mark not in blocked and mark not in seen:
            seen.add(mark)
            missing.append(draft)
    return missing


def _insert(source: PlanSource, drafts: list[Draft], kinds: dict[str, int]) -> int:
    tasks = [
        Task(
            owner_id=d.owner_id,
            title=d.title[:200],
            note=d.note[:2000],
            due_on=d.due_on,
            customer_id=d.customer_id,
            lead_id=d.lead_id,
            kind_id=kinds.get(d.kind),
            source=source.key,
            source_key=d.source_key[:100],
        )
        for d in drafts
    ]
    with transaction.atomic():
        # A task made meanwhile (a follow-up's next step logged this second) wins.
        Task.objects.bulk_create(tasks, batch_size=KEY_BATCH, ignore_conflicts=True)
    return len(tasks)


def generate_plan(
    day: date | None = None, *, trigger: str = "schedule", only: Iterable[str] | None = None
) -> PlanRun:
    """Put on everyone's plan for ``day`` (default today) the tasks the sources want that
    are not there yet, source by source; a second run the same day makes none. Generated
    tasks are not audited one by one: the PlanRun says what each source made. ``only``:
    these sources alone (an unknown key is refused)."""
    day = day or today()
    wanted = set(only) if only is not None else None
    unknown = sorted(wanted - set(_sources)) if wanted else []
    if unknown:
        raise field_error(
            "sources",
            _("Unknown plan source: %(keys)s") % {"keys": ", ".join(unknown)},
            ErrorCode.INVALID,
        )
    started = timezone.now()
    timer = clock.perf_counter()
    kinds = dict(FollowUpKind.objects.filter(active=True).values_list("key", "pk"))
    counts: dict[str, int] = {}
    for source in sources():
        if wanted is not None and source.key not in wanted:
            continue
        drafts = list(source.generate(day))
        counts[source.key] = _insert(source, _missing(source, drafts, day), kinds)
    return PlanRun.objects.create(
        day=day,
        started_at=started,
        finished_at=started + timedelta(seconds=clock.perf_counter() - timer),
        created=sum(counts.values()),
        counts=counts,
        trigger=trigger[:20],
    )


class _Languages:
    """Titles of generated tasks are written in their owner's language."""

    def __init__(self, owner_ids: Iterable[int]) -> None:
        from tuoke.org.models import User

        self.of = dict(User.objects.filter(pk__in=set(owner_ids)).values_list("pk", "language"))

    def __call__(self, owner_id: int):
        return translation.override(self.of.get(owner_id) or settings.LANGUAGE_CODE)


# --- Source: next steps -------------------------------------------------------------------------


def _newer(subject: str) -> QuerySet[FollowUp]:
    """Follow-ups of the same customer (or lead) after the outer one."""
    return FollowUp.objects.filter(**{f"{subject}_id": OuterRef(f"{subject}_id")}).filter(
        Q(happened_at__gt=OuterRef("happened_at"))
        | Q(happened_at=OuterRef("happened_at"), pk__gt=OuterRef("pk"))
    )


def next_step_drafts(day: date) -> list[Draft]:
    """Follow-ups whose next step fell due by ``day`` (within NEXT_STEP_LOOKBACK_DAYS), the
    newest of their customer or lead (nobody followed up since), whose task was never made."""
    # By key alone (a next step's task is its author's): a condition on the owner too makes
    # SQLite walk the owner's tasks instead of the (source, source_key) index.
    handled = Task.all_objects.filter(
        source=NEXT_STEP_SOURCE,
        source_key=Concat(Value("follow_up:"), Cast(OuterRef("pk"), CharField())),
    )
    on_customer = Q(customer__isnull=False, customer__deleted_at__isnull=True) & ~Exists(
        _newer("customer")
    )
    on_lead = (
        Q(customer__isnull=True, lead__deleted_at__isnull=True)
        & Q(lead__status__in=[LeadStatus.NEW, LeadStatus.WORKING])
        & ~Exists(_newer("lead"))
    )
    rows = (
        FollowUp.objects.filter(
            next_step_on__lte=day,
            next_step_on__gte=day - timedelta(days=NEXT_STEP_LOOKBACK_DAYS),
            owner__is_active=True,
        )
        .filter(on_customer | on_lead)
        .filter(~Exists(handled))
        .order_by()
        .values_list(
            "pk",
            "owner_id",
            "customer_id",
            "lead_id",
            "next_step",
            "next_step_on",
            "kind__key",
            "customer__short_name",
            "customer__legal_name",
            "lead__short_name",
            "lead__company_name",
        )
    )
    rows = list(rows)
    language = _Languages(r[1] for r in rows)
    drafts = []
    for pk, owner, customer, lead, step, due, kind, c_short, c_legal, l_short, l_company in rows:
        title = step
        if not title:
            name = (c_short or c_legal) if customer else (l_short or l_company)
            with language(owner):
                title = _("Follow up with %(name)s") % {"name": name or f"#{customer or lead}"}
        drafts.append(
            Draft(
                owner_id=owner,
                source_key=f"follow_up:{pk}",
                title=title,
                due_on=due,
                customer_id=customer,
                lead_id=lead if not customer else None,
                kind=kind,
            )
        )
    return drafts


# --- Source: cadence ----------------------------------------------------------------------------


def cadences() -> dict[str, int]:
    """Tier ("" for untiered) → days between follow-ups; a tier without one (or 0) is not
    planned by cadence."""
    return {c.tier: c.days for c in Cadence.objects.all() if c.days > 0}


def cadence_drafts(day: date) -> list[Draft]:
    """Customers whose last follow-up (or creation, if never followed up) lies a cadence of
    their tier back, on their owner's plan: at most the cap per rep (counting his open ones),
    the most overdue first; not churned ones, nor those with an open task already."""
    days_of = cadences()
    cap = cadence_cap()
    if not days_of or cap <= 0:
        return []
    tiers = [t for t in days_of if t]
    start = day_start(day)
    due = Q(pk__in=[])
    for tier, days in days_of.items():
        cutoff = day_start(day - timedelta(days=days - 1))
        due |= (Q(tier=tier) if tier else ~Q(tier__in=tiers)) & Q(touched__lt=cutoff)
    # Any open task on the customer (whoever has it) keeps him off; by the customer alone, so
    # that the look-up is one probe of the customer index (with the owner too, SQLite walks
    # the owner's tasks for each of a million customers: 25 s instead of 4 s).
    theirs = Task.all_objects.filter(customer_id=OuterRef("pk"))
    busy = theirs.filter(
        Q(done_at__isnull=True, deleted_at__isnull=True)
        | Q(source=CADENCE_SOURCE) & (Q(done_at__gte=start) | Q(deleted_at__gte=start))
    )
    group = Case(When(tier__in=tiers, then=F("tier")), default=Value(""), output_field=CharField())
    # The first ``cap`` of each owner and tier by the time of their last touch; the tiers are
    # merged below by the day each customer fell due.
    rows = list(
        Customer.objects.exclude(lifecycle_status=LifecycleStatus.CHURNED)
        .filter(owner__is_active=True)
        .annotate(touched=Coalesce("last_follow_up_at", "created_at"))
        .filter(due)
        .filter(~Exists(busy))
        .annotate(
            rank=Window(
                RowNumber(),
                partition_by=[F("owner_id"), group],
                order_by=[F("touched").asc(), F("pk").asc()],
            )
        )
        .filter(rank__lte=cap)
        .order_by()
        .values_list("pk", "owner_id", "tier", "touched", "short_name", "legal_name")
    )
    taken = dict(
        Task.objects.filter(source=CADENCE_SOURCE, done_at__isnull=True)
        .values("owner_id")
        .annotate(n=Count("pk"))
        .values_list("owner_id", "n")
    )
    by_owner: dict[int, list[tuple]] = defaultdict(list)
    for pk, owner, tier, touched, short, legal in rows:
        days = days_of[tier] if tier in tiers else days_of[""]
        fell_due = timezone.localdate(touched) + timedelta(days=days)
        by_owner[owner].append((fell_due, touched, pk, short or legal, days))
    language = _Languages(by_owner)
    drafts = []
    for owner, found in by_owner.items():
        found.sort()
        room = max(cap - taken.get(owner, 0), 0)
        for _fell_due, touched, pk, name, days in found[:room]:
            with language(owner):
                title = _("Regular follow-up: %(customer)s") % {"customer": name or f"#{pk}"}
                since = (day - timezone.localdate(touched)).days
                note = _("Not followed up for %(days)s days (every %(cadence)s days).") % {
                    "days": since,
                    "cadence": days,
                }
            drafts.append(
                Draft(
                    owner_id=owner,
                    source_key=f"customer:{pk}",
                    title=title,
                    due_on=day,
                    customer_id=pk,
                    kind=CADENCE_KIND,
                    note=note,
                )
            )
    return drafts


register(
    PlanSource(
        key=NEXT_STEP_SOURCE,
        label=gettext_lazy("Next steps"),
        generate=next_step_drafts,
        repeats=False,
        order=10,
    )
)
register(
    PlanSource(
        key=CADENCE_SOURCE,
        label=gettext_lazy("Regular follow-ups"),
        generate=cadence_drafts,
        describe=lambda task: _("Regular follow-up"),
        order=20,
    )
)


# --- Cadence settings ---------------------------------------------------------------------------


@transaction.atomic
def set_cadences(values: dict[str, int | None], *, by: User | None) -> list[Cadence]:
    """Days between follow-ups per tier ("" for untiered); None or 0 stops planning that
    tier by cadence (administrators: edit on plan settings)."""
    if by is not None:
        require(by, Cadence.record_type, Action.EDIT)
    for tier, days in values.items():
        tier = (tier or "").strip().upper()[:1]
        if days is not None and (days < 0 or days > 365):
            raise field_error(
                f"days_{tier or 'none'}",
                _("Give a number of days from 1 to 365, or leave it empty."),
                ErrorCode.INVALID,
            )
        current = Cadence.all_objects.filter(tier=tier).first()
        days = days or 0
        if current is None:
            if days:
                core_services.create_record(Cadence, by=by, tier=tier, days=days)
        elif current.deleted_at is not None:
            if days:
                core_services.restore(current, by=by)
                core_services.update_record(current, by=by, days=days)
        elif not days:
            core_services.soft_delete(current, by=by)
        elif current.days != days:
            core_services.update_record(current, by=by, days=days)
    return list(Cadence.objects.all())


# --- Tasks: writes ------------------------------------------------------------------------------


def _people_within(user: User, scope: int) -> QuerySet[User]:
    """The active people a task scope of ``user`` reaches (himself always, unless NONE)."""
    from tuoke.org.models import User as Person

    people = Person.objects.filter(is_active=True)
    if scope <= Scope.NONE:
        return people.none()
    if scope >= Scope.ALL:
        return people
    unit = user.unit if scope > Scope.OWN else None
    if unit is None:
        return people.filter(pk=user.pk)
    if scope == Scope.UNIT:
        return people.filter(Q(unit_id=unit.pk) | Q(pk=user.pk))
    return people.filter(Q(unit__path__startswith=unit.path) | Q(pk=user.pk))


def assignable_users(by: User) -> QuerySet[User]:
    """Whom ``by`` may give a task to: himself, and the active people within the scope his
    roles give him for creating tasks."""
    return _people_within(by, max(scope_of(by, Task.record_type, Action.CREATE), Scope.OWN))


def _check_owner(owner: User, by: User | None) -> None:
    if by is None or owner.pk == by.pk:
        return
    if not assignable_users(by).filter(pk=owner.pk).exists():
        raise field_error("owner", _("You cannot give tasks to this person."), ErrorCode.FORBIDDEN)


def _title(value: str | None) -> str:
    value = (value or "").strip()
    if not value:
        raise field_error("title", _("Say what is to be done."), ErrorCode.REQUIRED)
    if len(value) > 200:
        raise field_error(
            "title",
            _("Ensure this value has at most %(max)s characters.") % {"max": 200},
            ErrorCode.INVALID,
        )
    return value


def _notify_assignee(task: Task, *, by: User | None) -> None:
    if by is None or task.owner_id == by.pk:
        return
    from tuoke.core.notifications import notify

    owner = task.owner
    with translation.override(owner.language or settings.LANGUAGE_CODE):
        notify(
            [owner],
            kind="task",
            title=_("%(person)s gave you a task: %(title)s") % {"person": by, "title": task.title},
            body=task.note[:500],
            url=reverse("activities:today"),
            actor=by,
        )


@transaction.atomic
def create_task(
    *,
    by: User,
    title: str,
    due_on: date | None,
    owner: User | None = None,
    note: str = "",
    customer: Customer | None = None,
    lead: Lead | None = None,
    kind: FollowUpKind | None = None,
) -> Task:
    """A task made by hand, for the creator or someone within his scope (who is notified).
    The caller fetched ``customer`` and ``lead`` through the creator's scope."""
    require(by, Task.record_type, Action.CREATE)
    owner = owner or by
    _check_owner(owner, by)
    if due_on is None:
        raise field_error("due_on", _("Say by when it is to be done."), ErrorCode.REQUIRED)
    task = core_services.create_record(
        Task,
        by=by,
        owner=owner,
        title=_title(title),
        note=(note or "").strip(),
        due_on=due_on,
        customer=customer,
        lead=lead,
        kind=kind,
        source=Task.MANUAL,
    )
    _notify_assignee(task, by=by)
    return task


TASK_FIELDS = frozenset({"title", "note", "due_on", "owner", "customer", "lead", "kind"})


def _refuse_second_open(task: Task, owner_id: int) -> None:
    """A generated task may not open again (or change hands) beside another open task of
    the same owner for the same thing."""
    if task.source == Task.MANUAL:
        return
    others = Task.objects.filter(
        owner_id=owner_id, source=task.source, source_key=task.source_key, done_at__isnull=True
    ).exclude(pk=task.pk)
    if others.exists():
        raise field_error(
            "done_at",
            _("The plan has an open task for this already."),
            cast(ErrorCode, PlanError.OPEN_ALREADY),
        )


def _saved(task: Task, *, by: User | None, expected_version: int | None, **changes: Any) -> Task:
    """update_record, with a second open task for the same plan key refused as an error."""
    if "done_at" in changes or "owner" in changes:
        owner = changes.get("owner")
        still_open = changes.get("done_at", task.done_at) is None
        if still_open:
            _refuse_second_open(task, owner.pk if owner is not None else task.owner_id)
    try:
        with transaction.atomic():
            return core_services.update_record(
                task, by=by, expected_version=expected_version, **changes
            )
    except IntegrityError as exc:
        raise field_error(
            "done_at",
            _("The plan has an open task for this already."),
            cast(ErrorCode, PlanError.OPEN_ALREADY),
        ) from exc


@transaction.atomic
def update_task(
    task: Task, *, by: User | None, expected_version: int | None = None, **changes: Any
) -> Task:
    """Change a task (postpone it, reword it, give it to someone within the scope)."""
    unknown = set(changes) - TASK_FIELDS
    if unknown:
        raise field_error(sorted(unknown)[0], _("This field cannot be changed."), ErrorCode.INVALID)
    if "title" in changes:
        changes["title"] = _title(changes["title"])
    if "note" in changes:
        changes["note"] = (changes["note"] or "").strip()
    if "due_on" in changes and changes["due_on"] is None:
        raise field_error("due_on", _("Say by when it is to be done."), ErrorCode.REQUIRED)
    new_owner = changes.get("owner")
    if new_owner is not None and new_owner.pk != task.owner_id:
        _check_owner(new_owner, by)
    else:
        changes.pop("owner", None)
    task = _saved(task, by=by, expected_version=expected_version, **changes)
    if new_owner is not None and "owner" in changes:
        _notify_assignee(task, by=by)
    return task


@transaction.atomic
def complete_task(
    task: Task,
    *,
    by: User | None,
    follow_up: FollowUp | None = None,
    expected_version: int | None = None,
) -> Task:
    """Tick a task off (with the follow-up that did it, if any); done already is fine."""
    if task.done_at is not None:
        return task
    return _saved(
        task,
        by=by,
        expected_version=expected_version,
        done_at=timezone.now(),
        done_by=by,
        done_with=follow_up,
    )


@transaction.atomic
def reopen_task(task: Task, *, by: User | None, expected_version: int | None = None) -> Task:
    """Undo "done"; refused when the plan made a new open task for the same thing since."""
    if task.done_at is None:
        return task
    return _saved(
        task, by=by, expected_version=expected_version, done_at=None, done_by=None, done_with=None
    )


@transaction.atomic
def delete_task(task: Task, *, by: User | None) -> None:
    """Move a task to the recycle bin (a generated one does not come back that day)."""
    core_services.soft_delete(task, by=by)


def transfer_tasks(tasks: Iterable[Task], *, to: User, reason: str, by: User | None) -> int:
    """Give open tasks to another person (a handover when someone leaves): each move audited
    with the reason; a generated task he has an open twin of already is dropped instead."""
    from tuoke.core import audit
    from tuoke.core.models import AuditEntry

    label = str(Task._meta.get_field("owner").verbose_name)
    note = _("Handed over: %(reason)s") % {"reason": reason}
    moved = 0
    for task in tasks:
        if task.owner_id == to.pk or task.done_at is not None:
            continue
        twin = task.source != Task.MANUAL and (
            Task.objects.filter(
                owner=to, source=task.source, source_key=task.source_key, done_at__isnull=True
            ).exists()
        )
        if twin:
            core_services.soft_delete(task, by=by, note=note)
            continue
        before = str(task.owner)
        Task.all_objects.filter(pk=task.pk).update(owner=to, version=F("version") + 1)
        audit.record(
            task,
            kind=AuditEntry.Kind.UPDATE,
            actor=by,
            changes=[{"field": "owner", "label": label, "old": before, "new": str(to)}],
            note=note,
        )
        moved += 1
    return moved


def register_handover() -> None:
    """Open tasks go with a handover (called from ActivitiesConfig.ready)."""
    from tuoke.org import handover

    handover.register(
        handover.Kind(
            key="tasks",
            label=gettext_lazy("open tasks"),
            record_type=Task.record_type,
            owned_by=lambda person: Task.objects.filter(owner=person, done_at__isnull=True),
            transfer=transfer_tasks,
            order=40,
        )
    )


# --- Reads: a person's plan, his team's ---------------------------------------------------------


@dataclass
class Plan:
    """One person's plan for a day: what is overdue, due that day, coming within a week,
    and what he did that day."""

    person: Any
    day: date
    overdue: list[Task] = field(default_factory=list)
    overdue_count: int = 0
    today: list[Task] = field(default_factory=list)
    upcoming: list[Task] = field(default_factory=list)
    done: list[Task] = field(default_factory=list)
    untouched: list[Customer] = field(default_factory=list)

    @property
    def open_count(self) -> int:
        return self.overdue_count + len(self.today)

    @property
    def is_empty(self) -> bool:
        return not (self.overdue or self.today or self.upcoming or self.done)


def tasks_of(viewer: User) -> QuerySet[Task]:
    return Task.objects.visible_to(viewer).select_related("customer", "lead", "kind", "owner")


def with_status(tasks: QuerySet[Task], status: str, day: date | None = None) -> QuerySet[Task]:
    """The ``tasks`` that are open, overdue (open and due before ``day``), done, or all."""
    if status == "open":
        return tasks.filter(done_at__isnull=True)
    if status == "overdue":
        return tasks.filter(done_at__isnull=True, due_on__lt=day or today())
    if status == "done":
        return tasks.filter(done_at__isnull=False)
    return tasks


def plan_of(viewer: User, person: User, day: date | None = None) -> Plan:
    """``person``'s plan for ``day`` as ``viewer`` may see it (a handful of queries)."""
    day = day or today()
    mine = tasks_of(viewer).filter(owner=person)
    open_tasks = mine.filter(done_at__isnull=True)
    overdue = list(open_tasks.filter(due_on__lt=day).order_by("due_on", "pk")[: OVERDUE_SHOWN + 1])
    overdue_count = len(overdue)
    if overdue_count > OVERDUE_SHOWN:
        overdue_count = open_tasks.filter(due_on__lt=day).count()
    coming = list(
        open_tasks.filter(
            due_on__gte=day, due_on__lte=day + timedelta(days=UPCOMING_DAYS)
        ).order_by("due_on", "pk")
    )
    start = day_start(day)
    done = list(
        mine.filter(done_at__gte=start, done_at__lt=day_start(day + timedelta(days=1))).order_by(
            "-done_at", "-pk"
        )
    )
    return Plan(
        person=person,
        day=day,
        overdue=overdue[:OVERDUE_SHOWN],
        overdue_count=overdue_count,
        today=[t for t in coming if t.due_on == day],
        upcoming=[t for t in coming if t.due_on > day],
        done=done,
        untouched=untouched_customers(viewer, person, day),
    )


def untouched_customers(
    viewer: User, person: User, day: date | None = None, limit: int = UNTOUCHED_SHOWN
) -> list[Customer]:
    """``person``'s customers followed up longest ago (never: since their creation), none
    touched within UNTOUCHED_MIN_DAYS of ``day``."""
    day = day or today()
    return list(
        Customer.objects.visible_to(viewer)
        .filter(owner=person)
        .exclude(lifecycle_status=LifecycleStatus.CHURNED)
        .annotate(touched=Coalesce("last_follow_up_at", "created_at"))
        .filter(touched__lt=day_start(day - timedelta(days=UNTOUCHED_MIN_DAYS - 1)))
        .only("short_name", "legal_name", "tier", "last_follow_up_at", "created_at", "owner_id")
        .order_by("touched", "pk")[:limit]
    )


def uses_today(user: User) -> bool:
    """Whether the home page is the user's Today page: he has tasks or customers (others,
    administrators among them, keep the organisation's home; Today is in the menu)."""
    return Task.objects.filter(owner=user).exists() or Customer.objects.filter(owner=user).exists()


def manages_a_team(user: User) -> bool:
    """Whether ``user`` sees his team's plans: his task scope is wider than his own."""
    return scope_of(user, Task.record_type, Action.VIEW) > Scope.OWN


def team_members(user: User) -> QuerySet[User]:
    """The active people whose plans ``user`` sees: a manager's team (his task scope wider
    than his own), nobody for a rep."""
    scope = scope_of(user, Task.record_type, Action.VIEW)
    return _people_within(user, scope if scope > Scope.OWN else Scope.NONE)


@dataclass
class MemberDay:
    person: Any
    open: int  # due by the day and not done at its end
    overdue: int  # of those, due before the day
    done: int  # done during the day

    @property
    def completion(self) -> int | None:
        """Done that day out of what was to be done by it, in percent."""
        total = self.done + self.open
        return round(100 * self.done / total) if total else None


def team_day(user: User, day: date | None = None) -> list[MemberDay]:
    """Each team member's open, overdue and done tasks for ``day`` (one query for all);
    refused (PermissionDenied) to someone without a team."""
    if not manages_a_team(user):
        raise PermissionDenied(_("Only managers see their team's plans."))
    day = day or today()
    end = day_start(day + timedelta(days=1))
    members = list(team_members(user).select_related("unit").order_by("unit__path", "username"))
    open_at_end = Q(due_on__lte=day, created_at__lt=end) & (
        Q(done_at__isnull=True) | Q(done_at__gte=end)
    )
    counts = {
        row["owner_id"]: row
        for row in Task.objects.visible_to(user)
        .filter(owner__in=[m.pk for m in members])
        .values("owner_id")
        .annotate(
            open=Count("pk", filter=open_at_end),
            overdue=Count("pk", filter=open_at_end & Q(due_on__lt=day)),
            done=Count("pk", filter=Q(done_at__gte=day_start(day), done_at__lt=end)),
        )
    }
    return [
        MemberDay(
            person=m,
            open=counts.get(m.pk, {}).get("open", 0),
            overdue=counts.get(m.pk, {}).get("overdue", 0),
            done=counts.get(m.pk, {}).get("done", 0),
        )
        for m in members
    ]


def team_total(rows: Iterable[MemberDay]) -> MemberDay:
    """The whole team's day: the members' figures added up."""
    rows = list(rows)
    return MemberDay(
        person=None,
        open=sum(r.open for r in rows),
        overdue=sum(r.overdue for r in rows),
        done=sum(r.done for r in rows),
    )
