// Small behaviours shared by every page. No inline scripts: the Content-Security-Policy
// allows scripts from the platform only.
(function () {
  "use strict";

  // Irreversible actions ask first, once the form is complete: a form with a
  // missing answer goes to the server unasked, which changes nothing and says what
  // is missing (the forms are `novalidate` so that the server's messages show).
  document.addEventListener("submit", function (event) {
    var submitter = event.submitter;
    var message = submitter && submitter.getAttribute("data-confirm");
    var form = event.target;
    var complete = !form || typeof form.checkValidity !== "function" || form.checkValidity();
    if (message && complete && !window.confirm(message)) {
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

// A list that follows another (a judge list by department): options whose
// data-department differs from the chosen department are hidden and cannot be chosen.
(function () {
  "use strict";
  function narrow(select) {
    var form = select.form;
    var leader = form && form.elements.namedItem(select.getAttribute("data-follows-name"));
    if (!leader) {
      return;
    }
    var chosen = leader.value;
    Array.prototype.forEach.call(select.options, function (option) {
      var department = option.getAttribute("data-department");
      if (department === null) {
        return;
      }
      var mismatch = !chosen || department !== chosen;
      option.hidden = mismatch;
      option.disabled = mismatch;
      if (mismatch && option.selected) {
        select.value = "";
      }
    });
  }
  function followers() {
    return document.querySelectorAll("select[data-follows]");
  }
  document.addEventListener("change", function (event) {
    Array.prototype.forEach.call(followers(), function (select) {
      if (event.target === select.form.elements.namedItem(select.getAttribute("data-follows-name"))) {
        narrow(select);
      }
    });
  });
  function start() {
    Array.prototype.forEach.call(followers(), function (select) {
      // The leader's name carries the form's prefix ("dispatch-department").
      var prefix = select.name.slice(0, select.name.length - select.name.split("-").pop().length);
      select.setAttribute("data-follows-name", prefix + select.getAttribute("data-follows"));
      narrow(select);
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();

// A copy button next to a read-only field (the invitation link). Without scripts, or
// where the clipboard is refused, the field stays there to select and copy by hand.
(function () {
  "use strict";
  function selectField(field) {
    field.focus();
    field.select();
  }
  document.querySelectorAll("button[data-copy-from]").forEach(function (button) {
    var id = button.getAttribute("data-copy-from");
    var field = id && document.getElementById(id);
    if (!field) {
      return;
    }
    button.hidden = false;
    field.addEventListener("focus", function () {
      field.select();
    });
    button.addEventListener("click", function () {
      var label = button.textContent;
      function done() {
        button.textContent = button.getAttribute("data-copied-label") || label;
        window.setTimeout(function () {
          button.textContent = label;
        }, 2000);
      }
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(field.value).then(done, function () {
          selectField(field);
        });
      } else {
        selectField(field);
        try {
          if (document.execCommand("copy")) {
            done();
          }
        } catch (error) {
          // The field is selected: the person copies it by hand.
        }
      }
    });
  });
})();
