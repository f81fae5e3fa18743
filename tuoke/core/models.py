"""The building blocks every Tuoke record is made of: bookkeeping, soft delete, versions,
owners, data scopes and the audit trail."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.validators import RegexValidator
from django.db import connection, models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from tuoke.org.models import User


class Action(models.TextChoices):
    VIEW = "view", _("View")
    CREATE = "create", _("Create")
    EDIT = "edit", _("Edit")
    DELETE = "delete", _("Delete")
    EXPORT = "export", _("Export")
    IMPORT = "import", _("Import")
    APPROVE = "approve", _("Approve")
    ADMINISTER = "administer", _("Administer")


class Scope(models.IntegerChoices):
    """How far a grant reaches; a wider scope has a larger value."""

    NONE = 0, _("None")
    OWN = 1, _("Own records")
    UNIT = 2, _("Own unit")
    SUBTREE = 3, _("Own unit and every unit below")
    ALL = 4, _("All")


class RecordQuerySet(models.QuerySet):
    def alive(self):
        return self.filter(deleted_at__isnull=True)

    def deleted(self):
        return self.filter(deleted_at__isnull=False)

    def visible_to(self, user: User, action: str = Action.VIEW):
        """The records ``user`` may act on; the one way into user-facing queries."""
        from .scope import scope_queryset

        return scope_queryset(self, user, action)


class AliveManager(models.Manager.from_queryset(RecordQuerySet)):  # type: ignore[misc]
    """Default manager: soft-deleted rows are not there unless asked for."""

    def get_queryset(self):
        return super().get_queryset().filter(deleted_at__isnull=True)


class AllManager(models.Manager.from_queryset(RecordQuerySet)):  # type: ignore[misc]
    pass


class TrackedModel(models.Model):
    """Created/updated at and by, soft delete and a version for optimistic locking.

    Subclasses set ``record_type`` (the key roles grant actions on) and may override
    ``scope_q`` to say which rows each data scope reaches.
    """

    record_type: str = ""
    # Fields whose changes the audit trail records; None means every editable field.
    audit_fields: tuple[str, ...] | None = None

    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("updated by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    deleted_at = models.DateTimeField(_("deleted at"), null=True, blank=True, db_index=True)
    deleted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("deleted by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    version = models.PositiveIntegerField(_("version"), default=1)

    objects = AliveManager()
    all_objects = AllManager()

    BOOKKEEPING_FIELDS = frozenset(
        {
            "id",
            "created_at",
            "updated_at",
            "created_by",
            "updated_by",
            "deleted_at",
            "deleted_by",
            "version",
            "password",
            "last_login",
        }
    )

    class Meta:
        abstract = True
        base_manager_name = "all_objects"

    @classmethod
    def scope_q(cls, user: User, scope: int) -> Q:
        """Rows reached by ``scope`` for ``user``; ALL is handled by the caller."""
        raise NotImplementedError(f"{cls.__name__} must define scope_q")

    @classmethod
    def shared_q(cls, user: User, action: str) -> Q | None:
        """Rows shared with ``user`` for ``action`` beyond his scope (e.g. collaborators)."""
        return None

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    @classmethod
    def tracked_field_names(cls) -> list[str]:
        if cls.audit_fields is not None:
            return list(cls.audit_fields)
        return [
            f.name
            for f in cls._meta.concrete_fields
            if f.editable and f.name not in cls.BOOKKEEPING_FIELDS
        ]


def through(prefix: str, condition: Q) -> Q:
    """A condition on one model rewritten for a model that points at it as ``prefix``
    (e.g. a customer's scope for its contacts: ``through("customer", …)``)."""
    children = [
        through(prefix, child) if isinstance(child, Q) else (f"{prefix}__{child[0]}", child[1])
        for child in condition.children
    ]
    return Q(*children, _connector=condition.connector, _negated=condition.negated)


# Whether scopes of owners are written as the owners' ids (see OwnedModel.scope_q).
_owners_as_ids: ContextVar[bool] = ContextVar("owners_as_ids", default=False)


@contextmanager
def owners_as_ids() -> Iterator[None]:
    """Within this block, scopes reach records through their owners' ids on every database:
    for counting. SQLite pages a unit's records well through a join to the owners' units
    (it walks the date index and stops after a page), but counts them badly that way (it
    walks the table); through the ids it counts from the owner index alone."""
    token = _owners_as_ids.set(True)
    try:
        yield
    finally:
        _owners_as_ids.reset(token)


def _owner_ids(user: User, scope: int) -> list[int]:
    """The people a unit or unit-tree scope reaches, read once per user object (a request's),
    as his grants are (``tuoke.core.scope``): a page asks every list and timeline source."""
    from tuoke.org.models import User as Person

    cache: dict[int, list[int]] = user.__dict__.setdefault("_tuoke_owner_ids", {})
    if scope not in cache:
        people = Person.objects.filter(unit_id=user.unit_id)
        if scope != Scope.UNIT:
            people = Person.objects.filter(unit__path__startswith=user.unit.path)
        cache[scope] = list(people.values_list("pk", flat=True))
    return cache[scope]


class OwnedModel(TrackedModel):
    """A business record with an owner; the data scopes reach it through the owner's unit."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta(TrackedModel.Meta):
        abstract = True

    @classmethod
    def scope_q(cls, user: User, scope: int) -> Q:
        if scope == Scope.OWN or user.unit_id is None:
            return Q(owner=user)
        if connection.vendor == "postgresql" or _owners_as_ids.get():
            # The owners' ids rather than a join to their units: PostgreSQL cannot tell how
            # many records a condition on the joined units keeps, guesses far too many, and
            # walks a million records by date for a manager's page or count; the ids it can
            # estimate (bench/README.md). SQLite plans the join well and the ids badly.
            return Q(owner_id__in=_owner_ids(user, scope)) | Q(owner=user)
        if scope == Scope.UNIT:
            return Q(owner__unit_id=user.unit_id) | Q(owner=user)
        return Q(owner__unit__path__startswith=user.unit.path) | Q(owner=user)


class AuditEntry(models.Model):
    """One event in a record's life: who, when, what, and each field's old → new value."""

    class Kind(models.TextChoices):
        CREATE = "create", _("Created")
        UPDATE = "update", _("Changed")
        DELETE = "delete", _("Deleted")
        RESTORE = "restore", _("Restored")
        PURGE = "purge", _("Purged")
        LOGIN = "login", _("Logged in")
        LOGIN_FAILED = "login_failed", _("Failed login")
        ACCESS_DENIED = "access_denied", _("Access denied")

    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, related_name="+")
    object_id = models.BigIntegerField()
    object_repr = models.CharField(_("record"), max_length=200)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    at = models.DateTimeField(_("at"), auto_now_add=True, db_index=True)
    # A list of {"field", "label", "old", "new"} with values rendered as text.
    changes = models.JSONField(_("changes"), default=list, blank=True)
    note = models.CharField(_("note"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit trail")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["content_type", "object_id", "-at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.object_repr}"

    @property
    def display_changes(self) -> list[dict[str, Any]]:
        return self.changes or []


class CustomField(TrackedModel):
    """An administrator-defined field of a record type (``target``), e.g. "ERP number" on
    customers. Records keep the values in their ``custom`` JSON (see ``tuoke.core.custom_fields``).

    Deleting a definition is soft: the values stay in the records and come back with it, which
    is why a key stays taken (also by definitions in the recycle bin) until the row is purged.
    """

    record_type = "custom_field"

    class Kind(models.TextChoices):
        TEXT = "text", _("Text")
        LONG_TEXT = "long_text", _("Long text")
        NUMBER = "number", _("Number")
        MONEY = "money", _("Amount of money")
        DATE = "date", _("Date")
        CHOICE = "choice", _("Choice")
        MULTI_CHOICE = "multi_choice", _("Multiple choice")
        BOOLEAN = "boolean", _("Yes / no")

    CHOICE_KINDS = frozenset({Kind.CHOICE, Kind.MULTI_CHOICE})

    target = models.CharField(_("record type"), max_length=50)
    key = models.CharField(
        _("key"),
        max_length=50,
        validators=[
            RegexValidator(
                r"^[a-z][a-z0-9_]*\Z",
                _("Use lowercase letters, digits and “_”, starting with a letter."),
                code="invalid",
            )
        ],
        help_text=_("The name in the API, imports and exports, e.g. erp_number."),
    )
    label = models.CharField(_("label"), max_length=100)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.TEXT)
    choices = models.JSONField(_("choices"), default=list, blank=True)
    required = models.BooleanField(_("required"), default=False)
    help_text = models.CharField(_("help text"), max_length=300, blank=True)
    sort_order = models.IntegerField(_("sort order"), default=0)
    show_in_list = models.BooleanField(_("show in lists"), default=False)

    class Meta:
        verbose_name = _("custom field")
        verbose_name_plural = _("custom fields")
        ordering = ["target", "sort_order", "label", "pk"]
        constraints = [
            # Over deleted rows too: their values are still in the records.
            models.UniqueConstraint(fields=["target", "key"], name="core_customfield_unique_key"),
        ]

    def __str__(self) -> str:
        return self.label

    @classmethod
    def scope_q(cls, user: User, scope: int) -> Q:
        # Configuration: the grant alone decides who sees and changes definitions.
        return Q()


class SavedView(OwnedModel):
    """A list's filters, sort and columns kept under a name: for its owner, or shared with
    the owner's team (his org unit). ``list_key`` says which list ("customers", "leads" …);
    see ``tuoke.core.saved_views``."""

    record_type = "saved_view"
    audit_fields = ("name", "query", "shared")

    list_key = models.CharField(_("list"), max_length=50)
    name = models.CharField(_("name"), max_length=60)
    # The list's query string without the page: filters, sort and columns.
    query = models.CharField(_("filters, sort and columns"), max_length=2000, blank=True)
    shared = models.BooleanField(_("shared with my team"), default=False)

    class Meta:
        verbose_name = _("saved view")
        verbose_name_plural = _("saved views")
        ordering = ["name", "pk"]
        indexes = [models.Index(fields=["owner", "list_key"], name="saved_view_owner_list")]

    def __str__(self) -> str:
        return self.name

    @classmethod
    def scope_q(cls, user: User, scope: int) -> Q:
        # Personal: a manager's wide grant does not bring his reps' views into his menus.
        return Q(owner=user)

    @classmethod
    def shared_q(cls, user: User, action: str) -> Q | None:
        """A view shared with the team is read (opened) by the owner's unit."""
        if action != Action.VIEW or user.unit_id is None:
            return None
        return Q(shared=True, owner__unit_id=user.unit_id)


class ListPreference(models.Model):
    """How one user likes one list: his choice of columns and the saved view it opens with."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    list_key = models.CharField(_("list"), max_length=50)
    columns = models.JSONField(_("columns"), default=list, blank=True)
    default_view = models.ForeignKey(
        SavedView,
        verbose_name=_("default view"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("list preference")
        verbose_name_plural = _("list preferences")
        constraints = [
            models.UniqueConstraint(fields=["user", "list_key"], name="unique_list_preference")
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.list_key}"


class Notification(models.Model):
    """Something a person should know (he was mentioned, a task was given to him …), shown
    under the bell and sent on through his delivery channels (tuoke.core.notifications)."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recipient"),
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    kind = models.CharField(_("kind"), max_length=30)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("text"), max_length=2000, blank=True)
    url = models.CharField(_("link"), max_length=500, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("from"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("at"), auto_now_add=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["recipient", "-created_at", "-id"], name="notification_recipient"),
            models.Index(
                fields=["recipient"],
                name="notification_unread",
                condition=Q(read_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return self.title


class ExchangeRate(TrackedModel):
    """How much one unit of ``currency`` is worth in the reporting currency from ``valid_on``
    on (until a later rate of the same currency). Reports convert with the rate of the day
    an amount belongs to (``tuoke.core.money``)."""

    record_type = "exchange_rate"
    audit_fields = ("currency", "valid_on", "rate", "note")

    currency = models.CharField(_("currency"), max_length=3)
    valid_on = models.DateField(_("valid from"))
    # 1 unit of ``currency`` = ``rate`` units of the reporting currency.
    rate = models.DecimalField(_("rate"), max_digits=18, decimal_places=8)
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("exchange rate")
        verbose_name_plural = _("exchange rates")
        ordering = ["currency", "-valid_on", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["currency", "valid_on"],
                name="exchange_rate_unique_day",
                condition=Q(deleted_at__isnull=True),
            )
        ]
        indexes = [models.Index(fields=["currency", "-valid_on"], name="exchange_rate_lookup")]

    def __str__(self) -> str:
        return f"{self.currency} {self.valid_on}: {self.rate}"

    @classmethod
    def scope_q(cls, user: User, scope: int) -> Q:
        # Configuration every report reads; the grant alone decides who changes it.
        return Q()


class Sequence(models.Model):
    """A numbering sequence (contract numbers …): ``pattern`` with {yyyy} {yy} {mm} {seq:04}
    placeholders, restarting each year, month or never (``tuoke.core.sequences``)."""

    class Reset(models.TextChoices):
        NEVER = "never", _("Never")
        YEARLY = "yearly", _("Every year")
        MONTHLY = "monthly", _("Every month")

    key = models.CharField(_("key"), max_length=40, unique=True)
    pattern = models.CharField(_("pattern"), max_length=60)
    reset = models.CharField(_("restart"), max_length=10, choices=Reset.choices, default="yearly")
    period = models.CharField(max_length=10, blank=True, editable=False)
    last_value = models.PositiveIntegerField(default=0, editable=False)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("number sequence")
        verbose_name_plural = _("number sequences")

    def __str__(self) -> str:
        return self.key
