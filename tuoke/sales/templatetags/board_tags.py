"""The board's cards: each written in Python, with what every card repeats (labels, the
"Move to…" options of each stage) built once per page."""

from django import template
from django.template.defaultfilters import floatformat
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

register = template.Library()


@register.simple_tag(takes_context=True)
def move_options(context, stages, current_stage_id) -> SafeString:
    """The <option>s of the card's "Move to…" menu, per stage and page render."""
    built = context.render_context.setdefault("board_move_options", {})
    if current_stage_id not in built:
        win, lose = escape(_("Win")), escape(_("Lose"))
        options = []
        for stage in stages:
            if stage.pk == current_stage_id:
                continue
            name = escape(stage.name)
            label = {"won": f"{win} · {name}", "lost": f"{lose} · {name}"}.get(stage.kind, name)
            options.append(
                f'<option value="{stage.pk}" data-kind="{escape(stage.kind)}">{label}</option>'
            )
        built[current_stage_id] = mark_safe("".join(options))  # noqa: S308 -- escaped above
    return built[current_stage_id]


@register.simple_tag(takes_context=True)
def board_card(context, card) -> SafeString:
    """One opportunity on the board, written in Python: a board shows up to 80 cards, and
    through the template engine they took most of the page's time (bench/README.md, "Sales").
    Context: stages, may_move, query (as for the whole board)."""
    shared = context.render_context.get("board_card_shared")
    if shared is None:
        shared = context.render_context["board_card_shared"] = _shared(context)
    query = shared["query"]
    title = escape(card.title)
    customer = escape(card.customer.display_name)
    move_url = escape(card.move_url + query)
    close_url = escape(card.close_url + query)
    if card.detail_url:
        heading = f'<a href="{escape(card.detail_url)}" class="text-reset">{title}</a>'
    else:
        heading = title
    if card.amount is not None:
        amount = f"{floatformat(card.amount, '0g')} {escape(card.currency)}"
    else:
        amount = f'<span class="text-secondary">{shared["no_amount"]}</span>'
    close_date = ""
    if card.expected_close_date:
        close_date = (
            f'<span title="{shared["close_date"]}"><i class="ti ti-calendar-event"></i> '
            f"{card.expected_close_date:%Y-%m-%d}</span>"
        )
    days = card.days_in_stage
    in_stage = escape(
        ngettext("%(days)s day in stage", "%(days)s days in stage", days) % {"days": days}
    )
    stalled = ""
    if card.stalled:
        idle = escape(
            ngettext(
                "No activity for %(days)s day", "No activity for %(days)s days", card.idle_days
            )
            % {"days": card.idle_days}
        )
        stalled = (
            f'<span class="badge bg-warning-lt" data-testid="board-card-stalled" '
            f'title="{idle}">{shared["stalled"]}</span>'
        )
    move = ""
    if shared["may_move"]:
        label = escape(_("Move “%(title)s” to…") % {"title": card.title})
        options = move_options(context, shared["stages"], card.stage_id)
        move = (
            f'<form class="board-move mt-2" method="post" action="{move_url}">{shared["csrf"]}'
            f'<input type="hidden" name="version" value="{card.version}">'
            '<div class="input-group input-group-sm flex-nowrap">'
            f'<label class="visually-hidden" for="board-move-{card.pk}">{label}</label>'
            f'<select class="form-select form-select-sm" id="board-move-{card.pk}" name="stage" '
            f'data-testid="board-move-select" required><option value="">{shared["move_to"]}'
            f"</option>{options}</select>"
            f'<button type="submit" class="btn btn-sm" data-testid="board-move-submit">'
            f"{shared['move']}</button></div></form>"
        )
    stalled_class = " board-card-stalled" if card.stalled else ""
    return mark_safe(  # noqa: S308 -- every value above went through escape()
        f'<article class="card board-card{stalled_class}" id="board-card-{card.pk}" tabindex="0" '
        f'data-testid="board-card" data-opportunity="{card.pk}" data-stage="{card.stage_id}" '
        f'data-version="{card.version}" data-move-url="{move_url}" '
        f'data-close-url="{close_url}" aria-label="{title} · {customer}">'
        '<div class="card-body p-2">'
        f'<div class="fw-medium text-truncate" data-testid="board-card-title">{heading}</div>'
        f'<div class="small text-secondary text-truncate">{customer}</div>'
        '<div class="d-flex justify-content-between small mt-1">'
        f'<span data-testid="board-card-amount">{amount}</span>{close_date}</div>'
        '<div class="small text-secondary d-flex flex-wrap gap-1 align-items-center">'
        f'<span><i class="ti ti-user"></i> {escape(str(card.owner))}</span>'
        f"<span>· {in_stage}</span>{stalled}</div>"
        '<div class="board-card-error small text-danger" role="alert" '
        'data-testid="board-card-error" hidden></div>'
        f"{move}</div></article>"
    )


def _shared(context) -> dict:
    """What every card of one render repeats: labels, the CSRF field, the filters' query."""
    query = context.get("query") or ""
    return {
        "query": f"?{query}" if query else "",
        "stages": context.get("stages") or [],
        "may_move": bool(context.get("may_move")),
        "csrf": (
            '<input type="hidden" name="csrfmiddlewaretoken" '
            f'value="{escape(str(context.get("csrf_token", "")))}">'
        ),
        "no_amount": escape(_("No amount")),
        "close_date": escape(_("Expected close date")),
        "stalled": escape(_("Stalled")),
        "move_to": escape(_("Move to…")),
        "move": escape(_("Move")),
    }
