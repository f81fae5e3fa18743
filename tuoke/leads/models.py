"""Channels (where leads come from) with their costs, leads with their cleaning and conversion,
and the round-robin rules that hand new leads to reps."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from tuoke.core.custom_fields import HasCustomFields
from tuoke.core.models import OwnedModel, Scope, TrackedModel


class ChannelKind(models.TextChoices):
    WEBSITE = "website", _("Website form")
    EVENT = "event", _("Marketing event")
    CRAWLER = "crawler", _("Crawler")
    PARTNER = "partner", _("Partner")
    REFERRAL = "referral", _("Referral")
    OTHER = "other", _("Other")


class Channel(TrackedModel):
    """A source of leads (a website form, a trade fair, a partner …); configuration everyone
    may read, marketing changes."""

    record_type = "channel"
    audit_fields = ("name", "kind", "active", "note")

    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=20, choices=ChannelKind.choices)
    active = models.BooleanField(
        _("active"), default=True, help_text=_("Inactive channels take no new leads.")
    )
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("channel")
        verbose_name_plural = _("channels")
        ordering = ["-active", "name", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["name"], condition=Q(deleted_at__isnull=True), name="unique_alive_channel"
            )
        ]

    def __str__(self) -> str:
        return self.name

    @classmethod
    def scope_q(cls, user, scope: int) -> Q:
        return Q()


class ChannelCost(TrackedModel):
    """What a channel cost over a period (a month's ad spend, a fair's stand), in CNY."""

    record_type = "channel_cost"
    audit_fields = ("period_start", "period_end", "amount", "note")

    channel = models.ForeignKey(
        Channel, verbose_name=_("channel"), on_delete=models.PROTECT, related_name="costs"
    )
    period_start = models.DateField(pgettext_lazy("period", "from"))
    period_end = models.DateField(pgettext_lazy("period", "until"))
    amount = models.DecimalField(_("amount (CNY)"), max_digits=14, decimal_places=2)
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("channel cost")
        verbose_name_plural = _("channel costs")
        ordering = ["-period_start", "-pk"]
        indexes = [models.Index(fields=["channel", "period_start"], name="channel_cost_period")]

    def __str__(self) -> str:
        return f"{self.channel} {self.period_start:%Y-%m-%d}–{self.period_end:%Y-%m-%d}"

    def clean(self) -> None:
        if self.period_start and self.period_end and self.period_end < self.period_start:
            raise ValidationError(
                {"period_end": _("The period cannot end before it starts.")}, code="invalid"
            )
        if self.amount is not None and self.amount < 0:
            raise ValidationError({"amount": _("A cost cannot be negative.")}, code="invalid")

    @classmethod
    def scope_q(cls, user, scope: int) -> Q:
        return Q()


class LeadStatus(models.TextChoices):
    NEW = "new", _("New")
    WORKING = "working", _("Working")
    CONVERTED = "converted", _("Converted")
    CLEANED = "cleaned", _("Cleaned")


# A lead still to be worked on: neither converted nor cleaned.
OPEN_STATUSES = (LeadStatus.NEW, LeadStatus.WORKING)


class CleaningKind(models.TextChoices):
    """Why a lead was taken out of the work: it stays, with its reason, and can be filtered."""

    INVALID = "invalid", _("Invalid")
    DUPLICATE = "duplicate", _("Duplicate")
    JUNK = "junk", _("Junk")


class Lead(OwnedModel, HasCustomFields):
    """A raw prospect from a channel: what is known of the company, the person and the need.

    The company may lack its legal name; a lead is converted into a customer and a contact,
    and keeps its row (status "converted") as the customer's origin.
    """

    record_type = "lead"
    custom_fields_target = "lead"
    audit_fields = (
        "company_name",
        "short_name",
        "credit_code",
        "industry",
        "province",
        "city",
        "contact_name",
        "title",
        "mobile",
        "phone",
        "email",
        "needs",
        "channel",
        "owner",
        "status",
        "cleaning_kind",
        "cleaning_reason",
        "duplicate_of",
        "duplicate_customer",
        "converted_customer",
        "converted_contact",
        "converted_at",
    )

    # Indexed for the search by the start of a name (see tuoke.leads.search).
    company_name = models.CharField(_("company name"), max_length=200, blank=True, db_index=True)
    short_name = models.CharField(_("short name"), max_length=100, blank=True, db_index=True)
    credit_code = models.CharField(_("unified social credit code"), max_length=18, blank=True)
    industry = models.CharField(_("industry"), max_length=50, blank=True)
    province = models.CharField(_("province"), max_length=30, blank=True)
    city = models.CharField(_("city"), max_length=30, blank=True)
    contact_name = models.CharField(_("contact name"), max_length=50, blank=True, db_index=True)
    title = models.CharField(_("job title"), max_length=50, blank=True)
    mobile = models.CharField(_("mobile"), max_length=20, blank=True, db_index=True)
    phone = models.CharField(_("landline"), max_length=20, blank=True, db_index=True)
    email = models.EmailField(_("e-mail"), blank=True, db_index=True)
    needs = models.TextField(_("needs"), blank=True)
    channel = models.ForeignKey(
        Channel,
        verbose_name=_("channel"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="leads",
    )
    status = models.CharField(
        _("status"), max_length=20, choices=LeadStatus.choices, default=LeadStatus.NEW
    )
    cleaning_kind = models.CharField(
        _("cleaned as"), max_length=20, choices=CleaningKind.choices, blank=True
    )
    cleaning_reason = models.CharField(_("cleaning reason"), max_length=500, blank=True)
    # Set when the lead was entered while the same company was already there (F03): it is
    # flagged, not refused, so marketing can still record where it came from.
    duplicate_of = models.ForeignKey(
        "self",
        verbose_name=_("duplicate of lead"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    duplicate_customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("duplicate of customer"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="duplicate_leads",
    )
    converted_customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("converted into customer"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="source_leads",
    )
    converted_contact = models.ForeignKey(
        "customers.Contact",
        verbose_name=_("converted into contact"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="source_leads",
    )
    converted_at = models.DateTimeField(_("converted at"), null=True, blank=True)

    # Matching keys kept beside the facts (see tuoke.customers.matching), as on Customer.
    name_key = models.CharField(max_length=200, blank=True, editable=False, db_index=True)
    pinyin_full = models.CharField(max_length=400, blank=True, editable=False, db_index=True)
    pinyin_initials = models.CharField(max_length=100, blank=True, editable=False, db_index=True)

    class Meta:
        verbose_name = _("lead")
        verbose_name_plural = _("leads")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["owner", "-created_at"], name="lead_owner_recent"),
            models.Index(fields=["status", "-created_at"], name="lead_status_recent"),
            models.Index(fields=["channel", "-created_at"], name="lead_channel_recent"),
            models.Index(fields=["-created_at"], name="lead_recent"),
            models.Index(fields=["credit_code"], name="lead_credit_code"),
        ]

    def __str__(self) -> str:
        return self.display_name

    def clean(self) -> None:
        names = (self.company_name, self.short_name, self.contact_name, self.mobile, self.email)
        if not any(v.strip() for v in names):
            message = _(
                "Give at least a company name, a short name, a contact name, a mobile or an e-mail."
            )
            raise ValidationError({"company_name": ValidationError(message, code="required")})
        if self.status == LeadStatus.CLEANED and not self.cleaning_kind:
            message = _("Say how the lead was cleaned.")
            raise ValidationError({"cleaning_kind": ValidationError(message, code="required")})

    @property
    def display_name(self) -> str:
        return self.short_name or self.company_name or self.contact_name or f"#{self.pk}"

    @property
    def is_open(self) -> bool:
        """Still to be worked on: neither converted nor cleaned."""
        return self.status in OPEN_STATUSES

    @property
    def is_flagged(self) -> bool:
        """Looks like a company already there, and nobody has dealt with that yet."""
        return self.is_open and (
            self.duplicate_of_id is not None or self.duplicate_customer_id is not None
        )


class AssignmentRule(TrackedModel):
    """Hands new leads without an owner to its members in turn (round robin).

    A rule applies to leads of its channel (any channel when empty) entered by people of its
    unit or a unit below it (anyone when empty); the most specific active rule wins.
    """

    record_type = "assignment_rule"
    audit_fields = ("name", "channel", "unit", "active", "sort_order")

    name = models.CharField(_("name"), max_length=100)
    channel = models.ForeignKey(
        Channel,
        verbose_name=_("channel"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="assignment_rules",
        help_text=_("Empty: leads of every channel."),
    )
    unit = models.ForeignKey(
        "org.OrgUnit",
        verbose_name=_("unit"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Leads entered by people of this unit and the units below it; empty: anyone."),
    )
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("members"),
        through="AssignmentMember",
        related_name="+",
    )
    active = models.BooleanField(_("active"), default=True)
    sort_order = models.IntegerField(
        _("order"), default=0, help_text=_("Among equally specific rules, the lowest wins.")
    )
    # The member who got the last lead; the next one goes to the member after him.
    last_assigned = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("last assigned to"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )

    class Meta:
        verbose_name = _("assignment rule")
        verbose_name_plural = _("assignment rules")
        ordering = ["sort_order", "name", "pk"]

    def __str__(self) -> str:
        return self.name

    @classmethod
    def scope_q(cls, user, scope: int) -> Q:
        # A manager looks after the rules of his units; rules without a unit need scope ALL.
        if scope == Scope.OWN or user.unit_id is None:
            return Q(created_by=user)
        if scope == Scope.UNIT:
            return Q(unit_id=user.unit_id) | Q(created_by=user)
        return Q(unit__path__startswith=user.unit.path) | Q(created_by=user)


class AssignmentMember(models.Model):
    """A member of a rule, in the order leads go round."""

    rule = models.ForeignKey(AssignmentRule, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    position = models.PositiveIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("rule member")
        verbose_name_plural = _("rule members")
        ordering = ["position", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["rule", "user"], name="unique_assignment_member")
        ]

    def __str__(self) -> str:
        return f"{self.rule}: {self.user}"
