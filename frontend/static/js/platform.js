// Small behaviours shared by every page. No inline scripts: the Content-Security-Policy
// allows scripts from the platform only.
(function () {
  "use strict";

  // Irreversible actions ask first.
  document.addEventListener("submit", function (event) {
    var submitter = event.submitter;
    var message = submitter && submitter.getAttribute("data-confirm");
    if (message && !window.confirm(message)) {
      event.preventDefault();
    }
  });
})();

// Slow actions (rendering or signing a PDF) show that they are under way.
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var submitter = event.submitter;
    var label = submitter && submitter.getAttribute("data-progress-label");
    if (label && !event.defaultPrevented) {
      submitter.disabled = true;
      submitter.textContent = label;
      submitter.setAttribute("aria-busy", "true");
    }
  });
})();
