// Keeps the notification count in the header current without reloading, through the
// signed-in user's notification socket; new messages in the user's rooms (a caucus
// the mediator is not in, say) arrive on it at once as a toast and the header's count
// of rooms with new messages.
(function () {
  "use strict";
  var badges = document.querySelectorAll("[data-notification-count]");
  if (!badges.length || !("WebSocket" in window)) {
    return;
  }
  var attempts = 0;
  var gettext = window.gettext || function (text) { return text; };

  // ---- rooms with new messages: kept for this tab's visit, per user -----------------

  var activityItem = document.querySelector("[data-room-activity]");
  var activityCount = document.querySelector("[data-room-activity-count]");
  var activityLink = document.querySelector("[data-room-activity-link]");
  var activityKey = activityCount ? "room-activity-" + activityCount.getAttribute("data-user") : null;
  var roomConfig = document.getElementById("room-config");
  var currentRoom = roomConfig ? JSON.parse(roomConfig.textContent).roomId : null;

  function loadActivity() {
    try {
      return JSON.parse(window.sessionStorage.getItem(activityKey)) || {};
    } catch (error) {
      return {};
    }
  }

  function saveActivity(rooms) {
    try {
      window.sessionStorage.setItem(activityKey, JSON.stringify(rooms));
    } catch (error) {
      // Storage disabled: the count lasts as long as the page.
    }
  }

  var activity = activityKey ? loadActivity() : {};

  function showActivity() {
    if (!activityItem) { return; }
    var ids = Object.keys(activity);
    activityItem.hidden = !ids.length;
    var hidden = activityCount.querySelector(".visually-hidden");
    activityCount.textContent = String(ids.length);
    if (hidden) { activityCount.prepend(hidden); }
    if (ids.length) {
      var latest = ids.reduce(function (a, b) { return activity[a].at >= activity[b].at ? a : b; });
      activityLink.href = activity[latest].url;
    }
  }

  function roomActive(frame) {
    if (!activityKey || frame.room === currentRoom) { return; }
    activity[frame.room] = { url: frame.url, at: Date.now() };
    saveActivity(activity);
    showActivity();
  }

  if (activityKey && currentRoom !== null && activity[currentRoom]) {
    // Opening the room reads what was new there.
    delete activity[currentRoom];
    saveActivity(activity);
  }
  showActivity();

  function show(unread) {
    badges.forEach(function (badge) {
      var hidden = badge.querySelector(".visually-hidden");
      badge.textContent = String(unread);
      if (hidden) { badge.prepend(hidden); }
      badge.classList.toggle("is-empty", !unread);
    });
  }

  function announce(text, url) {
    var region = document.querySelector("[data-live-notice]");
    if (!region || !text) { return; }
    region.textContent = text;
    if (url) {
      var link = document.createElement("a");
      link.href = url;
      link.textContent = gettext("Open the room");
      region.append(" ", link);
    }
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
      } else if (frame.type === "room.activity" && frame.room !== currentRoom) {
        roomActive(frame);
        announce(frame.text, frame.url);
        // A room page refreshes its tabs' unread counts now rather than at its next poll.
        document.dispatchEvent(new CustomEvent("room-activity", { detail: { room: frame.room } }));
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
