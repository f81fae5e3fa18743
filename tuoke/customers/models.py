"""Customers (companies), their contacts and tags, the lifecycle history and who collaborates
on a customer besides its owner."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, models
from django.db.models import F, Q, Subquery
from django.db.models.functions import Coalesce
from django.db.models.signals import post_delete, post_save
from django.utils.translation import gettext_lazy as _

from tuoke.core.custom_fields import HasCustomFields
from tuoke.core.models import Action, OwnedModel, TrackedModel, through


class LifecycleStatus(models.TextChoices):
    """Where a customer stands; moved by events (see services.advance_lifecycle), not by hand."""

    LEAD = "lead", _("Lead")
    POTENTIAL = "potential", _("Potential")
    INTENT = "intent", _("Intent")
    SIGNED = "signed", _("Signed")
    CHURNED = "churned", _("Churned")


# The forward order of the lifecycle; CHURNED leaves it.
LIFECYCLE_ORDER: list[str] = [
    LifecycleStatus.LEAD,
    LifecycleStatus.POTENTIAL,
    LifecycleStatus.INTENT,
    LifecycleStatus.SIGNED,
]


class Nature(models.TextChoices):
    PRIVATE = "private", _("Private enterprise")
    STATE = "state", _("State-owned enterprise")
    FOREIGN = "foreign", _("Foreign-invested enterprise")
    JOINT = "joint", _("Joint venture")
    LISTED = "listed", _("Listed company")
    PUBLIC = "public", _("Government or public institution")
    OTHER = "other", _("Other")


class Size(models.TextChoices):
    MICRO = "1-19", _("1–19 employees")
    SMALL = "20-99", _("20–99 employees")
    MEDIUM = "100-499", _("100–499 employees")
    LARGE = "500-999", _("500–999 employees")
    HUGE = "1000+", _("1000 or more employees")


class FundingStage(models.TextChoices):
    NONE = "none", _("Not funded")
    ANGEL = "angel", _("Angel")
    SERIES_A = "a", _("Series A")
    SERIES_B = "b", _("Series B")
    SERIES_C = "c", _("Series C and later")
    PRE_IPO = "pre_ipo", _("Pre-IPO")
    LISTED = "listed", _("Listed")


class Tag(TrackedModel):
    """A label reps put on customers (e.g. 重点客户, 展会); configuration everyone may read."""

    record_type = "tag"
    audit_fields = ("name", "color")

    name = models.CharField(_("name"), max_length=30)
    color = models.CharField(_("colour"), max_length=20, default="blue")

    class Meta:
        verbose_name = _("tag")
        verbose_name_plural = _("tags")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["name"], condition=Q(deleted_at__isnull=True), name="unique_alive_tag"
            )
        ]

    def __str__(self) -> str:
        return self.name

    @classmethod
    def scope_q(cls, user, scope: int) -> Q:
        return Q()


# Up to this many customers shared with a user are written into his queries as ids.
SHARED_IDS_LIMIT = 500


def living_index(*fields: str, name: str) -> models.Index:
    """An index of the rows not in the recycle bin, ending in deleted_at (see Meta)."""
    return models.Index(
        fields=[*fields, "deleted_at"], name=name, condition=Q(deleted_at__isnull=True)
    )


class Customer(OwnedModel, HasCustomFields):
    """A company we sell to; its legal name may be unknown before the deal firms up."""

    record_type = "customer"
    custom_fields_target = "customer"
    audit_fields = (
        "legal_name",
        "short_name",
        "credit_code",
        "nature",
        "size",
        "industry",
        "province",
        "city",
        "funding_stage",
        "website",
        "country",
        "currency",
        "owner",
        "lifecycle_status",
        "tier",
        "note",
    )

    legal_name = models.CharField(_("legal name"), max_length=200, blank=True)
    short_name = models.CharField(_("short name"), max_length=100, blank=True)
    credit_code = models.CharField(_("unified social credit code"), max_length=18, blank=True)
    nature = models.CharField(_("nature"), max_length=20, choices=Nature.choices, blank=True)
    size = models.CharField(_("size"), max_length=20, choices=Size.choices, blank=True)
    industry = models.CharField(_("industry"), max_length=50, blank=True)
    province = models.CharField(_("province"), max_length=30, blank=True)
    city = models.CharField(_("city"), max_length=30, blank=True)
    funding_stage = models.CharField(
        _("funding stage"), max_length=20, choices=FundingStage.choices, blank=True
    )
    website = models.URLField(_("website"), max_length=200, blank=True)
    country = models.CharField(_("country"), max_length=2, default="CN")
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    note = models.TextField(_("note"), blank=True)
    tags = models.ManyToManyField(Tag, verbose_name=_("tags"), blank=True, related_name="+")
    collaborators = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("collaborators"),
        through="Collaborator",
        blank=True,
        related_name="+",
    )
    lifecycle_status = models.CharField(
        _("lifecycle status"),
        max_length=20,
        choices=LifecycleStatus.choices,
        default=LifecycleStatus.POTENTIAL,
    )
    tier = models.CharField(_("tier"), max_length=1, blank=True)
    last_follow_up_at = models.DateTimeField(_("last follow-up"), null=True, blank=True)

    # Matching keys kept beside the facts (see tuoke.customers.matching), indexed for the
    # duplicate check and for search by pinyin initials.
    name_key = models.CharField(max_length=200, blank=True, editable=False, db_index=True)
    pinyin_full = models.CharField(max_length=400, blank=True, editable=False)
    pinyin_initials = models.CharField(max_length=100, blank=True, editable=False, db_index=True)

    # Only the recycle bin asks for deleted rows, so only they are indexed (see Meta): an index
    # of every row's NULL makes SQLite's planner pick it for "deleted_at IS NULL" on lists.
    deleted_at = models.DateTimeField(_("deleted at"), null=True, blank=True)

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        ordering = ["-updated_at", "-pk"]
        # Each sort of the lists has an index ending in the id, its tie-break; the text ones
        # also serve the search by name start (prefixes). PostgreSQL's trigram and pattern
        # indexes and SQLite's FTS5 table are in migration 0003 (not expressible here).
        # The list indexes hold living rows only (every list asks for "deleted_at IS NULL"),
        # and end in deleted_at so that SQLite sees they cover that condition: a capped count
        # or a filtered page is then read from the index alone, without a look at each row
        # (a manager's count: 3 ms → 0.3 ms, bench/README.md).
        indexes = [
            living_index("owner", "-updated_at", name="customer_owner_recent"),
            # A status filter within a scope of owners, listed and counted (bench/README.md).
            living_index(
                "owner", "lifecycle_status", "-updated_at", "-id", name="customer_owner_status"
            ),
            living_index("owner", "pinyin_full", "id", name="customer_owner_name"),
            models.Index(fields=["credit_code"], name="customer_credit_code"),
            # A rep's customers followed up longest ago (never: since their creation), for
            # the Today page: a rep's 5,000 customers were read and sorted for 10 of them.
            models.Index(
                F("owner"),
                Coalesce("last_follow_up_at", "created_at"),
                F("id"),
                name="customer_owner_touched",
                condition=Q(deleted_at__isnull=True),
            ),
            living_index("-updated_at", "-id", name="customer_recent"),
            living_index("lifecycle_status", "-updated_at", "-id", name="customer_status_recent"),
            living_index("-created_at", "-id", name="customer_created"),
            # Not living-only: the search ORs a prefix range on these with others, and
            # SQLite uses a partial index for no branch of an OR (a manager's search walked
            # his customers instead: 2.5 s).
            models.Index(fields=["short_name", "id"], name="customer_short_name"),
            models.Index(fields=["pinyin_full", "id"], name="customer_pinyin"),
            models.Index(
                fields=["deleted_at"],
                name="customer_deleted",
                condition=Q(deleted_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return self.display_name

    def clean(self) -> None:
        # A pre-sales customer may lack its legal name, but it needs some name to be found by.
        if not self.legal_name.strip() and not self.short_name.strip():
            raise ValidationError(
                {"short_name": _("Give the customer a short name or its legal name.")},
                code="required",
            )

    @property
    def display_name(self) -> str:
        return self.short_name or self.legal_name or f"#{self.pk}"

    @classmethod
    def shared_q(cls, user, action: str) -> Q | None:
        """Collaborators reach a customer beside its owner's scope: read, or edit if granted."""
        if action not in (Action.VIEW, Action.EDIT):
            return None
        # Read once per user object (a request's; a list asks for its page and its count)
        # until a collaborator is added or removed in this process.
        memo: dict[str, tuple[int, Q]] = user.__dict__.setdefault("_tuoke_shared_customers", {})
        held = memo.get(action)
        if held is None or held[0] != _collaborations_changed[0]:
            held = memo[action] = (_collaborations_changed[0], cls._shared_ids_q(user, action))
        return held[1]

    @classmethod
    def _shared_ids_q(cls, user, action: str) -> Q:
        access = Collaborator.Access.EDIT if action == Action.EDIT else None
        # The ids rather than a subquery: planning "owner is me OR id IN (subquery)",
        # PostgreSQL guesses the subquery keeps half the rows, and for a rep's first page of a
        # search walks a million customers by date. A user shares few customers; with none,
        # the condition drops out.
        ids = _shared_ids(user.pk, access)
        if len(ids) <= SHARED_IDS_LIMIT:
            return Q(pk__in=ids)
        links = Collaborator.objects.filter(user=user)
        if access is not None:
            links = links.filter(access=access)
        return Q(pk__in=Subquery(links.values("customer_id")))


