// Small progressive enhancements; every page works without them.
(function () {
  "use strict";

  function focusFirst(root) {
    var target = root.querySelector("[data-autofocus]");
    if (target) { target.focus(); }
  }

  function announce(text) {
    var region = document.getElementById("live-region");
    if (!region || !text) { return; }
    region.textContent = "";
    window.setTimeout(function () { region.textContent = text; }, 50);
  }

  document.addEventListener("DOMContentLoaded", function () { focusFirst(document); });

  // After an htmx swap: move focus to an error summary if there is one, and announce the change.
  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail.target;
    focusFirst(target);
    var message = target.querySelector("[data-announce]");
    announce(message ? message.getAttribute("data-announce") : "");
  });
})();
