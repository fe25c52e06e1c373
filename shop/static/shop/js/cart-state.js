// Fills in the per-visitor parts of pages that are cached for everyone: the cart badge,
// pending messages and the CSRF token of forms, asked of the shop only when it may have changed
// (a first visitor's, only when a form is sent).
// Without JavaScript the pages still work: the badge stays empty, and a form posted without a
// token gets a page to confirm it.
(function () {
  "use strict";
  var url = document.currentScript && document.currentScript.dataset.stateUrl;
  if (!url || !window.fetch) return;

  function show(state) {
    document.querySelectorAll("input[data-csrf]").forEach(function (input) {
      input.value = state.csrfToken;
    });
    var badge = document.querySelector("[data-cart-count]");
    if (badge && state.count > 0) {
      badge.textContent = state.count;
      badge.hidden = false;
    }
    var label = document.querySelector("[data-cart-label]");
    if (label) label.textContent = "(" + state.count + (state.count === 1 ? " item)" : " items)");
    var list = document.querySelector("[data-messages]");
    if (list && state.messages.length) {
      state.messages.forEach(function (message) {
        var item = document.createElement("li");
        item.className = "message message-" + message.level;
        item.textContent = message.text;
        list.appendChild(item);
      });
      list.hidden = false;
    }
  }

  // The shop renews this cookie whenever the answer may have changed (shop/middleware.py):
  // while it holds the value seen with the last answer, that answer is still true.
  var VERSION_COOKIE = "cart_state_version";
  var STORE_KEY = "cart-state";

  function version() {
    var found = document.cookie.match(new RegExp("(?:^|;\\s*)" + VERSION_COOKIE + "=([^;]*)"));
    return found ? found[1] : "";
  }

  function remembered() {
    try {
      var kept = JSON.parse(window.sessionStorage.getItem(STORE_KEY) || "null");
      return kept && kept.version && kept.version === version() ? kept.state : null;
    } catch (error) {
      return null;  // storage refused (a private window): ask the shop
    }
  }

  function remember(state) {
    try {
      // Messages are shown once: the kept copy has none.
      var kept = { version: version(), state: Object.assign({}, state, { messages: [] }) };
      if (kept.version) window.sessionStorage.setItem(STORE_KEY, JSON.stringify(kept));
    } catch (error) { /* the next page asks again */ }
  }

  function ask() {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (state) { if (state) { show(state); remember(state); } return state; });
  }

  // A visitor the shop has not answered yet has an empty cart and no messages: the only thing
  // to ask for is the CSRF token, and only when a form is sent (most visitors only browse).
  function askBeforeSending(event) {
    var form = event.target;
    var token = form.querySelector && form.querySelector("input[data-csrf]");
    if (!token || token.value) return;
    event.preventDefault();
    var submitter = event.submitter;
    function send() {
      // Sent once more, token or not: without one the shop's CSRF page lets the visitor confirm.
      document.removeEventListener("submit", askBeforeSending, true);
      if (form.requestSubmit) form.requestSubmit(submitter || undefined);
      else form.submit();
    }
    ask().then(send, send);
  }

  function load() {
    var state = remembered();
    if (state) return show(state);
    if (!version()) return document.addEventListener("submit", askBeforeSending, true);
    ask().catch(function () { /* the page works without it */ });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", load);
  else load();
})();
