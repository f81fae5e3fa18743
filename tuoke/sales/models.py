"""Pipelines of stages, opportunities moving through them, their lines and stage history.

An administrator edits pipelines, stages, lost reasons and products (configuration everyone
reads). Stages are never removed while an opportunity's history names them: they are
archived (``active``), and the history keeps each visit's stage name and probability as they
were, so renaming or re-weighting a stage never rewrites the past.

Every stage move goes through ``tuoke.sales.services`` (required fields, history, events).
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from tuoke.core.custom_fields import HasCustomFields
from tuoke.core.models import Action, OwnedModel, TrackedModel
from tuoke.customers.models import Contact, Customer, living_index
from tuoke.leads.models import Channel, Lead


class Pipeline(TrackedModel):
    """A sequence of stages a kind of deal goes through (new business, renewal …)."""

    record_type = "pipeline"
    audit_fields = ("name", "description", "sort_order", "active", "is_default")

    name = models.CharField(_("name"), max_length=60)
    description = models.CharField(_("description"), max_length=300, blank=True)
    sort_order = models.IntegerField(_("sort order"), default=0)
    active = models.BooleanField(_("active"), default=True)
    is_default = models.BooleanField(_("default pipeline"), default=False)

    class Meta:
        verbose_name = _("pipeline")
        verbose_name_plural = _("pipelines")
        ordering = ["sort_order", "pk"]

    def __str__(self) -> str:
        return self.name

    @classmethod
    def scope_q(cls, user, scope: int) -> Q:
        # Configuration: the grant alone decides who sees and changes it.
        return Q()


class StageKind(models.TextChoices):
    # "Open" alone is a task's status (未完成); an open deal is in progress.
    OPEN = "open", pgettext_lazy("opportunity", "Open")
    WON = "won", _("Won")
    LOST = "lost", _("Lost")


# Fields a stage may require before an opportunity enters it (custom fields of opportunities
# are required as "custom:<key>").
REQUIRABLE_FIELDS = {
    "amount": _("amount"),
    "expected_close_date": _("expected close date"),
    "contacts": _("contacts involved"),
    "lines": _("products"),
    "description": _("description"),
}


class Stage(TrackedModel):
    """One step of a pipeline. Open stages are ordered by ``sort_order``; each pipeline has
    one won and one lost end stage.

    Stages have a record type of their own (so that the recycle bin and the role editor list
    them apart from pipelines), but they are changed under the "pipeline" grant: whoever
    administers pipelines administers their stages (see ``tuoke.sales.config``)."""

    record_type = "stage"
    audit_fields = (
        "name",
        "sort_order",
        "probability",
        "expected_days",
        "required_fields",
        "marks_intent",
        "active",
    )

    pipeline = models.ForeignKey(
        Pipeline, verbose_name=_("pipeline"), on_delete=models.PROTECT, related_name="stages"
    )
    name = models.CharField(_("name"), max_length=50)
    kind = models.CharField(_("kind"), max_length=10, choices=StageKind.choices, default="open")
    sort_order = models.IntegerField(_("sort order"), default=0)
    probability = models.PositiveSmallIntegerField(
        _("win probability (%)"),
        default=10,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    expected_days = models.PositiveIntegerField(
        _("expected days in stage"),
        null=True,
        blank=True,
        help_text=_("An opportunity idle longer than this becomes a task in its owner's plan."),
    )
    # Keys of REQUIRABLE_FIELDS or "custom:<key>".
    required_fields = models.JSONField(_("required to enter"), default=list, blank=True)
    marks_intent = models.BooleanField(
        _("customer shows intent"),
        default=False,
        help_text=_("Reaching this stage moves the customer's lifecycle to intent."),
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("stage")
        verbose_name_plural = _("stages")
        ordering = ["pipeline", "sort_order", "pk"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_closed(self) -> bool:
        return self.kind != StageKind.OPEN

    @classmethod
    def scope_q(cls, user, scope: int) -> Q:
        return Q()


class LostReason(TrackedModel):
    """Why deals are lost (price, competitor, no budget …): an editable list, changed under
    the "pipeline" grant like stages."""

    record_type = "lost_reason"
    audit_fields = ("name", "sort_order", "active")

    name = models.CharField(_("name"), max_length=60)
    sort_order = models.IntegerField(_("sort order"), default=0)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("lost reason")
        verbose_name_plural = _("lost reasons")
        ordering = ["sort_order", "pk"]

    def __str__(self) -> str:
        return self.name

    @classmethod
    def scope_q(cls, user, scope: int) -> Q:
        return Q()


class Product(TrackedModel):
    """An entry of the simple product catalogue opportunities are priced from."""

    record_type = "product"
    audit_fields = ("code", "name", "unit", "price", "currency", "active", "description")

    code = models.CharField(_("code"), max_length=40, blank=True)
    name = models.CharField(_("name"), max_length=100)
    # "unit" alone is an org unit (部门); this is the unit of measure (台, 套, 年).
    unit = models.CharField(pgettext_lazy("measure", "unit"), max_length=20, blank=True)
    price = models.DecimalField(_("list price"), max_digits=14, decimal_places=2, default=0)
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    description = models.CharField(_("description"), max_length=300, blank=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})" if self.code else self.name

    @classmethod
    def scope_q(cls, user, scope: int) -> Q:
        return Q()


class OpportunityStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("opportunity", "Open")
    WON = "won", _("Won")
    LOST = "lost", _("Lost")


class Opportunity(OwnedModel, HasCustomFields):
    """A deal with a customer in a pipeline (商机). ``status`` follows the stage's kind;
    ``stage_entered_at`` is when it entered its current stage, ``last_activity_at`` its last
    follow-up or stage move (for stalled deals)."""

    record_type = "opportunity"
    custom_fields_target = "opportunity"
    audit_fields = (
        "title",
        "customer",
        "amount",
        "currency",
        "expected_close_date",
        "owner",
        "pipeline",
        "stage",
        "status",
        "lost_reason",
        "close_note",
        "source_lead",
        "channel",
        "description",
    )

    customer = models.ForeignKey(
        Customer,
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        related_name="opportunities",
    )
    title = models.CharField(_("title"), max_length=200)
    amount = models.DecimalField(
        _("amount"), max_digits=16, decimal_places=2, null=True, blank=True
    )
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    expected_close_date = models.DateField(_("expected close date"), null=True, blank=True)
    pipeline = models.ForeignKey(
        Pipeline, verbose_name=_("pipeline"), on_delete=models.PROTECT, related_name="+"
    )
    stage = models.ForeignKey(
        Stage, verbose_name=_("stage"), on_delete=models.PROTECT, related_name="opportunities"
    )
    status = models.CharField(
        _("status"), max_length=10, choices=OpportunityStatus.choices, default="open"
    )
    stage_entered_at = models.DateTimeField(_("in stage since"))
    last_activity_at = models.DateTimeField(_("last activity"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    lost_reason = models.ForeignKey(
        LostReason,
        verbose_name=_("lost reason"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    close_note = models.TextField(_("closing note"), max_length=2000, blank=True)
    source_lead = models.ForeignKey(
        Lead,
        verbose_name=_("source lead"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="opportunities",
    )
    channel = models.ForeignKey(
        Channel,
        verbose_name=_("channel"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    description = models.TextField(_("description"), max_length=5000, blank=True)
    contacts = models.ManyToManyField(
        Contact, verbose_name=_("contacts involved"), blank=True, related_name="opportunities"
    )
    # Colleagues who work the deal with its owner: they see and edit it.
    team = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("team"), blank=True, related_name="+"
    )

    deleted_at = models.DateTimeField(_("deleted at"), null=True, blank=True)

    class Meta:
        verbose_name = _("opportunity")
        verbose_name_plural = _("opportunities")
        ordering = ["-updated_at", "-pk"]
        indexes = [
            living_index("owner", "status", "-updated_at", "-id", name="opp_owner_status"),
            living_index("stage", "owner", "-updated_at", "-id", name="opp_stage_owner"),
            living_index("customer", "status", name="opp_customer"),
            living_index("status", "expected_close_date", "id", name="opp_status_close"),
            living_index("-updated_at", "-id", name="opp_recent"),
            models.Index(
                fields=["deleted_at"],
                name="opp_deleted",
                condition=Q(deleted_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def weighted_amount(self) -> Decimal | None:
        if self.amount is None:
            return None
        return (self.amount * self.stage.probability / 100).quantize(Decimal("0.01"))

    @classmethod
    def shared_q(cls, user, action: str) -> Q | None:
        """Members of the deal's team see and edit it beside its owner's scope."""
        if action not in (Action.VIEW, Action.EDIT):
            return None
        ids = list(
            Opportunity.team.through.objects.filter(user_id=user.pk).values_list(
                "opportunity_id", flat=True
            )[:1001]
        )
        if not ids:
            return None
        if len(ids) > 1000:
            return Q(team=user)
        return Q(pk__in=ids)


class OpportunityLine(models.Model):
    """A product (or a free-text item) on an opportunity, with quantity and price."""

    opportunity = models.ForeignKey(
        Opportunity, verbose_name=_("opportunity"), on_delete=models.CASCADE, related_name="lines"
    )
    product = models.ForeignKey(
        Product,
        verbose_name=_("product"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    name = models.CharField(_("item"), max_length=100)
    quantity = models.DecimalField(
        _("quantity"), max_digits=12, decimal_places=2, default=Decimal("1")
    )
    unit_price = models.DecimalField(_("unit price"), max_digits=14, decimal_places=2)
    sort_order = models.IntegerField(_("sort order"), default=0)

    class Meta:
        verbose_name = _("opportunity line")
        verbose_name_plural = _("opportunity lines")
        ordering = ["sort_order", "pk"]

    def __str__(self) -> str:
        return self.name

    @property
    def amount(self) -> Decimal:
        return (self.quantity * self.unit_price).quantize(Decimal("0.01"))


class StageVisit(models.Model):
    """One stay of an opportunity in a stage: the stage history. ``left_at`` is empty while
    it is there. Name and probability are kept as they were when it entered."""

    opportunity = models.ForeignKey(
        Opportunity,
        verbose_name=_("opportunity"),
        on_delete=models.CASCADE,
        related_name="stage_visits",
    )
    stage = models.ForeignKey(
        Stage, verbose_name=_("stage"), on_delete=models.PROTECT, related_name="+"
    )
    stage_name = models.CharField(_("stage"), max_length=50)
    probability = models.PositiveSmallIntegerField(_("win probability (%)"))
    entered_at = models.DateTimeField(_("entered at"))
    left_at = models.DateTimeField(_("left at"), null=True, blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("stage visit")
        verbose_name_plural = _("stage history")
        ordering = ["entered_at", "pk"]
        indexes = [
            models.Index(fields=["opportunity", "entered_at"], name="stage_visit_opp"),
            models.Index(fields=["stage", "entered_at"], name="stage_visit_stage"),
            models.Index(fields=["entered_at"], name="stage_visit_entered"),
        ]

    def __str__(self) -> str:
        return f"{self.opportunity} · {self.stage_name}"

    @property
    def duration(self):
        from django.utils import timezone

        return (self.left_at or timezone.now()) - self.entered_at
