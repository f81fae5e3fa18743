"""Users, the org chart (a tree of units), roles with their grants, and API tokens."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from tuoke.core.models import Action, OwnedModel, RecordQuerySet, Scope, TrackedModel


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

    def save(self, *args, **kwargs):
        # A field saved alone (a new password, a deactivation, an e-mail address) still
        # marks the user changed: the directory's fingerprint follows users' last change,
        # and requests read their user under it (tuoke.org.backends), so the old password's
        # sessions end at once. Logging in (last_login) is not a change to the directory.
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and set(update_fields) - {"last_login"}:
            kwargs["update_fields"] = {*update_fields, "updated_at"}
        super().save(*args, **kwargs)

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


# --- Approval flows (tuoke.org.approvals) ---------------------------------------------------------


class ApprovalFlow(TrackedModel):
    """How records of one type (``target``, e.g. "contract") are approved: when its
    ``conditions`` all hold (amount ≥ 500,000, discount ≥ 20 %, foreign currency …), the
    record goes through the ordered ``steps``. The active flows of a target are tried in
    ``sort_order``; the first that matches is used, and with none the record needs no approval.

    A request copies the steps it was submitted under (``ApprovalRequestStep``), so editing a
    flow never changes requests already under way."""

    record_type = "approval_flow"
    audit_fields = ("name", "target", "conditions", "sort_order", "active", "description")

    name = models.CharField(_("name"), max_length=60)
    target = models.CharField(_("record type"), max_length=40)
    description = models.CharField(_("description"), max_length=300, blank=True)
    # [{"fact": "amount", "op": "gte", "value": "500000"}, …]: all must hold; [] always holds.
    conditions = models.JSONField(_("conditions"), default=list, blank=True)
    sort_order = models.IntegerField(_("sort order"), default=0)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("approval flow")
        verbose_name_plural = _("approval flows")
        ordering = ["target", "sort_order", "pk"]

    def __str__(self) -> str:
        return self.name

    @classmethod
    def scope_q(cls, user, scope: int) -> Q:
        # Configuration: the grant alone decides who sees and changes it.
        return Q()


class ApproverKind(models.TextChoices):
    UNIT_MANAGER = "unit_manager", _("Submitter's unit manager")
    NEXT_MANAGER = "next_manager", _("That manager's manager")
    ROLE = "role", _("Everyone holding a role")
    USER = "user", _("A named person")


class ApprovalMode(models.TextChoices):
    ANY = "any", _("Any one of them")
    ALL = "all", _("All of them")


class ApprovalStep(models.Model):
    """One step of a flow: who approves (resolved from the org chart when a request is
    submitted) and whether one of them or all of them must approve."""

    flow = models.ForeignKey(
        ApprovalFlow,
        verbose_name=_("approval flow"),
        on_delete=models.CASCADE,
        related_name="steps",
    )
    sort_order = models.IntegerField(_("sort order"), default=0)
    name = models.CharField(_("name"), max_length=60)
    approver_kind = models.CharField(
        _("approver"), max_length=20, choices=ApproverKind.choices, default="unit_manager"
    )
    role = models.ForeignKey(
        Role,
        verbose_name=_("role"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    user = models.ForeignKey(
        User,
        verbose_name=_("person"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    mode = models.CharField(_("mode"), max_length=5, choices=ApprovalMode.choices, default="any")

    class Meta:
        verbose_name = _("approval step")
        verbose_name_plural = _("approval steps")
        ordering = ["flow", "sort_order", "pk"]

    def __str__(self) -> str:
        return self.name


class ApprovalStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    RETURNED = "returned", _("Returned for changes")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class ApprovalRequest(OwnedModel):
    """A record (``target`` + ``object_id``) submitted for approval under a flow. ``owner`` is
    the submitter (his managers see it through their data scope); the approvers of its steps
    see it too (``shared_q``). ``title``, ``amount`` and ``currency`` are what the queue shows,
    copied when it was submitted."""

    record_type = "approval_request"
    audit_fields = ("status", "current_step")

    flow = models.ForeignKey(
        ApprovalFlow,
        verbose_name=_("approval flow"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="requests",
    )
    flow_name = models.CharField(_("approval flow"), max_length=60)
    target = models.CharField(_("record type"), max_length=40)
    object_id = models.BigIntegerField(_("record"))
    title = models.CharField(_("title"), max_length=200)
    amount = models.DecimalField(
        _("amount"), max_digits=16, decimal_places=2, null=True, blank=True
    )
    currency = models.CharField(_("currency"), max_length=3, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=ApprovalStatus.choices, default="pending"
    )
    # Position of the step now waiting (ApprovalRequestStep.position); None once decided.
    current_step = models.PositiveSmallIntegerField(_("current step"), null=True, blank=True)
    submitted_at = models.DateTimeField(_("submitted at"))
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)

    class Meta:
        verbose_name = _("approval request")
        verbose_name_plural = _("approval requests")
        ordering = ["-submitted_at", "-pk"]
        indexes = [
            models.Index(fields=["target", "object_id", "-submitted_at"], name="approval_record"),
            models.Index(fields=["owner", "status", "-submitted_at"], name="approval_owner"),
            models.Index(fields=["status", "-submitted_at"], name="approval_status"),
        ]

    def __str__(self) -> str:
        return self.title

    @classmethod
    def shared_q(cls, user, action: str) -> Q | None:
        """Whoever a step names as approver sees the request (and decides it when his step
        is current: ``tuoke.org.approvals``)."""
        if action not in (Action.VIEW, Action.APPROVE):
            return None
        return Q(
            pk__in=ApprovalRequestStep.approvers.through.objects.filter(user_id=user.pk).values(
                "approvalrequeststep__request_id"
            )
        )


class ApprovalRequestStep(models.Model):
    """A request's copy of one flow step with the approvers resolved when it was submitted."""

    class Status(models.TextChoices):
        WAITING = "waiting", _("Waiting")
        PENDING = "pending", _("Pending")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        RETURNED = "returned", _("Returned for changes")
        CANCELLED = "cancelled", _("Cancelled")

    request = models.ForeignKey(
        ApprovalRequest,
        verbose_name=_("approval request"),
        on_delete=models.CASCADE,
        related_name="steps",
    )
    position = models.PositiveSmallIntegerField(_("position"))
    name = models.CharField(_("name"), max_length=60)
    approver_kind = models.CharField(_("approver"), max_length=20, choices=ApproverKind.choices)
    mode = models.CharField(_("mode"), max_length=5, choices=ApprovalMode.choices, default="any")
    approvers = models.ManyToManyField(User, verbose_name=_("approvers"), related_name="+")
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default="waiting")
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)

    class Meta:
        verbose_name = _("approval request step")
        verbose_name_plural = _("approval request steps")
        ordering = ["request", "position"]
        constraints = [
            models.UniqueConstraint(fields=["request", "position"], name="approval_step_position")
        ]

    def __str__(self) -> str:
        return self.name


class ApprovalAction(models.Model):
    """The history of a request: submitted, approved, rejected, returned, withdrawn, with
    who, when and the comment."""

    class Kind(models.TextChoices):
        SUBMIT = "submit", _("Submitted")
        APPROVE = "approve", _("Approved")
        REJECT = "reject", _("Rejected")
        RETURN = "return", _("Returned for changes")
        WITHDRAW = "withdraw", _("Withdrawn")
        # A manager step with nobody to ask: the submitter is at the top of the org chart.
        SKIP = "skip", _("Skipped")

    request = models.ForeignKey(
        ApprovalRequest,
        verbose_name=_("approval request"),
        on_delete=models.CASCADE,
        related_name="actions",
    )
    step = models.ForeignKey(
        ApprovalRequestStep,
        verbose_name=_("step"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="actions",
    )
    kind = models.CharField(_("action"), max_length=10, choices=Kind.choices)
    actor = models.ForeignKey(
        User,
        verbose_name=_("by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    comment = models.TextField(_("comment"), max_length=2000, blank=True)
    at = models.DateTimeField(_("at"), auto_now_add=True)

    class Meta:
        verbose_name = _("approval action")
        verbose_name_plural = _("approval history")
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.request}"
