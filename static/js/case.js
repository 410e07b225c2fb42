/* The case page's action panel: one <details name="case-action"> per action, so the browser keeps
   at most one open, with no script at all. When htmx swaps in an entry that the server drew open
   (data-open: errors, a resend, a new assignment's Accept) while the old one is still in the page,
   the browser closes the newcomer (the exclusive accordion's rule on insertion): open it again. */
(function () {
  "use strict";

  document.addEventListener("htmx:load", function (event) {
    var root = event.target;
    if (!root || !root.querySelectorAll) return;
    var wanted = root.matches("details[data-open]") ? [root] : root.querySelectorAll("details[data-open]");
    Array.prototype.forEach.call(wanted, function (details) {
      details.open = true;
    });
  });
})();
