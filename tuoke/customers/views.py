"""Pages for one customer: create (with the while-typing duplicate check), the customer page,
edit, contacts, lifecycle override, collaborators, merge and access requests.

Every record comes in through ``tuoke.core.scope``; every write goes through
``tuoke.customers.services``."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.template import TemplateDoesNotExist
from django.template.loader import select_template
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tuoke.core import custom_fields
from tuoke.core.errors import Conflict
from tuoke.core.models import Action, Scope
from tuoke.core.scope import can, get_for, get_for_action, may_act_on, require, scope_of
from tuoke.core.views import add_service_error, audit_trail, is_htmx, next_url, paginate
from tuoke.org.models import User

from . import matching, queries, services
from .forms import (
    AccessDecisionForm,
    AccessRequestForm,
    CollaboratorForm,
    ContactForm,
    CustomerForm,
    LifecycleOverrideForm,
    QuickCustomerForm,
    TagsForm,
    looks_like_legal_name,
    watch_for_duplicates,
)
from .models import AccessRequest, Collaborator, Contact, Customer, LifecycleStatus

# The timeline the activities app will provide for the customer page; shown once it exists.
TIMELINE_TEMPLATE = "activities/_customer_timeline.html"

MERGE_CANDIDATES = 20
# Input longer than any real name or code is cut before matching (the check runs per keystroke).
MATCH_INPUT_LIMIT = 200


# --- Helpers ------------------------------------------------------------------------------------


def _optional_template(name: str) -> str | None:
    try:
        select_template([name])
    except TemplateDoesNotExist:
        return None
    return name


def _owner_choices(user):
    """Whom a creator may make the owner: only managers (a scope wider than his own) choose."""
    if scope_of(user, "customer", Action.CREATE) <= Scope.OWN:
        return None
    return User.objects.visible_to(user).filter(is_active=True).order_by("username")


CONTACT_INPUTS = ("contact_mobile", "contact_phone", "contact_email")


def _show_error(form, exc: ValidationError | Conflict, aliases: dict[str, str] | None = None):
    """A service's refusal on the form field that shows the value it is about."""
    if isinstance(exc, ValidationError) and hasattr(exc, "error_dict"):
        aliases = {
            "mobile": "contact_mobile",
            "phone": "contact_phone",
            "email": "contact_email",
            "name": "contact_name",
            **(aliases or {}),
        }
        data = form.cleaned_data if hasattr(form, "cleaned_data") else {}
        remapped: dict[str, list] = {}
        for field, errors in exc.error_dict.items():
            target = field
            if field.startswith("custom."):
                target = custom_fields.form_field_name(field.removeprefix("custom."))
            elif field == "contacts":
                given = [
                    n for n in ("contact_mobile", "contact_phone", "contact_email") if data.get(n)
                ]
                target = given[0] if given else "__all__"
            elif field not in form.fields:
                target = aliases.get(field, "__all__")
            remapped.setdefault(target, []).extend(errors)
        exc = ValidationError(remapped)
    add_service_error(form, exc)


def _match_input(data, name: str) -> str:
    return str(data.get(name, ""))[:MATCH_INPUT_LIMIT]


def _duplicates_context(user, data, *, exclude: Customer | None = None) -> dict[str, Any]:
    """What the duplicate panel shows for the typed values: the same company (blocking) and
    similar ones. A customer the user may not see shows only its name and owner."""
    legal, short = _match_input(data, "legal_name"), _match_input(data, "short_name")
    name = _match_input(data, "name").strip()
    if name:
        legal, short = (name, "") if looks_like_legal_name(name) else ("", name)
    credit_code = _match_input(data, "credit_code").strip()
    credit_error = ""
    if credit_code:
        try:
            matching.validate_credit_code(credit_code)
        except ValidationError as exc:
            credit_error = " ".join(exc.messages)
    phones = [_match_input(data, n) for n in ("contact_mobile", "contact_phone")]
    report = services.find_duplicates(
        user=user,
        legal_name=legal,
        short_name=short,
        credit_code=credit_code,
        phones=[p for p in phones if p.strip()],
        emails=[e for e in [_match_input(data, "contact_email")] if e.strip()],
        exclude=exclude,
    )
    hidden_ids = [c.customer.pk for c in report.same + report.similar if not c.visible]
    asked = set(
        AccessRequest.objects.filter(
            requester=user, status=AccessRequest.Status.PENDING, customer_id__in=hidden_ids
        ).values_list("customer_id", flat=True)
        if hidden_ids
        else ()
    )

    def entry(candidate: services.Candidate) -> dict[str, Any]:
        customer = candidate.customer
        shown: dict[str, Any] = {
            "name": customer.display_name,
            "owner": customer.owner,
            "visible": candidate.visible,
        }
        if candidate.visible:
            shown["reasons"] = [str(r) for r in candidate.match.reasons]
            shown["url"] = reverse("customers:customer_detail", args=[customer.pk])
        elif customer.pk in asked:
            shown["asked"] = True
        else:
            token = services.access_token(user, customer)
            shown["ask_url"] = (
                reverse("customers:access_request_create") + "?" + urlencode({"token": token})
            )
        return shown

    return {
        "same": [entry(c) for c in report.same],
        "similar": [entry(c) for c in report.similar],
        "credit_error": credit_error,
        "allow_similar": str(data.get("allow_similar", "")).lower() in ("on", "true", "1"),
    }


