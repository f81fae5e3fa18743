"""How contracts plug into the rest of Tuoke (grants, approvals, handover, timeline, daily
plan, lifecycle): everything is registered from ``install``, called by ``ContractsConfig.ready``."""


def install() -> None:
    from tuoke.core.models import Action, Scope
    from tuoke.org import defaults

    work = (Action.VIEW, Action.CREATE, Action.EDIT, Action.DELETE, Action.EXPORT)
    team_work = {**dict.fromkeys(work, Scope.SUBTREE), Action.APPROVE: Scope.SUBTREE}
    read_all = {Action.VIEW: Scope.ALL, Action.EXPORT: Scope.ALL}
    everything = dict.fromkeys(Action.values, Scope.ALL)
    # Reps draft their own contracts; managers steer their team's; the boss and finance read
    # all of them (finance changes money, not the contracts' terms).
    defaults.extend(
        "contract",
        {
            "boss": {**read_all, Action.APPROVE: Scope.ALL},
            "director": team_work,
            "sales_manager": team_work,
            "sales_rep": dict.fromkeys(work, Scope.OWN),
            "customer_service": {Action.VIEW: Scope.OWN},
            "finance": read_all,
        },
    )
    # Payments: reps record what their customers paid (finance confirms it); finance records,
    # confirms (approve) and corrects every payment.
    record = {Action.VIEW: Scope.OWN, Action.CREATE: Scope.OWN}
    team_record = {Action.VIEW: Scope.SUBTREE, Action.CREATE: Scope.SUBTREE}
    defaults.extend(
        "payment",
        {
            "boss": read_all,
            "director": {**team_record, Action.EXPORT: Scope.SUBTREE},
            "sales_manager": {**team_record, Action.EXPORT: Scope.SUBTREE},
            "sales_rep": record,
            "customer_service": {Action.VIEW: Scope.OWN},
            "finance": everything,
        },
    )
    # Invoices: reps request them for their contracts; finance issues and voids them.
    defaults.extend(
        "invoice",
        {
            "boss": read_all,
            "director": {**team_record, Action.EXPORT: Scope.SUBTREE},
            "sales_manager": {**team_record, Action.EXPORT: Scope.SUBTREE},
            "sales_rep": record,
            "customer_service": {Action.VIEW: Scope.OWN},
            "finance": everything,
        },
    )
    _install_approval_target()
    _install_handover()
    _install_timeline_and_plan()
    # Merging customers moves their contracts, payments and invoices: merge_customers walks
    # every named relation to the customer (Contract.customer, Payment.customer and
    # Invoice.customer are named for that), so nothing to register for it.


def contract_facts(contract) -> dict:
    """What approval flows' conditions test on a contract: the amount in the reporting
    currency (at the rate of its signed date, else today's; MissingRate when finance has not
    entered one), the discount, whether it is in a foreign currency, and the currency."""
    from django.utils import timezone

    from tuoke.core.money import reporting_currency, to_reporting

    day = contract.signed_on or timezone.localdate()
    return {
        "amount": to_reporting(contract.amount, contract.currency, on=day),
        "discount": contract.discount,
        "foreign_currency": contract.currency != reporting_currency(),
        "currency": contract.currency,
    }


def describe_contract(contract) -> tuple:
    return f"{contract.number} {contract.title}", contract.amount, contract.currency


def contract_url(contract) -> str:
    from django.urls import reverse

    return reverse("contracts:contract_detail", args=[contract.pk])


def load_contract(pk: int):
    from .models import Contract

    return Contract.all_objects.select_related("customer", "owner").filter(pk=pk).first()


def on_approved(contract, request, by) -> None:
    from .services import make_effective

    make_effective(contract, by=by)


def on_sent_back(contract, request, by) -> None:
    """Rejected, returned for changes or withdrawn: the contract is a draft again."""
    from .services import back_to_draft

    back_to_draft(contract, by=by, request=request)


def _install_approval_target() -> None:
    from django.utils.translation import gettext_lazy

    from tuoke.org import approvals

    approvals.register_target(
        approvals.Target(
            record_type="contract",
            label=gettext_lazy("Contract"),
            facts=(
                approvals.Fact("amount", gettext_lazy("Amount (reporting currency)"), "money"),
                approvals.Fact("discount", gettext_lazy("Discount (%)"), "percent"),
                approvals.Fact("foreign_currency", gettext_lazy("Foreign currency"), "boolean"),
                approvals.Fact("currency", gettext_lazy("Currency"), "text"),
            ),
            facts_of=contract_facts,
            describe=describe_contract,
            url_of=contract_url,
            load=load_contract,
            on_approved=on_approved,
            on_rejected=on_sent_back,
            on_returned=on_sent_back,
            on_withdrawn=on_sent_back,
        )
    )


def _install_handover() -> None:
    from django.utils.translation import gettext_lazy

    from tuoke.org import handover

    from . import services
    from .models import Contract, ContractStatus

    # Drafts, pending and effective contracts go with a handover (someone must follow them
    # and their payments); completed and terminated ones are history and stay.
    handover.register(
        handover.Kind(
            key="contracts",
            label=gettext_lazy("contracts in progress"),
            record_type=Contract.record_type,
            owned_by=lambda person: Contract.objects.filter(
                owner=person,
                status__in=(
                    ContractStatus.DRAFT,
                    ContractStatus.PENDING,
                    ContractStatus.EFFECTIVE,
                ),
            ),
            transfer=services.transfer_contracts,
            order=35,
        )
    )


def _install_timeline_and_plan() -> None:
    from . import plan, timeline

    timeline.register_sources()  # contracts, approvals, payments, invoices on the customer's
    plan.register_sources()  # overdue instalments and renewals due on the owners' plans
