"""Contracts (合同) with their approval, payment plans (回款计划: instalments), payments
received (回款) matched to instalments, invoices (发票), sales credit and renewals (续约).

Every write goes through ``tuoke.contracts.services`` (contracts, renewals, attachments),
``tuoke.contracts.payments`` (instalments, payments, sales credit) and
``tuoke.contracts.invoices``; reads that are more than a filter (receivables ageing, renewal
figures) through ``tuoke.contracts.queries``.
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
from tuoke.core.models import Action, OwnedModel, TrackedModel, through
from tuoke.customers.models import Customer, living_index
from tuoke.sales.models import Opportunity


class ContractStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PENDING = "pending", _("Pending approval")
    EFFECTIVE = "effective", _("Effective")
    COMPLETED = "completed", _("Completed")
    TERMINATED = "terminated", _("Terminated")


class CreditRule(models.TextChoices):
    ON_PAYMENT = "payment", _("When money is received (confirmed by finance)")
    ON_APPROVAL = "approval", _("When the contract is approved (becomes effective)")


class ContractSettings(models.Model):
    """The administrator's choices for contracts (one row, ``ContractSettings.current()``)."""

    credit_rule = models.CharField(
        _("sales credit"), max_length=10, choices=CreditRule.choices, default="payment"
    )
    renewal_horizon_days = models.PositiveSmallIntegerField(
        _("renewal reminder (days before the end)"),
        default=60,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("contract settings")
        verbose_name_plural = _("contract settings")

    def __str__(self) -> str:
        return str(self._meta.verbose_name)

    @classmethod
    def current(cls) -> ContractSettings:
        found = cls.objects.order_by("pk").first()
        return found if found is not None else cls.objects.create()


class Contract(OwnedModel, HasCustomFields):
    """A signed deal with a customer. Drafts are edited freely; submitting one starts its
    approval (``tuoke.org.approvals``) and it is read-only while pending; approved (or when no
    flow applies) it becomes effective, which signs the customer. ``renews`` links a renewal
    to the contract it continues."""

    record_type = "contract"
    custom_fields_target = "contract"
    audit_fields = (
        "number",
        "title",
        "customer",
        "opportunity",
        "amount",
        "currency",
        "discount",
        "signed_on",
        "starts_on",
        "ends_on",
        "owner",
        "status",
        "renews",
        "termination_reason",
        "description",
    )

    number = models.CharField(_("contract number"), max_length=40)
    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="contracts"
    )
    opportunity = models.ForeignKey(
        Opportunity,
        verbose_name=_("opportunity"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="contracts",
    )
    title = models.CharField(_("title"), max_length=200)
    amount = models.DecimalField(_("amount"), max_digits=16, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    discount = models.DecimalField(
        _("discount (%)"),
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    signed_on = models.DateField(_("signed on"), null=True, blank=True)
    starts_on = models.DateField(_("starts on"), null=True, blank=True)
    ends_on = models.DateField(_("ends on"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=ContractStatus.choices, default="draft"
    )
    effective_at = models.DateTimeField(_("effective since"), null=True, blank=True)
    closed_at = models.DateTimeField(_("completed or terminated at"), null=True, blank=True)
    termination_reason = models.CharField(_("termination reason"), max_length=500, blank=True)
    renews = models.ForeignKey(
        "self",
        verbose_name=_("renews"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="renewals",
    )
    description = models.TextField(_("description"), max_length=5000, blank=True)
    # Money confirmed as received, kept by tuoke.contracts.payments (for lists and ageing).
    received_amount = models.DecimalField(
        _("received"), max_digits=16, decimal_places=2, default=Decimal("0"), editable=False
    )
    # Without the plain index of TrackedModel: SQLite would read every living contract
    # through it and sort them for a page; the living indexes below serve the lists and the
    # partial one the recycle bin (as for opportunities).
    deleted_at = models.DateTimeField(_("deleted at"), null=True, blank=True)

    class Meta:
        verbose_name = _("contract")
        verbose_name_plural = _("contracts")
        ordering = ["-updated_at", "-pk"]
        constraints = [
            # Over deleted rows too: a number is never given twice.
            models.UniqueConstraint(fields=["number"], name="contract_unique_number"),
        ]
        indexes = [
            living_index("owner", "status", "-updated_at", "-id", name="contract_owner_status"),
            living_index("customer", "status", name="contract_customer"),
            living_index("status", "ends_on", name="contract_status_end"),
            living_index("-updated_at", "-id", name="contract_recent"),
            models.Index(
                fields=["deleted_at"],
                name="contract_deleted",
                condition=Q(deleted_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    @property
    def outstanding(self) -> Decimal:
        return self.amount - self.received_amount

    @property
    def is_locked(self) -> bool:
        """Pending approval: nobody edits it until it is decided or withdrawn."""
        return self.status == ContractStatus.PENDING

    @classmethod
    def shared_q(cls, user, action: str) -> Q | None:
        """Approvers of a contract's approval requests read it."""
        if action != Action.VIEW:
            return None
        from tuoke.org.models import ApprovalRequestStep

        named = ApprovalRequestStep.approvers.through.objects.filter(
            user_id=user.pk, approvalrequeststep__request__target=cls.record_type
        ).values_list("approvalrequeststep__request__object_id", flat=True)
        # The ids first, as opportunities' teams: most people are named in no request, and a
        # condition with a subquery OR-ed into the scope keeps the databases from walking the
        # list's date index (a manager's page sorted every contract of his unit).
        ids = list(named.distinct()[:1001])
        if not ids:
            return None
        if len(ids) > 1000:
            return Q(pk__in=named)
        return Q(pk__in=ids)


class ContractAttachment(TrackedModel):
    """A file kept with a contract (the signed scan …); size and type are checked on upload."""

    contract = models.ForeignKey(
        Contract, verbose_name=_("contract"), on_delete=models.CASCADE, related_name="attachments"
    )
    file = models.FileField(_("file"), upload_to="contracts/%Y/%m/")
    name = models.CharField(_("file name"), max_length=200)
    size = models.PositiveIntegerField(pgettext_lazy("file", "size"))
    content_type = models.CharField(_("type"), max_length=100)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return self.name

    @classmethod
    def scope_q(cls, user, scope: int) -> Q:
        return through("contract", Contract.scope_q(user, scope))


class Instalment(TrackedModel):
    """One instalment of a contract's payment plan: an amount due on a date. ``paid_amount``
    is what confirmed payments matched to it (kept by tuoke.contracts.payments)."""

    audit_fields = ("position", "due_on", "amount", "note")

    contract = models.ForeignKey(
        Contract, verbose_name=_("contract"), on_delete=models.CASCADE, related_name="instalments"
    )
    position = models.PositiveSmallIntegerField(_("instalment"), default=1)
    due_on = models.DateField(_("due on"))
    amount = models.DecimalField(_("amount"), max_digits=16, decimal_places=2)
    paid_amount = models.DecimalField(
        _("paid"), max_digits=16, decimal_places=2, default=Decimal("0"), editable=False
    )
    note = models.CharField(_("note"), max_length=200, blank=True)
    deleted_at = models.DateTimeField(_("deleted at"), null=True, blank=True)

    class Meta:
        verbose_name = _("instalment")
        verbose_name_plural = _("payment plan")
        ordering = ["contract", "due_on", "position", "pk"]
        indexes = [
            living_index("contract", "due_on", name="instalment_contract"),
            living_index("due_on", name="instalment_due"),
            models.Index(
                fields=["deleted_at"],
                name="instalment_deleted",
                condition=Q(deleted_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.contract.number} #{self.position}"

    @property
    def outstanding(self) -> Decimal:
        return self.amount - self.paid_amount

    @classmethod
    def scope_q(cls, user, scope: int) -> Q:
        return through("contract", Contract.scope_q(user, scope))


class PaymentMethod(models.TextChoices):
    BANK_TRANSFER = "bank_transfer", _("Bank transfer")
    ACCEPTANCE_BILL = "acceptance_bill", _("Bank acceptance bill")
    CASH = "cash", _("Cash")
    CHEQUE = "cheque", _("Cheque")
    ONLINE = "online", _("Online payment")
    OTHER = "other", pgettext_lazy("payment method", "Other")


class PaymentStatus(models.TextChoices):
    UNCONFIRMED = "unconfirmed", _("Awaiting finance")
    CONFIRMED = "confirmed", _("Confirmed")
    REJECTED = "rejected", _("Rejected by finance")


class Payment(TrackedModel):
    """Money received for a contract (回款), in the contract's currency. Entered by finance
    (confirmed at once) or by the rep (then confirmed by finance); only confirmed payments
    count as received, are matched to instalments and earn sales credit."""

    record_type = "payment"
    audit_fields = (
        "amount",
        "received_on",
        "method",
        "reference",
        "status",
        "note",
        "over_payment",
    )

    contract = models.ForeignKey(
        Contract, verbose_name=_("contract"), on_delete=models.PROTECT, related_name="payments"
    )
    # Named (not "+"), so that merging customers moves it (merge_customers walks the
    # customer's named relations).
    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="payments"
    )
    amount = models.DecimalField(_("amount"), max_digits=16, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    received_on = models.DateField(_("received on"))
    method = models.CharField(
        _("method"), max_length=20, choices=PaymentMethod.choices, default="bank_transfer"
    )
    reference = models.CharField(_("bank reference"), max_length=100, blank=True)
    note = models.CharField(_("note"), max_length=500, blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=PaymentStatus.choices, default="unconfirmed"
    )
    # Explicitly allowed to take the contract's received money above its amount.
    over_payment = models.BooleanField(_("over-payment allowed"), default=False)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("confirmed by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    deleted_at = models.DateTimeField(_("deleted at"), null=True, blank=True)

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["-received_on", "-pk"]
        indexes = [
            living_index("contract", "received_on", name="payment_contract"),
            living_index("status", "received_on", name="payment_status"),
            living_index("received_on", name="payment_received"),
            # What changed last (receivables' fingerprint, tuoke.contracts.queries).
            living_index("-updated_at", name="payment_recent"),
            models.Index(
                fields=["deleted_at"],
                name="payment_deleted",
                condition=Q(deleted_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.contract.number} {self.amount} {self.currency}"

    @classmethod
    def scope_q(cls, user, scope: int) -> Q:
        return through("contract", Contract.scope_q(user, scope))


class PaymentAllocation(models.Model):
    """The part of a confirmed payment matched to one instalment."""

    payment = models.ForeignKey(
        Payment, verbose_name=_("payment"), on_delete=models.CASCADE, related_name="allocations"
    )
    instalment = models.ForeignKey(
        Instalment,
        verbose_name=_("instalment"),
        on_delete=models.CASCADE,
        related_name="allocations",
    )
    amount = models.DecimalField(_("amount"), max_digits=16, decimal_places=2)

    class Meta:
        verbose_name = _("payment allocation")
        verbose_name_plural = _("payment allocations")

    def __str__(self) -> str:
        return f"{self.payment_id} → {self.instalment_id}: {self.amount}"


class InvoiceKind(models.TextChoices):
    VAT_SPECIAL = "vat_special", _("VAT special invoice (增值税专用发票)")
    VAT_NORMAL = "vat_normal", _("VAT normal invoice (普通发票)")
    ELECTRONIC = "electronic", _("Fully digitalised e-invoice (数电发票)")


class InvoiceStatus(models.TextChoices):
    REQUESTED = "requested", _("Requested")
    ISSUED = "issued", _("Issued")
    VOID = "void", _("Void")


class Invoice(TrackedModel):
    """An invoice issued for a contract: ``amount`` includes tax at ``tax_rate`` %."""

    record_type = "invoice"
    audit_fields = ("number", "kind", "amount", "tax_rate", "issued_on", "status", "note")

    contract = models.ForeignKey(
        Contract, verbose_name=_("contract"), on_delete=models.PROTECT, related_name="invoices"
    )
    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="invoices"
    )
    number = models.CharField(_("invoice number"), max_length=40, blank=True)
    kind = models.CharField(
        _("invoice type"), max_length=20, choices=InvoiceKind.choices, default="vat_special"
    )
    amount = models.DecimalField(_("amount incl. tax"), max_digits=16, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    tax_rate = models.DecimalField(
        _("tax rate (%)"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("13"),
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    issued_on = models.DateField(_("issued on"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=InvoiceStatus.choices, default="requested"
    )
    note = models.CharField(_("note"), max_length=500, blank=True)
    deleted_at = models.DateTimeField(_("deleted at"), null=True, blank=True)

    class Meta:
        verbose_name = _("invoice")
        verbose_name_plural = _("invoices")
        ordering = ["-issued_on", "-pk"]
        indexes = [
            living_index("contract", "issued_on", name="invoice_contract"),
            living_index("-issued_on", "-id", name="invoice_recent"),
            models.Index(
                fields=["deleted_at"],
                name="invoice_deleted",
                condition=Q(deleted_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return self.number or f"{self.contract.number} · {self.amount}"

    @property
    def tax_amount(self) -> Decimal:
        return (self.amount * self.tax_rate / (100 + self.tax_rate)).quantize(Decimal("0.01"))

    @classmethod
    def scope_q(cls, user, scope: int) -> Q:
        return through("contract", Contract.scope_q(user, scope))


class SalesCredit(models.Model):
    """Credit for a sale, given to the contract's owner (and his unit at that time) when the
    credit rule says: on a confirmed payment (the default) or when the contract becomes
    effective. Targets and leaderboards read it through ``tuoke.contracts.payments``."""

    class Cause(models.TextChoices):
        PAYMENT = "payment", _("Payment received")
        APPROVAL = "approval", _("Contract effective")
        REVERSAL = "reversal", _("Reversed")

    contract = models.ForeignKey(
        Contract, verbose_name=_("contract"), on_delete=models.CASCADE, related_name="credits"
    )
    payment = models.ForeignKey(
        Payment,
        verbose_name=_("payment"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="credits",
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("credited to"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    unit = models.ForeignKey(
        "org.OrgUnit",
        verbose_name=_("unit"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    cause = models.CharField(
        pgettext_lazy("sales credit", "cause"), max_length=10, choices=Cause.choices
    )
    amount = models.DecimalField(_("amount"), max_digits=16, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3)
    # The amount in the reporting currency with the rate of ``credited_on``.
    reporting_amount = models.DecimalField(
        _("amount (reporting currency)"), max_digits=16, decimal_places=2
    )
    credited_on = models.DateField(_("credited on"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("sales credit")
        verbose_name_plural = _("sales credit")
        ordering = ["-credited_on", "-pk"]
        indexes = [
            models.Index(fields=["owner", "credited_on"], name="credit_owner_day"),
            models.Index(fields=["unit", "credited_on"], name="credit_unit_day"),
            models.Index(fields=["credited_on"], name="credit_day"),
        ]

    def __str__(self) -> str:
        return f"{self.owner_id} {self.amount} {self.currency} ({self.credited_on})"
