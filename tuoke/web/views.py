"""The shell's own pages: home, search, account, and the friendly error pages."""

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tuoke.core import search as core_search
from tuoke.core.models import Action, AuditEntry, Scope
from tuoke.core.scope import can, grants_of, record_types, scope_of
from tuoke.org import services as org_services
from tuoke.org.models import ApiToken, OrgUnit, User


@login_required
def home(request):
    """A home page that fits the role: for people who work with customers their Today page
    (tuoke.activities.views_plan); else what the user may see, his team, and for
    administrators the state of the organisation."""
    from tuoke.activities import plan, views_plan

    user = request.user
    if plan.uses_today(user):
        return views_plan.render_today(request)
    team = (
        User.objects.visible_to(user)
        .filter(is_active=True)
        .exclude(pk=user.pk)
        .select_related("unit")
        .order_by("unit__path", "username")
    )
    scopes = []
    for key, model in record_types().items():
        scope = scope_of(user, key, Action.VIEW)
        if scope > Scope.NONE:
            scopes.append((model._meta.verbose_name_plural, Scope(scope).label))
    context = {
        "team": team[:12],
        "team_count": team.count(),
        "scopes": scopes,
        "is_admin": can(user, "user", Action.ADMINISTER),
        "roles": user.roles.all(),
    }
    if context["is_admin"]:
        context["org_stats"] = {
            "users": User.objects.filter(is_active=True).count(),
            "inactive": User.objects.filter(is_active=False).count(),
            "units": OrgUnit.objects.count(),
        }
        context["recent"] = AuditEntry.objects.select_related("actor", "content_type")[:8]
    if can(user, "plan_setting", Action.EDIT):
        from tuoke.activities.models import PlanRun

        context["last_plan_run"] = PlanRun.objects.first()
        context["plan_settings"] = True
    return render(request, "web/home.html", context)


# Hits per source: on the results page, on it for one source, and in the top bar's dropdown.
SEARCH_PAGE_LIMIT = 10
SEARCH_SOURCE_LIMIT = 50
SEARCH_QUICK_LIMIT = 5


@login_required
def search(request):
    """Global search over every kind of record the user may read, within his data scope;
    ``?source=customers`` shows more hits of one kind."""
    query = core_search.clean_query(request.GET.get("q"))
    source = core_search.get_source(request.GET.get("source", ""))
    if source is not None and not source.allowed(request.user):
        source = None
    groups = core_search.search(
        request.user,
        query,
        SEARCH_SOURCE_LIMIT if source else SEARCH_PAGE_LIMIT,
        only=source.key if source else None,
    )
    return render(
        request,
        "web/search.html",
        {"query": query, "groups": groups, "source": source, "limit": SEARCH_SOURCE_LIMIT},
    )


@login_required
def search_quick(request):
    """The top bar's dropdown while typing (htmx): a few hits of each kind."""
    query = core_search.clean_query(request.GET.get("q"))
    groups = core_search.search(request.user, query, SEARCH_QUICK_LIMIT)
    return render(request, "web/_search_quick.html", {"query": query, "groups": groups})


@login_required
def account(request):
    user = request.user
    if request.method == "POST":
        language = request.POST.get("language", "")
        try:
            org_services.update_user(
                user,
                by=user,
                display_name=request.POST.get("display_name", user.display_name),
                email=request.POST.get("email", user.email),
                mobile=request.POST.get("mobile", user.mobile),
                language=language,
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                for error in errors:
                    messages.error(request, f"{field}: {error}")
        else:
            messages.success(request, _("Your profile was saved."))
            response = redirect("account")
            if language:
                from django.conf import settings

                response.set_cookie(settings.LANGUAGE_COOKIE_NAME, language, samesite="Lax")
            return response
    tokens = ApiToken.objects.filter(user=user)
    grants = sorted(grants_of(user).items())
    return render(
        request,
        "web/account.html",
        {"tokens": tokens, "grants": grants, "new_token": request.session.pop("new_token", None)},
    )


@login_required
@require_POST
def token_create(request):
    try:
        token, raw = org_services.create_token(
            user=request.user, name=request.POST.get("name", ""), by=request.user
        )
    except ValidationError as exc:
        for error in exc.messages:
            messages.error(request, error)
    else:
        # Shown once on the next page, then gone.
        request.session["new_token"] = {"name": token.name, "value": raw}
    return redirect("account")


@login_required
@require_POST
def token_revoke(request, pk: int):
    token = get_object_or_404(ApiToken, pk=pk, user=request.user)
    org_services.revoke_token(token, by=request.user)
    messages.success(request, _("The token was revoked."))
    return redirect("account")


class PasswordChangeView(auth_views.PasswordChangeView):
    """Django's password change form, written through the service so it is audited."""

    template_name = "registration/password_change.html"

    def form_valid(self, form):
        org_services.change_password(
            self.request.user, new_password=form.cleaned_data["new_password1"]
        )
        # Keep this session logged in; Django ends the user's other sessions.
        update_session_auth_hash(self.request, self.request.user)
        return redirect(self.get_success_url())


def error_404(request, exception=None):
    return render(request, "web/404.html", status=404)


def error_403(request, exception=None):
    return render(request, "web/403.html", status=403)


def error_500(request):
    return render(request, "web/500.html", status=500)
