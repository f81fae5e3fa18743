/* The deal board (tuoke/sales/templates/sales/board.html): drag a card to another stage
   (SortableJS) or use its "Move to…" menu; dropping on the won or lost stage asks to win or
   lose the deal. The server answers through htmx (tuoke/sales/views_board.py): the card
   re-rendered and the totals out of band, or a 4xx with "board:refused" {message, refresh}
   in HX-Trigger, and the card goes back where it was with the reason beside it. */
(function () {
  "use strict";

  function board() { return document.getElementById("board"); }
  function dialog() { return document.getElementById("board-close"); }

  function cardsOf(list) {
    return Array.prototype.filter.call(list.children, function (el) {
      return el.classList.contains("board-card");
    });
  }

  function remember(card, from) {
    card._boardFrom = from;
    card._boardIndex = cardsOf(from).indexOf(card);
  }

  function place(card, to) {
    if (to.dataset.kind === "open") {
      to.insertBefore(card, to.firstElementChild);
    } else {
      to.appendChild(card);
    }
  }

  function snapBack(card) {
    var from = card._boardFrom;
    if (!from || !from.isConnected) return;
    var others = cardsOf(from).filter(function (el) { return el !== card; });
    var before = others[card._boardIndex] || from.querySelector(".board-more");
    from.insertBefore(card, before || null);
  }

  function announce(message) {
    var status = document.getElementById("board-status");
    if (status) status.textContent = message;
  }

  function showAlert(message) {
    var box = document.getElementById("board-alert");
    if (!box) return;
    box.querySelector("[data-board-message]").textContent = message;
    box.hidden = false;
  }

  function hideAlert() {
    var box = document.getElementById("board-alert");
    if (box) box.hidden = true;
  }

  function showError(card, message) {
    var box = card.querySelector(".board-card-error");
    if (box) {
      box.textContent = message;
      box.hidden = false;
    }
    showAlert(message);
    if (card.scrollIntoView) card.scrollIntoView({ block: "nearest", inline: "nearest" });
  }

  function clearError(card) {
    var box = card.querySelector(".board-card-error");
    if (box) {
      box.hidden = true;
      box.textContent = "";
    }
    hideAlert();
  }

  function reload() {
    htmx.ajax("GET", window.location.href, {
      target: "#board-region", select: "#board-region", swap: "outerHTML"
    }).then(init);
  }

  // --- Sending a move or a close ---------------------------------------------------------------

  function finish(card, focus) {
    if (!card.isConnected) {
      // Swapped for its new self (a move) or deleted (a win or loss): done.
      var fresh = document.getElementById(card.id);
      if (focus && fresh) fresh.focus();
      return true;
    }
    card.removeAttribute("aria-busy");
    var refusal = card._boardRefusal || { message: board().dataset.errorText };
    card._boardRefusal = null;
    var open = dialog();
    if (open && open.open && open._card === card && !refusal.refresh) {
      var box = open.querySelector("[data-board-close-error]");
      box.textContent = refusal.message;
      box.hidden = false;
      return false;
    }
    closeDialog(false);
    snapBack(card);
    showError(card, refusal.message);
    if (focus) card.focus();
    if (refusal.refresh) reload();
    return false;
  }

  function send(card, url, values, focus) {
    clearError(card);
    card.setAttribute("aria-busy", "true");
    card._boardRefusal = null;
    return htmx.ajax("POST", url, {
      source: card, target: card, swap: "outerHTML", values: values
    }).then(
      function () { return finish(card, focus); },
      function () { return finish(card, focus); }
    );
  }

  function dropped(card, to, focus) {
    var kind = to.dataset.kind;
    if (kind === "won" || kind === "lost") {
      openDialog(card, kind, focus);
      return;
    }
    send(card, card.dataset.moveUrl, { stage: to.dataset.stage, version: card.dataset.version }, focus);
  }

  // --- Win / lose dialog -----------------------------------------------------------------------

  function openDialog(card, kind, focus) {
    var box = dialog();
    if (!box) { snapBack(card); return; }
    var form = box.querySelector("form");
    form.reset();
    form.setAttribute("action", card.dataset.closeUrl);
    form.elements.outcome.value = kind;
    form.elements.version.value = card.dataset.version;
    form.elements.reason.required = kind === "lost";
    box.querySelectorAll("[data-when]").forEach(function (el) { el.hidden = el.dataset.when !== kind; });
    box.querySelector("[data-board-close-card]").textContent = card.getAttribute("aria-label");
    box.querySelector("[data-board-close-error]").hidden = true;
    box._card = card;
    box._focus = focus;
    box.showModal();
  }

  function closeDialog(snap) {
    var box = dialog();
    if (!box) return;
    var card = box._card;
    box._card = null;
    if (box.open) box.close();
    if (snap && card && card.isConnected) {
      snapBack(card);
      if (box._focus) card.focus();
    }
  }

  // --- Wiring ----------------------------------------------------------------------------------

  function init() {
    var root = board();
    if (!root || root.dataset.canMove !== "true" || !window.Sortable) return;
    root.querySelectorAll(".board-cards").forEach(function (list) {
      Sortable.create(list, {
        group: "board",
        sort: false,
        draggable: ".board-card",
        filter: "a, button, select, option, input, textarea, label",
        preventOnFilter: false,
        forceFallback: true,
        fallbackOnBody: true,
        animation: 120,
        onStart: function (evt) { remember(evt.item, evt.from); },
        onEnd: function (evt) {
          if (evt.to === evt.from) return;
          place(evt.item, evt.to);
          dropped(evt.item, evt.to, false);
        }
      });
    });
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.matches && form.matches("form.board-move")) {
      event.preventDefault();
      var select = form.elements.stage;
      var to = select.value && board().querySelector('.board-cards[data-stage="' + select.value + '"]');
      if (!to) return;
      var card = form.closest(".board-card");
      remember(card, card.parentElement);
      place(card, to);
      dropped(card, to, true);
    } else if (form.matches && form.matches("#board-close form")) {
      event.preventDefault();
      var box = dialog();
      var closing = box._card;
      if (!closing) return;
      send(closing, form.getAttribute("action"), {
        outcome: form.elements.outcome.value,
        reason: form.elements.reason.value,
        note: form.elements.note.value,
        version: form.elements.version.value
      }, false).then(function (done) { if (done) closeDialog(false); });
    }
  });

  document.addEventListener("click", function (event) {
    if (event.target.closest && event.target.closest("[data-board-close-cancel]")) closeDialog(true);
  });

  document.addEventListener("DOMContentLoaded", function () {
    var box = dialog();
    if (box) {
      box.addEventListener("cancel", function (event) { event.preventDefault(); closeDialog(true); });
    }
    document.body.addEventListener("board:refused", function (event) {
      var card = event.target.closest ? event.target.closest(".board-card") : null;
      if (card) card._boardRefusal = event.detail;
    });
    document.body.addEventListener("board:done", function (event) {
      hideAlert();
      announce(event.detail.message);
    });
    init();
  });
})();
