"""Follow-ups, visits, comments with mentions, tasks and the daily plan's settings.

Follow-ups, visits and comments belong to a customer or a lead and are seen by whoever sees
that customer or lead (and by their author); tasks belong to their assignee (``owner``).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tuoke.core.models import OwnedModel, TrackedModel, through
from tuoke.customers.models import Contact, Customer
from tuoke.leads.models import Lead

ALIVE = Q(deleted_at__isnull=True)

# The kinds every Tuoke starts with: key → (label shown until an administrator renames it, icon).
BUILT_IN_KINDS = {
    "call": (_("Call"), "phone"),
    "visit": (_("Visit"), "map-pin"),
    "wechat": (_("WeChat"), "brand-wechat"),
    "email": (_("E-mail"), "mail"),
    "meeting": (_("Meeting"), "users"),
    "other": (_("Other"), "dots"),
}


class FollowUpKind(TrackedModel):
    """A kind of follow-up (call, visit, WeChat …): an editable list everyone reads."""

    record_type = "follow_up_kind"
    audit_fields = ("name", "icon", "sort_order", "active")

    key = models.SlugField(_("key"), max_length=30, unique=True)
    # Empty for a built-in kind that keeps its translated label.
    name = models.CharField(_("name"), max_length=50, blank=True)
    icon = models.CharField(_("icon"), max_length=30, default="message")
    sort_order = models.IntegerField(_("sort order"), default=0)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("follow-up kind")
        verbose_name_plural = _("follow-up kinds")
        ordering = ["sort_order", "pk"]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        if self.name:
            return self.name
        built_in = BUILT_IN_KINDS.get(self.key)
        return str(built_in[0]) if built_in else self.key

    @classmethod
    def scope_q(cls, user, scope: int) -> Q:
        return Q()


def _subject_q(user, scope: int, *, owner_field: str) -> Q:
    """Rows about a customer or lead in ``user``'s scope, or written by him."""
    return (
        Q(**{owner_field: user})
        | through("customer", Customer.scope_q(user, scope))
        | through("lead", Lead.scope_q(user, scope))
    )


def _subject_shared_q(user, action: str) -> Q | None:
    shared = Customer.shared_q(user, action)
    return through("customer", shared) if shared is not None else None