# --- Create -------------------------------------------------------------------------------------


@login_required
def customer_create(request):
    """The full form: facts, tags, custom fields and the first contact."""
    require(request.user, "customer", Action.CREATE)
    form = CustomerForm(request.POST or None, owners=_owner_choices(request.user))
    watch_for_duplicates(form, reverse("customers:customer_duplicates"))
    duplicates = None
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                customer = services.create_customer(
                    by=request.user,
                    owner=data.get("owner") or request.user,
                    tags=data["tags"],
                    contacts=form.contacts(),
                    allow_similar=data["allow_similar"],
                    **form.facts(),
                )
            except ValidationError as exc:
                _show_error(form, exc)
            else:
                messages.success(
                    request, _("Customer “%(name)s” was created.") % {"name": customer}
                )
                return redirect("customers:customer_detail", pk=customer.pk)
        duplicates = _duplicates_context(request.user, request.POST)
    return render(
        request,
        "customers/customer_form.html",
        {
            "form": form,
            "customer": None,
            "duplicates": duplicates,
            "provinces": matching.PROVINCES,
        },
    )


@login_required
def customer_quick_create(request):
    """A name, a contact and his mobile: what a rep types on his phone after a meeting."""
    require(request.user, "customer", Action.CREATE)
    form = QuickCustomerForm(request.POST or None)
    watch_for_duplicates(form, reverse("customers:customer_duplicates"))
    duplicates = None
    if request.method == "POST":
        if form.is_valid():
            try:
                customer = services.create_customer(
                    by=request.user,
                    contacts=form.contacts(),
                    allow_similar=form.cleaned_data["allow_similar"],
                    **form.facts(),
                )
            except ValidationError as exc:
                _show_error(
                    form,
                    exc,
                    {"legal_name": "name", "short_name": "name", "credit_code": "name"},
                )
            else:
                messages.success(
                    request, _("Customer “%(name)s” was created.") % {"name": customer}
                )
                return redirect("customers:customer_detail", pk=customer.pk)
        duplicates = _duplicates_context(request.user, request.POST)
    return render(
        request,
        "customers/customer_quick_form.html",
        {"form": form, "duplicates": duplicates},
    )


@login_required
@require_POST
def customer_duplicates(request):
    """The duplicate panel for what was typed so far (htmx, while typing)."""
    user = request.user
    if not (can(user, "customer", Action.CREATE) or can(user, "customer", Action.EDIT)):
        raise PermissionDenied(_("You do not have permission to do this."))
    exclude = None
    if request.POST.get("exclude"):
        exclude = get_for(user, Customer, request.POST["exclude"])
    context = _duplicates_context(user, request.POST, exclude=exclude)
    context["swap_credit_code"] = "credit_code" in request.POST
    return render(request, "customers/_duplicates.html", {"duplicates": context, **context})


# --- The customer page --------------------------------------------------------------------------


