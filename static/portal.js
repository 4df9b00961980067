// The portal's own script (CSP: script-src 'self', no inline script).
// 1. After refused input, focus moves to the error summary, on a full page
//    and after an htmx swap, so a keyboard or screen-reader user hears it.
// 2. Two minutes before the idle timeout a warning offers to stay logged in.
(function () {
  "use strict";

  function focusSummary(root) {
    var summary = root && root.querySelector("[data-error-summary]");
    if (summary) {
      summary.focus();
    }
  }

  var WARN_BEFORE_SECONDS = 120;
  var timer = null;

  function schedule() {
    var idle = parseInt(document.body.getAttribute("data-idle-seconds") || "0", 10);
    var warning = document.getElementById("session-warning");
    if (!idle || !warning) {
      return;
    }
    window.clearTimeout(timer);
    warning.hidden = true;
    timer = window.setTimeout(function () {
      warning.hidden = false;
    }, Math.max(idle - WARN_BEFORE_SECONDS, 0) * 1000);
  }

  function stay() {
    // Any request of the session counts as activity; this one changes nothing.
    window.fetch("/session/alive", {credentials: "same-origin"}).then(function (response) {
      if (response.ok && !response.redirected) {
        schedule();
      } else {
        window.location.assign("/login?next=" + encodeURIComponent(window.location.pathname));
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    focusSummary(document);
    schedule();
    var button = document.getElementById("session-stay");
    if (button) {
      button.addEventListener("click", stay);
    }
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail && event.detail.target;
    // An outerHTML swap replaced the target: look it up again by its id.
    var root = target && target.id ? document.getElementById(target.id) : null;
    focusSummary(root);
    schedule();
  });
}());