def _shared_ids(user_id: int, access: str | None) -> list[int]:
    """The ids of up to SHARED_IDS_LIMIT + 1 customers shared with the user, in a plain
    query: every page of customers asks (through the ORM it cost five times the query)."""
    meta = Collaborator._meta
    quote = connection.ops.quote_name
    sql = (
        f"SELECT {quote(meta.get_field('customer').column)} FROM {quote(meta.db_table)} "  # noqa: S608 - quoted names
        f"WHERE {quote(meta.get_field('user').column)} = %s"
    )
    params: list = [user_id]
    if access is not None:
        sql += f" AND {quote(meta.get_field('access').column)} = %s"
        params.append(access)
    with connection.cursor() as cursor:
        cursor.execute(f"{sql} LIMIT {SHARED_IDS_LIMIT + 1}", params)
        return [row[0] for row in cursor.fetchall()]


# How often collaborators were written in this process (see Customer.shared_q).
_collaborations_changed = [0]


def _collaborations_written(**kwargs) -> None:
    _collaborations_changed[0] += 1


class Collaborator(models.Model):
    """A user who works a customer with its owner, with read or edit access."""

    class Access(models.TextChoices):
        READ = "read", _("Read")
        EDIT = "edit", _("Edit")

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="collaborations")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="collaborations"
    )
    access = models.CharField(_("access"), max_length=10, choices=Access.choices, default="read")

    class Meta:
        verbose_name = _("collaborator")
        verbose_name_plural = _("collaborators")
        constraints = [
            models.UniqueConstraint(fields=["customer", "user"], name="unique_collaborator")
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.customer}"


