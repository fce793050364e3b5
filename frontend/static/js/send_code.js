// The send-code button waits as long as the server said (60 s after a code), showing
// the seconds left; the server refuses an early code anyway.
(function () {
  "use strict";
  document.querySelectorAll("[data-send-code]").forEach(function (button) {
    var left = parseInt(button.getAttribute("data-resend-after"), 10) || 0;
    if (left <= 0) {
      return;
    }
    var label = button.textContent;
    var tick = function () {
      if (left <= 0) {
        button.disabled = false;
        button.textContent = label;
        return;
      }
      button.disabled = true;
      button.textContent = interpolate(gettext("Send again in %s s"), [left]);
      left -= 1;
      window.setTimeout(tick, 1000);
    };
    tick();
  });
})();