class FollowUp(OwnedModel):
    """A logged touch with a customer or lead (``owner`` is the rep who logged it)."""

    record_type = "follow_up"
    audit_fields = (
        "kind",
        "happened_at",
        "content",
        "result",
        "next_step",
        "next_step_on",
        "customer",
        "lead",
    )

    customer = models.ForeignKey(
        Customer,
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="follow_ups",
    )
    lead = models.ForeignKey(
        Lead,
        verbose_name=_("lead"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="follow_ups",
    )
    kind = models.ForeignKey(
        FollowUpKind, verbose_name=_("kind"), on_delete=models.PROTECT, related_name="+"
    )
    happened_at = models.DateTimeField(_("when"), default=timezone.now)
    content = models.TextField(_("content"), max_length=5000)
    result = models.CharField(_("result"), max_length=200, blank=True)
    next_step = models.CharField(_("next step"), max_length=200, blank=True)
    next_step_on = models.DateField(_("next step on"), null=True, blank=True)
    contacts = models.ManyToManyField(
        Contact, verbose_name=_("contacts"), blank=True, related_name="follow_ups"
    )

    deleted_at = models.DateTimeField(_("deleted at"), null=True, blank=True)

    class Meta:
        verbose_name = _("follow-up")
        verbose_name_plural = _("follow-ups")
        ordering = ["-happened_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(customer__isnull=False) | Q(lead__isnull=False),
                name="follow_up_has_subject",
            )
        ]
        indexes = [
            models.Index(
                fields=["customer", "-happened_at", "-id"],
                name="follow_up_customer",
                condition=ALIVE,
            ),
            models.Index(
                fields=["lead", "-happened_at", "-id"], name="follow_up_lead", condition=ALIVE
            ),
            models.Index(
                fields=["owner", "-happened_at", "-id"], name="follow_up_owner", condition=ALIVE
            ),
            models.Index(
                fields=["next_step_on", "owner"],
                name="follow_up_next_step",
                condition=ALIVE & Q(next_step_on__isnull=False),
            ),
            models.Index(
                fields=["deleted_at"],
                name="follow_up_deleted",
                condition=Q(deleted_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind}: {self.content[:40]}"

    @classmethod
    def scope_q(cls, user, scope: int) -> Q:
        return _subject_q(user, scope, owner_field="owner")

    @classmethod
    def shared_q(cls, user, action: str) -> Q | None:
        return _subject_shared_q(user, action)


class Visit(OwnedModel):
    """An on-site visit, planned and then done with a check-in (time, and the place if the
    browser gives it); doing it logs its follow-up."""

    record_type = "visit"
    audit_fields = ("customer", "planned_at", "purpose", "status", "checked_in_at", "address")

    class Status(models.TextChoices):
        PLANNED = "planned", _("Planned")
        DONE = "done", _("Done")
        CANCELLED = "cancelled", _("Cancelled")

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="visits"
    )
    contacts = models.ManyToManyField(
        Contact, verbose_name=_("contacts"), blank=True, related_name="visits"
    )
    planned_at = models.DateTimeField(_("planned for"))
    purpose = models.CharField(_("purpose"), max_length=200, blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.PLANNED
    )
    checked_in_at = models.DateTimeField(_("checked in at"), null=True, blank=True)
    latitude = models.DecimalField(
        _("latitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    longitude = models.DecimalField(
        _("longitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    accuracy_m = models.PositiveIntegerField(_("accuracy (m)"), null=True, blank=True)
    address = models.CharField(_("address"), max_length=300, blank=True)
    follow_up = models.OneToOneField(
        FollowUp,
        verbose_name=_("follow-up"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="visit",
    )

    deleted_at = models.DateTimeField(_("deleted at"), null=True, blank=True)

    class Meta:
        verbose_name = _("visit")
        verbose_name_plural = _("visits")
        ordering = ["-planned_at", "-pk"]
        indexes = [
            models.Index(
                fields=["customer", "-planned_at", "-id"], name="visit_customer", condition=ALIVE
            ),
            models.Index(
                fields=["owner", "status", "planned_at"], name="visit_owner", condition=ALIVE
            ),
            models.Index(
                fields=["deleted_at"], name="visit_deleted", condition=Q(deleted_at__isnull=False)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.customer} @ {self.planned_at:%Y-%m-%d %H:%M}"

    @classmethod
    def scope_q(cls, user, scope: int) -> Q:
        return Q(owner=user) | through("customer", Customer.scope_q(user, scope))

    @classmethod
    def shared_q(cls, user, action: str) -> Q | None:
        return _subject_shared_q(user, action)


class Comment(TrackedModel):
    """A remark on a customer or lead (later opportunities and contracts); the people it
    @mentions are notified."""

    record_type = "comment"
    audit_fields = ("body",)

    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    customer = models.ForeignKey(
        Customer,
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="comments",
    )
    lead = models.ForeignKey(
        Lead,
        verbose_name=_("lead"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="comments",
    )
    body = models.TextField(_("comment"), max_length=5000)
    mentions = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("mentioned"), blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("comment")
        verbose_name_plural = _("comments")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(customer__isnull=False) | Q(lead__isnull=False),
                name="comment_has_subject",
            )
        ]
        indexes = [
            models.Index(
                fields=["customer", "-created_at", "-id"], name="comment_customer", condition=ALIVE
            ),
            models.Index(
                fields=["lead", "-created_at", "-id"], name="comment_lead", condition=ALIVE
            ),
        ]

    def __str__(self) -> str:
        return self.body[:40]

    @classmethod
    def scope_q(cls, user, scope: int) -> Q:
        return _subject_q(user, scope, owner_field="author")

    @classmethod
    def shared_q(cls, user, action: str) -> Q | None:
        return _subject_shared_q(user, action)


class Task(OwnedModel):
    """Something a person (``owner``, the assignee) should do by a day: made by hand, or by
    a source of the daily plan (``source``/``source_key`` say which and for what, so that a
    re-run of the plan makes no second open task for the same thing)."""

    record_type = "task"
    audit_fields = ("title", "note", "due_on", "customer", "lead", "owner", "done_at")

    MANUAL = "manual"

    title = models.CharField(_("title"), max_length=200)
    note = models.TextField(_("note"), max_length=2000, blank=True)
    due_on = models.DateField(_("due on"))
    customer = models.ForeignKey(
        Customer,
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="tasks",
    )
    lead = models.ForeignKey(
        Lead,
        verbose_name=_("lead"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="tasks",
    )
    # The kind of follow-up that does the task, pre-filled when it is logged from the task.
    kind = models.ForeignKey(
        FollowUpKind,
        verbose_name=_("kind"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    source = models.CharField(_("source"), max_length=30, default=MANUAL)
    source_key = models.CharField(_("source key"), max_length=100, blank=True)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("done by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    done_with = models.ForeignKey(
        FollowUp,
        verbose_name=_("done with"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="completed_tasks",
    )

    deleted_at = models.DateTimeField(_("deleted at"), null=True, blank=True)

    class Meta:
        verbose_name = _("task")
        verbose_name_plural = _("tasks")
        ordering = ["due_on", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "source", "source_key"],
                condition=Q(done_at__isnull=True, deleted_at__isnull=True) & ~Q(source="manual"),
                name="one_open_task_per_source_key",
            )
        ]
        indexes = [
            models.Index(
                fields=["owner", "done_at", "due_on"], name="task_owner_open", condition=ALIVE
            ),
            models.Index(fields=["customer", "done_at"], name="task_customer", condition=ALIVE),
            # The plan's look-ups by key, also of done and deleted tasks (tuoke.activities.plan).
            models.Index(fields=["source", "source_key"], name="task_source_key"),
            models.Index(
                fields=["deleted_at"], name="task_deleted", condition=Q(deleted_at__isnull=False)
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_done(self) -> bool:
        return self.done_at is not None

    @classmethod
    def scope_q(cls, user, scope: int) -> Q:
        # His own tasks, those of the people in his scope, and those he gave to someone.
        return super().scope_q(user, scope) | Q(created_by=user)


class Cadence(TrackedModel):
    """How often a customer of a tier should be followed up (days); the daily plan puts a
    customer on its owner's plan when that time has passed since the last follow-up."""

    record_type = "plan_setting"
    audit_fields = ("tier", "days")

    # "" is for customers without a tier yet.
    tier = models.CharField(_("tier"), max_length=1, blank=True, unique=True)
    days = models.PositiveIntegerField(_("every (days)"))

    class Meta:
        verbose_name = _("follow-up cadence")
        verbose_name_plural = _("follow-up cadences")
        ordering = ["tier"]

    def __str__(self) -> str:
        return f"{self.tier or '-'}: {self.days}"

    @classmethod
    def scope_q(cls, user, scope: int) -> Q:
        return Q()


DEFAULT_CADENCES = {"A": 7, "B": 14, "C": 30, "": 30}


class PlanRun(models.Model):
    """One run of the daily plan's generator: when, for which day, what it made."""

    day = models.DateField(_("day"))
    started_at = models.DateTimeField(_("started at"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    created = models.PositiveIntegerField(_("tasks made"), default=0)
    counts = models.JSONField(_("tasks per source"), default=dict, blank=True)
    trigger = models.CharField(_("started by"), max_length=20, default="schedule")

    class Meta:
        verbose_name = _("plan run")
        verbose_name_plural = _("plan runs")
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"{self.day}: {self.created}"
