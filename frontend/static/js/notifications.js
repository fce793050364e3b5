// Keeps the notification count in the header current without reloading, through the
// signed-in user's notification socket.
(function () {
  "use strict";
  var badges = document.querySelectorAll("[data-notification-count]");
  if (!badges.length || !("WebSocket" in window)) {
    return;
  }
  var attempts = 0;

  function show(unread) {
    badges.forEach(function (badge) {
      var hidden = badge.querySelector(".visually-hidden");
      badge.textContent = String(unread);
      if (hidden) { badge.prepend(hidden); }
      badge.classList.toggle("is-empty", !unread);
    });
  }

  function announce(text) {
    var region = document.querySelector("[data-live-notice]");
    if (!region || !text) { return; }
    region.textContent = text;
    region.hidden = false;
    clearTimeout(announce.timer);
    announce.timer = setTimeout(function () { region.hidden = true; }, 8000);
  }

  function connect() {
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    var socket = new WebSocket(scheme + window.location.host + "/ws/notifications/");
    socket.onmessage = function (event) {
      var frame = JSON.parse(event.data);
      if (frame.type === "hello") {
        attempts = 0;
        show(frame.unread);
      } else if (frame.type === "notification") {
        show(frame.unread);
        announce(frame.text);
      }
    };
    socket.onclose = function (event) {
      if (event.code === 4401) { return; }
      attempts += 1;
      setTimeout(connect, Math.random() * Math.min(30000, 1000 * Math.pow(2, Math.min(attempts, 5))));
    };
  }
  connect();
})();
