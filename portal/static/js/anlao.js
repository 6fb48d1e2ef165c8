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

  // After an htmx swap: move focus to an error summary if there is one, and announce the change.
  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail.target;
    labelScrollingTables(document);
    focusFirst(target);
    var message = target.querySelector("[data-announce]");
    announce(message ? message.getAttribute("data-announce") : "");
  });
})();
