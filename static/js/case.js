/* The case page's action panel: one <details name="case-action"> per action, so the browser keeps
   at most one open, with no script at all. When htmx swaps in an entry that the server drew open
   (data-open: errors, a resend, a new assignment's Accept) while the old one is still in the page,
   the browser closes the newcomer (the exclusive accordion's rule on insertion): open it again. */
(function () {
  "use strict";

  // Signed out meanwhile (the session ended): a poll or a form's answer is the login page the
  // request was redirected to. Swap nothing, stop asking, and say so once above the page.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var xhr = event.detail.xhr;
    if (!xhr || !xhr.responseURL || new URL(xhr.responseURL).pathname.indexOf("/accounts/login/") !== 0) return;
    event.detail.shouldSwap = false;
    var poller = document.getElementById("case-live");
    if (poller) poller.remove();
    var notice = document.getElementById("case-signed-out");
    if (notice) notice.hidden = false;
  });

  document.addEventListener("htmx:load", function (event) {
    var root = event.target;
    if (!root || !root.querySelectorAll) return;
    var wanted = root.matches("details[data-open]") ? [root] : root.querySelectorAll("details[data-open]");
    Array.prototype.forEach.call(wanted, function (details) {
      details.open = true;
    });
  });

  // A link from the inbox names a form inside a closed entry (#action-note). Chromium opens the
  // entry on its own when it scrolls to the form; other browsers may not, so open it here.
  function openTarget() {
    var target = location.hash && document.getElementById(decodeURIComponent(location.hash.slice(1)));
    var details = target && target.closest("details");
    if (details && !details.open) {
      details.open = true;
      target.scrollIntoView();
    }
  }
  document.addEventListener("DOMContentLoaded", openTarget);
  window.addEventListener("hashchange", openTarget);
})();
