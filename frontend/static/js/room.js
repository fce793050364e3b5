// The room client: history, live messages, presence, typing, read receipts.
//
// Nothing typed is lost: every message gets a client_id and waits in an outbox kept in
// localStorage until the server sends it back with its sequence number; after a
// reconnection the client resumes from the last sequence it holds and resends the
// outbox with the same client_ids, which the server stores once.
(function () {
  "use strict";

  var configElement = document.getElementById("room-config");
  if (!configElement) {
    return;
  }
  var config = JSON.parse(configElement.textContent);
  var gettext = window.gettext || function (text) { return text; };
  var interpolate = window.interpolate || function (text) { return text; };

  var log = document.querySelector("[data-room-log]");
  var list = document.querySelector("[data-messages]");
  var empty = document.querySelector("[data-empty]");
  var composer = document.querySelector("[data-composer]");
  var banner = document.querySelector("[data-offline-banner]");
  var typingLine = document.querySelector("[data-typing]");
  var errorLine = document.querySelector("[data-room-error]");
  var loadEarlier = document.querySelector("[data-load-earlier]");
  var sentinel = document.querySelector("[data-history-sentinel]");

  var members = {};
  config.members.forEach(function (member) { members[member.id] = member; });

  var entries = {};          // seq -> element
  var lastSeq = 0;           // highest contiguous sequence number held
  var resumeFailed = false;  // the banner shows that the history could not be loaded
  var oldestSeq = null;      // for loading earlier history
  var socket = null;
  var ready = false;         // hello received and catch-up requested
  var attempts = 0;
  var reconnectTimer = null;
  var offlineTimer = null;
  var typers = {};
  var readMarks = {};
  var lastReadSent = 0;
  var typingSentAt = 0;
  var gapTimer = null;
  var outboxKey = "room-outbox-" + config.roomId + "-" + config.me.id;
  var outbox = loadOutbox();

  // ---- rendering --------------------------------------------------------------

  function time(iso) {
    var date = new Date(iso);
    return date.toLocaleString(document.documentElement.lang || undefined, {
      month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit"
    });
  }

  function roleLabel(author) {
    if (!author) { return ""; }
    if (author.role === "mediator") { return gettext("Mediator"); }
    if (author.role === "judge") { return gettext("Judge"); }
    return author.side === "plaintiff" ? gettext("Plaintiff side") : gettext("Defendant side");
  }

  // An event's text comes from the server's catalogue (rooms/events.py), translated
  // for this reader; its parameters are computed as rooms.events.text_params does.
  function eventText(frame) {
    var data = frame.data || {};
    var params = { actor: frame.actor ? frame.actor.name : gettext("The platform") };
    Object.keys(data).forEach(function (key) {
      var value = data[key];
      if (Array.isArray(value)) {
        params[key] = value.join(", ");
      } else if (value && typeof value === "object") {
        params[key] = value.name || "";
      } else if (/_at$/.test(key) && value) {
        params[key] = time(value);
      } else {
        params[key] = value === null || value === undefined ? "" : value;
      }
    });
    var text = (config.eventTexts || {})[frame.kind];
    if (!text) {
      // A kind this page's catalogue does not hold (a newer server than the page):
      // a translated line, never the raw kind.
      return frame.actor
        ? interpolate(gettext("%(actor)s did something in this case."), { actor: params.actor }, true)
        : gettext("Something happened in this case.");
    }
    return interpolate(text, params, true);
  }

  function render(frame, pending) {
    var item = document.createElement("li");
    if (frame.type === "event") {
      item.className = "entry-event";
      item.textContent = eventText(frame);
      var stamp = document.createElement("time");
      stamp.dateTime = frame.sent_at;
      stamp.textContent = " · " + time(frame.sent_at);
      item.appendChild(stamp);
    } else {
      var mine = frame.author && frame.author.id === config.me.id;
      item.className = "entry-message" + (mine ? " entry-message--mine" : "") + (pending ? " entry-message--pending" : "");
      var meta = document.createElement("p");
      meta.className = "entry__meta";
      var who = frame.author ? frame.author.name : "";
      meta.textContent = who + " · " + roleLabel(frame.author) + (frame.sent_at ? " · " + time(frame.sent_at) : "");
      var body = document.createElement("p");
      body.className = "entry-message__body";
      body.textContent = frame.body;
      item.appendChild(meta);
      item.appendChild(body);
      if (pending) {
        var status = document.createElement("p");
        status.className = "entry-message__status";
        status.textContent = gettext("Sending…");
        item.appendChild(status);
      } else if (mine) {
        var receipt = document.createElement("p");
        receipt.className = "entry-message__status";
        receipt.setAttribute("data-receipt", "");
        item.appendChild(receipt);
      }
    }
    if (frame.seq) { item.setAttribute("data-seq", frame.seq); }
    if (frame.client_id) { item.setAttribute("data-client-id", frame.client_id); }
    return item;
  }

  function stickToBottom(callback) {
    var atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 80;
    callback();
    if (atBottom) { log.scrollTop = log.scrollHeight; }
  }

  function place(frame) {
    if (!frame.seq || entries[frame.seq]) {
      return false;
    }
    var element = render(frame, false);
    entries[frame.seq] = element;
    if (frame.client_id) {
      var pendingElement = list.querySelector('[data-pending="' + frame.client_id + '"]');
      if (pendingElement) { pendingElement.remove(); }
      if (outbox[frame.client_id]) {
        delete outbox[frame.client_id];
        saveOutbox();
      }
    }
    // Keep the list ordered by sequence; pending messages stay last.
    var after = null;
    var children = list.children;
    for (var i = children.length - 1; i >= 0; i--) {
      var seq = Number(children[i].getAttribute("data-seq"));
      if (seq && seq < frame.seq) { after = children[i]; break; }
    }
    stickToBottom(function () {
      if (after) {
        after.after(element);
      } else {
        list.prepend(element);
      }
    });
    if (oldestSeq === null || frame.seq < oldestSeq) { oldestSeq = frame.seq; }
    empty.hidden = true;
    return true;
  }

  function advance() {
    while (entries[lastSeq + 1]) { lastSeq += 1; }
  }

  function receiveEntry(frame) {
    place(frame);
    advance();
    if (frame.seq > lastSeq + 1 && !gapTimer) {
      // A message is missing before this one: give it a moment, then ask for it.
      gapTimer = setTimeout(function () {
        gapTimer = null;
        if (lastSeq < highestSeq()) { send({ type: "resume", after_seq: lastSeq }); }
      }, 800);
    }
    updateReceipts();
    markReadSoon();
  }

  function highestSeq() {
    var seqs = Object.keys(entries).map(Number);
    return seqs.length ? Math.max.apply(null, seqs) : 0;
  }

  function showPending() {
    Object.keys(outbox).forEach(function (clientId) {
      if (list.querySelector('[data-pending="' + clientId + '"]')) { return; }
      var element = render({ type: "message", author: config.me, body: outbox[clientId].body, client_id: clientId }, true);
      element.setAttribute("data-pending", clientId);
      stickToBottom(function () { list.appendChild(element); });
      empty.hidden = true;
    });
  }

  function updateReceipts() {
    var mine = list.querySelectorAll(".entry-message--mine[data-seq]");
    mine.forEach(function (element) {
      var receipt = element.querySelector("[data-receipt]");
      if (receipt) { receipt.textContent = ""; }
    });
    if (!mine.length) { return; }
    var last = mine[mine.length - 1];
    var seq = Number(last.getAttribute("data-seq"));
    var readers = Object.keys(readMarks).filter(function (id) {
      return Number(id) !== config.me.id && readMarks[id].seq >= seq;
    }).map(function (id) { return readMarks[id].name; });
    var receipt = last.querySelector("[data-receipt]");
    if (receipt && readers.length) {
      receipt.textContent = interpolate(gettext("Read by %(names)s"), { names: readers.join(", ") }, true);
    }
  }

  function showPresence(online) {
    document.querySelectorAll("[data-member]").forEach(function (element) {
      var isOnline = online.indexOf(Number(element.getAttribute("data-member"))) !== -1;
      element.classList.toggle("is-online", isOnline);
      var label = element.querySelector("[data-presence-label]");
      if (label) { label.textContent = isOnline ? gettext("online") : gettext("offline"); }
    });
  }

  function showTyping() {
    var names = Object.keys(typers).map(function (id) { return typers[id].name; });
    typingLine.textContent = names.length ? interpolate(gettext("%(names)s is typing…"), { names: names.join(", ") }, true) : "";
  }

  function showError(text) {
    if (!errorLine) { return; }
    errorLine.textContent = text;
    errorLine.hidden = !text;
  }

  function setOnline(isOnline) {
    clearTimeout(offlineTimer);
    if (isOnline) {
      banner.hidden = true;
    } else {
      // A reconnection that succeeds within a second is not worth a banner.
      offlineTimer = setTimeout(function () { banner.hidden = false; }, 1000);
    }
  }

  // ---- the outbox ---------------------------------------------------------------

  function loadOutbox() {
    try {
      return JSON.parse(window.localStorage.getItem(outboxKey)) || {};
    } catch (error) {
      return {};
    }
  }

  function saveOutbox() {
    try {
      window.localStorage.setItem(outboxKey, JSON.stringify(outbox));
    } catch (error) {
      // Storage full or disabled: the outbox still lives in memory.
    }
  }

  function newClientId() {
    if (window.crypto && window.crypto.randomUUID) { return window.crypto.randomUUID(); }
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    var hex = Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
    return hex.slice(0, 8) + "-" + hex.slice(8, 12) + "-" + hex.slice(12, 16) + "-" + hex.slice(16, 20) + "-" + hex.slice(20);
  }

  function flushOutbox() {
    Object.keys(outbox).forEach(function (clientId) {
      send({ type: "message.send", client_id: clientId, body: outbox[clientId].body });
    });
  }

  // ---- the socket ---------------------------------------------------------------

  function send(frame) {
    if (socket && socket.readyState === WebSocket.OPEN && ready) {
      socket.send(JSON.stringify(frame));
      return true;
    }
    return false;
  }

  function connect() {
    clearTimeout(reconnectTimer);
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + window.location.host + config.socketPath);
    ready = false;
    socket.onmessage = function (event) { handle(JSON.parse(event.data)); };
    socket.onclose = function (event) {
      ready = false;
      socket = null;
      if (event.code === 4403 || event.code === 4404) {
        showError(gettext("You can no longer take part in this room."));
        setOnline(true);
        return;
      }
      if (event.code === 4408) {
        showError(gettext("The mediator closed this room."));
        if (composer) { composer.hidden = true; }
        setOnline(true);
        return;
      }
      if (event.code === 4401) {
        window.location.reload();
        return;
      }
      setOnline(false);
      scheduleReconnect();
    };
  }

  function scheduleReconnect() {
    attempts += 1;
    // Exponential backoff with full jitter, so that a whole room does not return at
    // the same instant after a server restart.
    var ceiling = Math.min(30000, 500 * Math.pow(2, Math.min(attempts, 6)));
    reconnectTimer = setTimeout(connect, Math.random() * ceiling);
  }

  function handle(frame) {
    // Other scripts of the page (media.js) hear every frame: media presence, events.
    document.dispatchEvent(new CustomEvent("room-frame", { detail: frame }));
    switch (frame.type) {
      case "hello":
        attempts = 0;
        ready = true;
        setOnline(true);
        showError("");
        showPresence(frame.online || []);
        if (frame.last_seq > lastSeq) {
          send({ type: "resume", after_seq: lastSeq });
        }
        flushOutbox();
        markReadSoon();
        break;
      case "message":
      case "event":
        receiveEntry(frame);
        break;
      case "resume.page":
        if (resumeFailed) { resumeFailed = false; showError(""); }
        if (frame.more) { send({ type: "resume", after_seq: frame.last_seq }); }
        break;
      case "presence":
        showPresence(frame.online);
        break;
      case "typing":
        if (frame.user.id === config.me.id) { break; }
        if (frame.active) {
          typers[frame.user.id] = { name: frame.user.name, at: Date.now() };
        } else {
          delete typers[frame.user.id];
        }
        showTyping();
        break;
      case "read":
        readMarks[frame.user.id] = { name: frame.user.name, seq: frame.seq };
        updateReceipts();
        break;
      case "error":
        if (frame.code === "rate_limited") {
          showError(gettext("You are sending messages too fast. They will be sent in a few seconds."));
          setTimeout(flushOutbox, 5000);
        } else if (frame.code === "unavailable") {
          showError(gettext("The server could not store your message; it will be sent again."));
          setTimeout(flushOutbox, 3000);
        } else if (frame.code === "resume_unavailable") {
          resumeFailed = true;
          showError(frame.detail);
          setTimeout(function () { send({ type: "resume", after_seq: lastSeq }); }, 3000);
        } else if (frame.code === "muted") {
          showError(gettext("The mediator has muted you in this room."));
        } else {
          showError(frame.detail);
        }
        break;
    }
  }

  // ---- history --------------------------------------------------------------------

  function loadHistory(before) {
    var url = config.historyUrl + (before ? "?before=" + before : "");
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : { entries: [] }; })
      .then(function (data) {
        var height = log.scrollHeight;
        data.entries.forEach(place);
        if (before) {
          log.scrollTop += log.scrollHeight - height;
        }
        if (!data.entries.length || data.entries[0].seq <= 1) {
          sentinel.hidden = true;
        }
        return data.entries;
      });
  }

  // ---- reading ----------------------------------------------------------------------

  var readTimer = null;
  function markReadSoon() {
    clearTimeout(readTimer);
    readTimer = setTimeout(function () {
      if (document.visibilityState === "visible" && lastSeq > lastReadSent && send({ type: "read", seq: lastSeq })) {
        lastReadSent = lastSeq;
      }
    }, 800);
  }

  function refreshUnread() {
    fetch(config.myRoomsUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : []; })
      .then(function (rooms) {
        rooms.forEach(function (room) {
          var badge = document.querySelector('[data-unread-for="' + room.id + '"]');
          if (!badge || room.id === config.roomId) { return; }
          badge.hidden = !room.unread;
          badge.textContent = room.unread;
          badge.classList.toggle("is-empty", !room.unread);
        });
      })
      .catch(function () {});
  }

  // ---- wiring -------------------------------------------------------------------------

  if (composer) {
    var textarea = composer.querySelector("textarea");
    composer.addEventListener("submit", function (event) {
      event.preventDefault();
      var body = textarea.value.trim();
      if (!body) { return; }
      var clientId = newClientId();
      outbox[clientId] = { body: body, at: Date.now() };
      saveOutbox();
      textarea.value = "";
      showPending();
      send({ type: "message.send", client_id: clientId, body: body });
      send({ type: "typing", active: false });
      typingSentAt = 0;
    });
    // On a phone (a coarse pointer: a finger) Enter inserts a line, as phone keyboards
    // promise, and the Send button sends; on a desktop Enter sends and Shift+Enter
    // inserts a line.
    var enterSends = !(window.matchMedia && window.matchMedia("(pointer: coarse)").matches);
    composer.setAttribute("data-enter-sends", enterSends ? "true" : "false");
    textarea.setAttribute("enterkeyhint", enterSends ? "send" : "enter");
    textarea.addEventListener("keydown", function (event) {
      if (enterSends && event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        composer.requestSubmit();
      }
    });
    textarea.addEventListener("input", function () {
      if (Date.now() - typingSentAt > 3000 && send({ type: "typing", active: true })) {
        typingSentAt = Date.now();
      }
    });
  }

  setInterval(function () {
    var now = Date.now();
    Object.keys(typers).forEach(function (id) {
      if (now - typers[id].at > 6000) { delete typers[id]; }
    });
    showTyping();
  }, 2000);

  loadEarlier.addEventListener("click", function () { loadHistory(oldestSeq); });
  if ("IntersectionObserver" in window) {
    new IntersectionObserver(function (seen) {
      if (seen[0].isIntersecting && oldestSeq && oldestSeq > 1) { loadHistory(oldestSeq); }
    }, { root: log }).observe(sentinel);
  }
  document.addEventListener("visibilitychange", markReadSoon);
  window.addEventListener("online", function () {
    if (!socket) { attempts = 0; connect(); }
  });
  window.addEventListener("offline", function () { setOnline(false); });

  loadHistory(null).then(function (initial) {
    if (!initial.length) { empty.hidden = false; }
    if (initial.length) { lastSeq = initial[initial.length - 1].seq; }
    log.scrollTop = log.scrollHeight;
    showPending();
    connect();
  }, function () {
    showPending();
    connect();
  });
  refreshUnread();
  setInterval(refreshUnread, 30000);
  // Pushed by the notification socket (notifications.js): a message in another room.
  document.addEventListener("room-activity", refreshUnread);
})();
