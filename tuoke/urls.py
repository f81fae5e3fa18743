from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.i18n import set_language

from tuoke.api import api
from tuoke.org.forms import LoginForm
from tuoke.web import views as web_views

urlpatterns = [
    path("", web_views.home, name="home"),
    path("search/", web_views.search, name="search"),
    path("search/quick/", web_views.search_quick, name="search_quick"),
    path("account/", web_views.account, name="account"),
    path("account/tokens/", web_views.token_create, name="token_create"),
    path("account/tokens/<int:pk>/revoke/", web_views.token_revoke, name="token_revoke"),
    path(
        "login/",
        auth_views.LoginView.as_view(
            template_name="registration/login.html",
            authentication_form=LoginForm,
            redirect_authenticated_user=True,
        ),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "password/change/",
        web_views.PasswordChangeView.as_view(),
        name="password_change",
    ),
    path(
        "password/change/done/",
        auth_views.PasswordChangeDoneView.as_view(
            template_name="registration/password_change_done.html"
        ),
        name="password_change_done",
    ),
    path(
        "password/set/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(template_name="registration/password_set.html"),
        name="password_reset_confirm",
    ),
    path(
        "password/set/done/",
        auth_views.PasswordResetCompleteView.as_view(
            template_name="registration/password_set_done.html"
        ),
        name="password_reset_complete",
    ),
    path("i18n/setlang/", set_language, name="set_language"),
    path("org/", include("tuoke.org.urls")),
    path("customers/", include("tuoke.customers.urls")),
    path("leads/", include("tuoke.leads.urls")),
    path("activities/", include("tuoke.activities.urls")),
    path("sales/", include("tuoke.sales.urls")),
    path("contracts/", include("tuoke.contracts.urls")),
    path("approvals/", include("tuoke.org.urls_approvals")),
    path("notifications/", include("tuoke.integrations.urls")),
    path("recycle-bin/", include("tuoke.core.urls")),
    path("settings/custom-fields/", include("tuoke.core.urls_custom_fields")),
    path("settings/exchange-rates/", include("tuoke.core.urls_exchange_rates")),
    path("api/v1/", api.urls),
    path("admin/", admin.site.urls),
]

handler403 = "tuoke.web.views.error_403"
handler404 = "tuoke.web.views.error_404"
handler500 = "tuoke.web.views.error_500"
