"""The page's frame (side bar, top bar, language switch) is rendered once per user, language,
page entry and directory state ({% layout %}); the request's CSRF token, path and search
words are its own."""

import re

from django.test import Client
from django.urls import reverse

TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def _browser(user) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    return client


def _page(client, url="/") -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def test_each_browser_posts_with_its_own_token(people):
    rep = people["rep_east1"]
    mine, other = _browser(rep), _browser(rep)
    _page(mine)  # the frame is kept from here on
    other_token = TOKEN.search(_page(other)).group(1)
    my_token = TOKEN.search(_page(mine)).group(1)

    # Another browser's token does not pass with my cookie; mine does (the logout form).
    assert mine.post(reverse("logout"), {"csrfmiddlewaretoken": other_token}).status_code == 403
    response = mine.post(reverse("logout"), {"csrfmiddlewaretoken": my_token})
    assert response.status_code == 302
    assert mine.get("/").status_code == 302  # logged out


def test_the_language_switch_returns_to_the_page_and_the_top_bar_keeps_the_search(people, login):
    client = login(people["rep_east1"])
    _page(client)
    page = _page(client, "/search/?q=%3Cb%3E%E5%8D%8E%E4%B8%9C")
    assert 'name="next" type="hidden" value="/search/?q=%3Cb%3E%E5%8D%8E%E4%B8%9C"' in page
    top = re.search(
        r'<input type="search" name="q" value="([^"]*)"[^>]*data-testid="global-search"', page
    )
    assert top.group(1) == "&lt;b&gt;华东"

    # Words that look like a placeholder of the cached frame stay as they were typed.
    page = _page(client, "/search/?q=tuoke-layout-csrf-token&from=tuoke-layout-search-words")
    top = re.search(
        r'<input type="search" name="q" value="([^"]*)"[^>]*data-testid="global-search"', page
    )
    assert top.group(1) == "tuoke-layout-csrf-token"
    assert 'value="/search/?q=tuoke-layout-csrf-token&amp;from=tuoke-layout-search-words"' in page

    page = _page(client, "/customers/")
    assert 'name="next" type="hidden" value="/customers/"' in page
    top = re.search(
        r'<input type="search" name="q" value="([^"]*)"[^>]*data-testid="global-search"', page
    )
    assert top.group(1) == ""


def test_each_user_sees_his_own_name_and_entries(people, login):
    rep, admin = people["rep_east1"], people["admin"]
    rep_page, admin_page = _page(login(rep)), _page(login(admin))
    assert str(rep) in rep_page and str(admin) not in rep_page
    assert str(admin) in admin_page
    # The administrator's side bar has the settings; the rep's has not.
    assert reverse("org:user_list") in admin_page and reverse("org:user_list") not in rep_page


def test_addresses_and_static_files_are_looked_up_once_and_follow_the_settings(settings):
    from django.template import Context, Template

    page = Template(
        "{% load tuoke_ui %}{% address 'customers:customer_list' %} {% asset 'web/tuoke.css' %}"
    )
    assert page.render(Context()) == f"{reverse('customers:customer_list')} /static/web/tuoke.css"
    settings.STATIC_URL = "/assets/"
    assert page.render(Context()).endswith(" /assets/web/tuoke.css")