def _customer_page_context(request, customer: Customer) -> dict[str, Any]:
    user = request.user
    may_edit = may_act_on(user, customer, Action.EDIT)
    contacts = paginate(
        request,
        Contact.objects.visible_to(user)
        .filter(customer=customer)
        .order_by(*Contact._meta.ordering),
        per_page=20,
    )
    for contact in contacts.object_list:
        contact.mobile_shown = matching.format_phone(contact.mobile) if contact.mobile else ""
        contact.phone_shown = matching.format_phone(contact.phone) if contact.phone else ""
    lifecycle = paginate(
        request, customer.lifecycle_changes.select_related("by"), per_page=10, param="life_page"
    )
    pending = []
    if may_edit:
        pending = list(
            customer.access_requests.filter(status=AccessRequest.Status.PENDING)
            .select_related("requester")
            .order_by("created_at")[:50]
        )
    collaborators = list(customer.collaborations.select_related("user").order_by("user__username"))
    people = None
    if may_edit:
        people = (
            User.objects.visible_to(user)
            .filter(is_active=True)
            .exclude(pk=customer.owner_id)
            .order_by("username")
        )
    return {
        "customer": customer,
        "facts": _facts(customer),
        "custom_values": [
            (definition, text)
            for definition, text in custom_fields.shown_values(
                Customer.custom_fields_target, customer.custom
            )
        ],
        "contacts_page": contacts,
        "lifecycle_page": lifecycle,
        "collaborators": collaborators,
        "pending_requests": pending,
        "collaborator_form": CollaboratorForm(people=people) if may_edit else None,
        "tags_form": TagsForm(initial={"tags": [t.pk for t in customer.tags.all()]})
        if may_edit
        else None,
        "may_edit": may_edit,
        "may_delete": may_act_on(user, customer, Action.DELETE),
        "may_override": can(user, "customer", Action.APPROVE)
        and may_act_on(user, customer, Action.APPROVE),
        "may_add_contact": may_edit and can(user, "contact", Action.CREATE),
        "may_edit_contacts": may_edit and can(user, "contact", Action.EDIT),
        "may_delete_contacts": may_edit and can(user, "contact", Action.DELETE),
        "may_create_tag": can(user, "tag", Action.CREATE),
        "audit_page": audit_trail(request, customer),
        "timeline_template": _optional_template(TIMELINE_TEMPLATE),
    }


def _facts(customer: Customer) -> list[tuple[str, str, str]]:
    """(key, label, text) of the customer's facts, choices shown by their labels."""
    shown = []
    for name in (
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
        "tier",
    ):
        field = Customer._meta.get_field(name)
        value = (
            getattr(customer, f"get_{name}_display")() if field.choices else getattr(customer, name)
        )
        shown.append((name, str(field.verbose_name), str(value or "")))
    return shown


def _customers():
    return Customer.objects.select_related("owner", "owner__unit").prefetch_related("tags")


@login_required
def customer_detail(request, pk: int):
    customer = get_for(request.user, _customers(), pk)
    return render(
        request, "customers/customer_detail.html", _customer_page_context(request, customer)
    )


@login_required
def customer_edit(request, pk: int):
    customer = get_for_action(request.user, _customers(), pk, Action.EDIT)
    form = CustomerForm(request.POST or None, customer=customer)
    watch_for_duplicates(form, reverse("customers:customer_duplicates"))
    duplicates = None
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.update_customer(
                    customer,
                    by=request.user,
                    expected_version=data.get("version"),
                    tags=data["tags"],
                    allow_similar=data["allow_similar"],
                    **form.facts(),
                )
            except (ValidationError, Conflict) as exc:
                _show_error(form, exc)
            else:
                messages.success(request, _("Customer “%(name)s” was saved.") % {"name": customer})
                return redirect("customers:customer_detail", pk=customer.pk)
        duplicates = _duplicates_context(request.user, request.POST, exclude=customer)
    return render(
        request,
        "customers/customer_form.html",
        {
            "form": form,
            "customer": customer,
            "duplicates": duplicates,
            "provinces": matching.PROVINCES,
        },
    )


@login_required
def customer_delete(request, pk: int):
    customer = get_for_action(request.user, Customer, pk, Action.DELETE)
    if request.method == "POST":
        services.delete_customer(customer, by=request.user)
        messages.success(
            request,
            _("Customer “%(name)s” was moved to the recycle bin.") % {"name": customer},
        )
        return redirect("customers:customer_list")
    return render(
        request,
        "customers/customer_delete.html",
        {"customer": customer, "contact_count": customer.contacts.count()},
    )


@login_required
@require_POST
def customer_tags(request, pk: int):
    """Change the customer's tags in place (htmx) or by a plain form post."""
    customer = get_for_action(request.user, _customers(), pk, Action.EDIT)
    form = TagsForm(request.POST)
    error = ""
    if form.is_valid():
        tags = list(form.cleaned_data["tags"])
        try:
            if form.cleaned_data["new_tag"].strip():
                require(request.user, "tag", Action.CREATE)
                tags.append(services.tag_named(form.cleaned_data["new_tag"], by=request.user))
            services.update_customer(customer, by=request.user, tags=tags)
        except ValidationError as exc:
            error = " ".join(exc.messages)
    else:
        error = " ".join(e for errors in form.errors.values() for e in errors)
    if not is_htmx(request):
        if error:
            messages.error(request, error)
        return redirect("customers:customer_detail", pk=customer.pk)
    customer = get_for(request.user, _customers(), pk)
    return render(
        request,
        "customers/_tags.html",
        {
            "customer": customer,
            "tags_form": TagsForm(initial={"tags": [t.pk for t in customer.tags.all()]}),
            "may_edit": True,
            "may_create_tag": can(request.user, "tag", Action.CREATE),
            "tags_error": error,
        },
    )