class Contact(TrackedModel, HasCustomFields):
    """A person at a customer; reached through the customer's data scope."""

    record_type = "contact"
    custom_fields_target = "contact"
    audit_fields = ("name", "mobile", "phone", "email", "title", "is_key_person", "note")

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="contacts"
    )
    name = models.CharField(_("name"), max_length=50)
    mobile = models.CharField(_("mobile"), max_length=20, blank=True, db_index=True)
    phone = models.CharField(_("landline"), max_length=20, blank=True, db_index=True)
    email = models.EmailField(_("e-mail"), blank=True, db_index=True)
    title = models.CharField(_("job title"), max_length=50, blank=True)
    is_key_person = models.BooleanField(_("key person"), default=False)
    note = models.TextField(_("note"), blank=True)

    # As on Customer: only deleted rows are indexed.
    deleted_at = models.DateTimeField(_("deleted at"), null=True, blank=True)

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        ordering = ["-is_key_person", "name", "pk"]
        indexes = [
            models.Index(fields=["name", "id"], name="contact_name"),
            models.Index(
                fields=["deleted_at"],
                name="contact_deleted",
                condition=Q(deleted_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @classmethod
    def scope_q(cls, user, scope: int) -> Q:
        return _through_customer(Customer.scope_q(user, scope))

    @classmethod
    def shared_q(cls, user, action: str) -> Q | None:
        shared = Customer.shared_q(user, action)
        return _through_customer(shared) if shared is not None else None


def _through_customer(condition: Q) -> Q:
    """A condition on Customer rewritten for a model that points at it as ``customer``."""
    return through("customer", condition)


class LifecycleChange(models.Model):
    """One move of a customer's lifecycle status, with the event or reason behind it."""

    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="lifecycle_changes"
    )
    from_status = models.CharField(
        _("from"), max_length=20, choices=LifecycleStatus.choices, blank=True
    )
    to_status = models.CharField(_("to"), max_length=20, choices=LifecycleStatus.choices)
    cause = models.CharField(_("cause"), max_length=40)
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    at = models.DateTimeField(_("at"), auto_now_add=True)

    class Meta:
        verbose_name = _("lifecycle change")
        verbose_name_plural = _("lifecycle changes")
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"{self.customer}: {self.from_status} → {self.to_status}"


class AccessRequest(models.Model):
    """A user who found a customer he may not see (e.g. in the duplicate check) asks its owner
    to share it; the owner or a manager grants read or edit collaboration, or declines."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        GRANTED = "granted", _("Granted")
        DECLINED = "declined", _("Declined")

    customer = models.ForeignKey(
        Customer,
        verbose_name=_("customer"),
        on_delete=models.CASCADE,
        related_name="access_requests",
    )
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    # The access asked for; once granted, the access given.
    access = models.CharField(
        _("access"),
        max_length=10,
        choices=Collaborator.Access.choices,
        default=Collaborator.Access.READ,
    )
    message = models.CharField(_("message"), max_length=500, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    created_at = models.DateTimeField(_("requested at"), auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.CharField(_("answer"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("access request")
        verbose_name_plural = _("access requests")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["customer", "status"], name="access_request_customer"),
            models.Index(fields=["requester", "-created_at"], name="access_request_requester"),
        ]

    def __str__(self) -> str:
        return f"{self.requester} → {self.customer}"

    @property
    def is_pending(self) -> bool:
        return self.status == self.Status.PENDING


post_save.connect(_collaborations_written, sender=Collaborator)
post_delete.connect(_collaborations_written, sender=Collaborator)
