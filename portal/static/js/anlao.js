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

  // A wide table scrolls sideways inside its .table-wrap on a phone. Keyboard users can scroll
  // it only if it takes focus, so a wrap that overflows becomes a named, focusable region (the
  // name is the table's caption); one that fits stays out of the tab order.
  function labelScrollingTables(root) {
    root.querySelectorAll(".table-wrap").forEach(function (wrap) {
      if (wrap.scrollWidth > wrap.clientWidth + 1) {
        var caption = wrap.querySelector("caption");
        var label = caption ? caption.textContent.trim() : "";
        wrap.setAttribute("tabindex", "0");
        if (label) {
          wrap.setAttribute("role", "region");
          wrap.setAttribute("aria-label", label);
        }
      } else {
        ["tabindex", "role", "aria-label"].forEach(function (name) { wrap.removeAttribute(name); });
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    focusFirst(document);
    labelScrollingTables(document);
  });
  window.addEventListener("resize", function () { labelScrollingTables(document); });

  // An htmx request that failed (403, 404, 503, network down) swaps nothing: say so at the top
  // of the page in the server's own words (its error page), and move focus there.
  function showProblem(text) {
    var box = document.getElementById("request-problem");
    if (!box) { return; }
    box.textContent = text;
    box.hidden = false;
    box.focus();
  }

  function problemOf(xhr) {
    var doc = new DOMParser().parseFromString(xhr.responseText || "", "text/html");
    var parts = [doc.querySelector("main h1"), doc.querySelector("main p.lead")];
    return parts.filter(Boolean).map(function (el) { return el.textContent.trim(); }).join(" ");
  }

  document.addEventListener("htmx:responseError", function (event) {
    var box = document.getElementById("request-problem");
    if (!box) { return; }
    showProblem(problemOf(event.detail.xhr) || box.getAttribute("data-failed"));
  });

  document.addEventListener("htmx:sendError", function () {
    var box = document.getElementById("request-problem");
    if (box) { showProblem(box.getAttribute("data-offline")); }
  });

  document.addEventListener("htmx:beforeRequest", function () {
    var box = document.getElementById("request-problem");
    if (box) { box.hidden = true; }
  });

  // The session ends after a while without a request (30 minutes for staff, 2 hours for
  // families). Two minutes before, say so and offer to carry on without leaving the page.
  var WARN_BEFORE_MS = 120000;
  var idleTimer = null;

  function startIdleClock() {
    var idle = parseInt(document.body.getAttribute("data-idle-seconds") || "0", 10);
    if (!idle) { return; }
    window.clearTimeout(idleTimer);
    idleTimer = window.setTimeout(showIdleWarning, Math.max(idle * 1000 - WARN_BEFORE_MS, 1000));
  }

  function showIdleWarning() {
    var box = document.getElementById("idle-warning");
    if (!box) { return; }
    box.hidden = false;
    box.focus();
  }

  function csrfToken() {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || "";
    } catch (e) { return ""; }
  }

  document.addEventListener("DOMContentLoaded", function () {
    startIdleClock();
    var carryOn = document.getElementById("idle-continue");
    if (!carryOn) { return; }
    carryOn.addEventListener("click", function () {
      fetch(carryOn.getAttribute("data-url"), {
        method: "POST", credentials: "same-origin", headers: {"X-CSRFToken": csrfToken()}
      }).then(function (response) {
        if (!response.ok) { window.location.reload(); return; }  // already ended: sign in again
        document.getElementById("idle-warning").hidden = true;
        announce(carryOn.getAttribute("data-done"));
        startIdleClock();
      });
    });
  });
  document.addEventListener("htmx:afterRequest", startIdleClock);

  // After an htmx swap: move focus to an error summary if there is one, and announce the change.
  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail.target;
    labelScrollingTables(document);
    focusFirst(target);
    var message = target.querySelector("[data-announce]");
    announce(message ? message.getAttribute("data-announce") : "");
  });
})();