# --- Lifecycle ----------------------------------------------------------------------------------


@login_required
def customer_lifecycle(request, pk: int):
    """A manager sets the lifecycle status by hand, with a reason (reps never get here)."""
    customer = get_for_action(request.user, Customer, pk, Action.APPROVE)
    form = LifecycleOverrideForm(
        request.POST or None, initial={"to_status": customer.lifecycle_status}
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.override_lifecycle(
                customer, to=data["to_status"], reason=data["reason"], by=request.user
            )
        except ValidationError as exc:
            add_service_error(form, exc)
        else:
            messages.success(
                request,
                _("The lifecycle status of “%(name)s” is now %(status)s.")
                % {"name": customer, "status": LifecycleStatus(data["to_status"]).label},
            )
            return redirect("customers:customer_detail", pk=customer.pk)
    return render(
        request,
        "customers/customer_lifecycle.html",
        {"customer": customer, "form": form},
    )


# --- Collaborators ------------------------------------------------------------------------------


@login_required
@require_POST
def customer_collaborators(request, pk: int):
    """Add a collaborator or change his access (user, access), or remove one (remove=user id)."""
    customer = get_for_action(request.user, Customer, pk, Action.EDIT)
    remove = request.POST.get("remove")
    if remove:
        link = None
        if remove.isdigit():
            links = Collaborator.objects.filter(customer=customer, user_id=remove)
            link = links.select_related("user").first()
        if link is None:
            raise Http404
        services.set_collaborator(customer, user=link.user, access=None, by=request.user)
        messages.success(
            request, _("%(name)s no longer collaborates on this customer.") % {"name": link.user}
        )
        return redirect("customers:customer_detail", pk=customer.pk)
    people = User.objects.visible_to(request.user).filter(is_active=True)
    form = CollaboratorForm(request.POST, people=people)
    if form.is_valid():
        try:
            services.set_collaborator(
                customer,
                user=form.cleaned_data["user"],
                access=form.cleaned_data["access"],
                by=request.user,
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(
                request,
                _("%(name)s collaborates on this customer now.")
                % {"name": form.cleaned_data["user"]},
            )
    else:
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
    return redirect("customers:customer_detail", pk=customer.pk)


# --- Merge --------------------------------------------------------------------------------------


@login_required
def customer_merge(request, pk: int):
    """Fold another customer into this one: pick it, see what moves, confirm."""
    keep = get_for_action(request.user, _customers(), pk, Action.EDIT)
    user = request.user
    other_id = request.POST.get("other") or request.GET.get("other")
    if other_id:
        other = get_for_action(user, _customers(), other_id, Action.DELETE)
        if other.pk == keep.pk:
            raise Http404
        if request.method == "POST":
            try:
                services.merge_customers(keep=keep, merge=other, by=user)
            except ValidationError as exc:
                messages.error(request, " ".join(exc.messages))
            else:
                messages.success(
                    request,
                    _("“%(other)s” was merged into this customer.") % {"other": other},
                )
                return redirect("customers:customer_detail", pk=keep.pk)
        return render(
            request,
            "customers/customer_merge_confirm.html",
            {
                "keep": keep,
                "other": other,
                "preview": services.merge_preview(keep=keep, merge=other),
            },
        )
    query = request.GET.get("q", "").strip()[:100]
    mergeable = Customer.objects.visible_to(user, Action.DELETE).exclude(pk=keep.pk)
    if query:
        candidates = list(
            queries.search(mergeable, query).select_related("owner")[:MERGE_CANDIDATES]
        )
    else:
        report = services.find_duplicates(
            user=user,
            legal_name=keep.legal_name,
            short_name=keep.short_name,
            credit_code=keep.credit_code,
            phones=[p for c in keep.contacts.all() for p in (c.mobile, c.phone) if p],
            emails=[c.email for c in keep.contacts.all() if c.email],
            exclude=keep,
        )
        ids = [c.customer.pk for c in report.same + report.similar if c.visible]
        found = {c.pk: c for c in mergeable.filter(pk__in=ids).select_related("owner")}
        candidates = [found[i] for i in ids if i in found]
    return render(
        request,
        "customers/customer_merge.html",
        {"keep": keep, "candidates": candidates, "query": query},
    )


# --- Contacts -----------------------------------------------------------------------------------


def _contacts_of(customer_id: int) -> str:
    return reverse("customers:customer_detail", args=[customer_id]) + "#contacts"


@login_required
def contact_create(request, pk: int):
    customer = get_for_action(request.user, Customer, pk, Action.EDIT)
    require(request.user, "contact", Action.CREATE)
    form = ContactForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            contact = services.create_contact(
                customer, by=request.user, custom=form.custom_values(), **form.facts()
            )
        except ValidationError as exc:
            _show_error(
                form, exc, {"mobile": "mobile", "phone": "phone", "email": "email", "name": "name"}
            )
        else:
            messages.success(request, _("Contact “%(name)s” was added.") % {"name": contact})
            return redirect(_contacts_of(customer.pk))
    return render(
        request,
        "customers/contact_form.html",
        {"form": form, "customer": customer, "contact": None},
    )


@login_required
def contact_edit(request, pk: int):
    contact = get_for_action(
        request.user, Contact.objects.select_related("customer"), pk, Action.EDIT
    )
    customer = get_for_action(request.user, Customer, contact.customer_id, Action.EDIT)
    form = ContactForm(request.POST or None, contact=contact)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_contact(
                contact,
                by=request.user,
                expected_version=form.cleaned_data.get("version"),
                custom=form.custom_values(contact.custom),
                **form.facts(),
            )
        except (ValidationError, Conflict) as exc:
            _show_error(
                form, exc, {"mobile": "mobile", "phone": "phone", "email": "email", "name": "name"}
            )
        else:
            messages.success(request, _("Contact “%(name)s” was saved.") % {"name": contact})
            return redirect(_contacts_of(customer.pk))
    return render(
        request,
        "customers/contact_form.html",
        {"form": form, "customer": customer, "contact": contact},
    )


@login_required
def contact_delete(request, pk: int):
    contact = get_for_action(
        request.user, Contact.objects.select_related("customer"), pk, Action.DELETE
    )
    if request.method == "POST":
        services.delete_contact(contact, by=request.user)
        messages.success(
            request, _("Contact “%(name)s” was moved to the recycle bin.") % {"name": contact}
        )
        return redirect(
            reverse("customers:customer_detail", args=[contact.customer_id]) + "#contacts"
        )
    return render(request, "customers/contact_delete.html", {"contact": contact})


# --- Access requests ----------------------------------------------------------------------------


@login_required
def access_request_list(request):
    """The requests I made (with their answers) and those waiting for my answer."""
    user = request.user
    mine = paginate(
        request,
        services.requests_of(user).select_related("customer", "customer__owner", "decided_by"),
        param="mine_page",
    )
    waiting = paginate(
        request,
        services.requests_to_decide(user).select_related("customer", "requester"),
    )
    return render(
        request,
        "customers/access_request_list.html",
        {"mine": mine, "waiting": waiting},
    )


@login_required
def access_request_create(request):
    """Ask the owner of a customer the duplicate check showed (by name and owner only)."""
    token = request.POST.get("token") or request.GET.get("token") or ""
    customer = services.customer_for_access_token(request.user, token)
    form = AccessRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.request_access(
                customer,
                by=request.user,
                access=form.cleaned_data["access"],
                message=form.cleaned_data["message"],
            )
        except ValidationError as exc:
            add_service_error(form, exc)
        else:
            messages.success(
                request,
                _("Your request was sent to %(owner)s. You will find the answer here.")
                % {"owner": customer.owner},
            )
            return redirect("customers:access_request_list")
    return render(
        request,
        "customers/access_request_form.html",
        {"form": form, "name": customer.display_name, "owner": customer.owner, "token": token},
    )


@login_required
@require_POST
def access_request_decide(request, pk: int):
    """The owner (or whoever may edit the customer) grants or declines a request."""
    access_request = services.request_to_decide(request.user, pk)
    form = AccessDecisionForm(request.POST)
    default = reverse("customers:customer_detail", args=[access_request.customer_id])
    if not form.is_valid():
        messages.error(request, _("Choose to grant or to decline the request."))
        return redirect(next_url(request, default))
    data = form.cleaned_data
    try:
        if data["decision"] == "grant":
            services.grant_access_request(
                access_request, by=request.user, access=data["access"] or None, note=data["note"]
            )
            note = _("%(name)s may now work on this customer.")
        else:
            services.decline_access_request(access_request, by=request.user, note=data["note"])
            note = _("The request of %(name)s was declined.")
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, note % {"name": access_request.requester})
    return redirect(next_url(request, default))
