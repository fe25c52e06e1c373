// Fills in the per-visitor parts of pages that are cached for everyone: the cart badge,
// pending messages and the CSRF token of forms. Without JavaScript the pages still work:
// the badge stays empty, and a form posted without a token gets a page to confirm it.
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

  function load() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (state) { if (state) show(state); })
      .catch(function () { /* the page works without it */ });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", load);
  else load();
})();
