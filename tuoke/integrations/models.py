"""Where notifications go beyond the bell: e-mail, WeCom and DingTalk group robots, per user
or per unit, and the log of every delivery attempt."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from tuoke.core.models import TrackedModel

from .secrets import mask_url


class DeliveryChannel(TrackedModel):
    """A way to reach a person (his e-mail, his own robot) or a unit's group chat (a group
    robot that @mentions the person by mobile)."""

    record_type = "delivery_channel"
    audit_fields = ("kind", "name", "user", "unit", "active", "webhook_url")
    # The key in a webhook address is a secret: the trail keeps the address masked.
    audit_masked = {"webhook_url": mask_url}

    class Kind(models.TextChoices):
        EMAIL = "email", _("E-mail")
        WECOM = "wecom", _("WeCom group robot")
        DINGTALK = "dingtalk", _("DingTalk group robot")

    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=100, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="delivery_channels",
    )
    unit = models.ForeignKey(
        "org.OrgUnit",
        verbose_name=_("unit"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="delivery_channels",
    )
    # The robot's address with its key or access token: a secret, never shown back in full.
    webhook_url = models.CharField(_("webhook address"), max_length=500, blank=True)
    # DingTalk's signing secret, encrypted with the SECRET_KEY (tuoke.integrations.secrets).
    secret_encrypted = models.TextField(blank=True, editable=False)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("delivery channel")
        verbose_name_plural = _("delivery channels")
        ordering = ["kind", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(user__isnull=False) | Q(unit__isnull=False),
                name="delivery_channel_has_holder",
            )
        ]

    def __str__(self) -> str:
        return self.name or self.get_kind_display()

    @classmethod
    def scope_q(cls, user, scope: int) -> Q:
        from tuoke.org.models import OrgUnit

        if user.unit_id is None:
            return Q(user=user)
        units = OrgUnit.scope_q(user, scope)
        return Q(user=user) | Q(unit__in=OrgUnit.objects.filter(units))


class Delivery(models.Model):
    """One notification sent (or being sent) through one channel, with its attempts."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    notification = models.ForeignKey(
        "core.Notification",
        verbose_name=_("notification"),
        on_delete=models.CASCADE,
        related_name="deliveries",
    )
    channel = models.ForeignKey(
        DeliveryChannel,
        verbose_name=_("channel"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="deliveries",
    )
    kind = models.CharField(_("kind"), max_length=20, choices=DeliveryChannel.Kind.choices)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["status", "created_at"], name="delivery_status")]

    def __str__(self) -> str:
        return f"{self.kind} → {self.notification_id}: {self.status}"
