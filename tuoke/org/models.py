"""Users, the org chart (a tree of units), roles with their grants, and API tokens."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from tuoke.core.models import Action, RecordQuerySet, Scope, TrackedModel


class OrgUnit(TrackedModel):
    """A department in the org chart; ``path`` ("0001.0004.") makes subtree queries one LIKE."""

    record_type = "org_unit"
    audit_fields = ("name", "parent", "manager", "sort_order")

    name = models.CharField(_("name"), max_length=100)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent unit"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
    )
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("manager"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="managed_units",
    )
    path = models.CharField(max_length=255, db_index=True, editable=False, default="")
    sort_order = models.PositiveIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("org unit")
        verbose_name_plural = _("org units")
        ordering = ["path"]

    def __str__(self) -> str:
        return self.name

    @property
    def depth(self) -> int:
        return max(self.path.count(".") - 1, 0)

    @classmethod
    def scope_q(cls, user, scope: int) -> Q:
        if user.unit_id is None:
            return Q(pk__in=[])
        if scope in (Scope.OWN, Scope.UNIT):
            return Q(pk=user.unit_id)
        return Q(path__startswith=user.unit.path)


class UserQuerySet(RecordQuerySet):
    pass


class TuokeUserManager(UserManager.from_queryset(UserQuerySet)):  # type: ignore[misc]
    pass


class User(AbstractUser):
    """A person who logs in; belongs to one unit and holds any number of roles."""

    record_type = "user"
    audit_fields = (
        "username",
        "display_name",
        "email",
        "mobile",
        "title",
        "unit",
        "is_active",
        "language",
    )

    display_name = models.CharField(_("display name"), max_length=50, blank=True)
    mobile = models.CharField(_("mobile"), max_length=30, blank=True)
    title = models.CharField(_("job title"), max_length=50, blank=True)
    unit = models.ForeignKey(
        OrgUnit,
        verbose_name=_("unit"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="members",
    )
    roles = models.ManyToManyField(
        "Role", verbose_name=_("roles"), blank=True, related_name="users"
    )
    language = models.CharField(
        _("language"), max_length=10, choices=settings.LANGUAGES, blank=True
    )
    version = models.PositiveIntegerField(_("version"), default=1)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    updated_by = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Users are deactivated, never deleted (their records and history stay theirs).
    objects = TuokeUserManager()
    all_objects = TuokeUserManager()

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["username"]

    def __str__(self) -> str:
        return self.display_name or self.get_full_name() or self.username

    @classmethod
    def scope_q(cls, user, scope: int) -> Q:
        if scope == Scope.OWN or user.unit_id is None:
            return Q(pk=user.pk)
        if scope == Scope.UNIT:
            return Q(unit_id=user.unit_id) | Q(pk=user.pk)
        return Q(unit__path__startswith=user.unit.path) | Q(pk=user.pk)

    @classmethod
    def tracked_field_names(cls) -> list[str]:
        return list(cls.audit_fields)


class Role(TrackedModel):
    """A named set of grants: per record type and action, a data scope."""

    record_type = "role"
    audit_fields = ("name", "description")

    name = models.CharField(_("name"), max_length=60, unique=True)
    description = models.CharField(_("description"), max_length=200, blank=True)
    # Which standard role (tuoke.org.defaults.ROLES) this one started as, and the record types
    # whose default grants it has been given, so that an upgrade adds grants for new record
    # types without putting back what an administrator took away.
    default_key = models.CharField(max_length=30, blank=True, editable=False)
    seeded_types = models.JSONField(default=list, blank=True, editable=False)

    class Meta:
        verbose_name = _("role")
        verbose_name_plural = _("roles")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @classmethod
    def scope_q(cls, user, scope: int) -> Q:
        # Roles are configuration; a narrow scope still shows the roles one holds.
        if scope == Scope.OWN:
            return Q(users=user)
        return Q()


class RoleGrant(models.Model):
    role = models.ForeignKey(Role, on_delete=models.CASCADE, related_name="grants")
    record_type = models.CharField(_("record type"), max_length=40)
    action = models.CharField(_("action"), max_length=20, choices=Action.choices)
    scope = models.PositiveSmallIntegerField(_("data scope"), choices=Scope.choices)

    class Meta:
        verbose_name = _("grant")
        verbose_name_plural = _("grants")
        constraints = [
            models.UniqueConstraint(
                fields=["role", "record_type", "action"], name="unique_grant_per_action"
            )
        ]

    def __str__(self) -> str:
        return f"{self.role}: {self.record_type}.{self.action} = {self.get_scope_display()}"


class ApiToken(models.Model):
    """A personal access token; only its SHA-256 hash is stored."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=60)
    prefix = models.CharField(_("prefix"), max_length=12)
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
