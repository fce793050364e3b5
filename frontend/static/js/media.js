// The room's audio and video (issue 21): a panel beside the text conversation.
//
// Joining asks the platform for a short-lived credential (POST credentialUrl), then
// speaks Janus's protocol through the platform's media socket (the server forces the
// room, the token and who we are). One publisher handle sends this person's camera
// and microphone, a second one their screen while they share it, and one multistream
// subscriber handle receives everyone else. Every wait is bounded: a media server that
// does not answer gives a message, and the text conversation goes on regardless.
//
// Other scripts talk to it through window.Media: Media.onRecordingState(state) and
// Media.onMediaPeople(people); room.js passes every frame of the room's text socket
// as a "room-frame" event.
(function () {
  "use strict";

  var configElement = document.getElementById("room-config");
  var panel = document.querySelector("[data-media-panel]");
  if (!configElement || !panel) {
    return;
  }
  var config = JSON.parse(configElement.textContent);
  var media = config.media;
  if (!media) {
    panel.hidden = true;
    return;
  }
  var T = media.texts;
  var me = config.me;
  var members = {};
  config.members.forEach(function (member) { members[member.id] = member; });

  var CONNECT_SECONDS = 15;
  var REQUEST_SECONDS = 10;

  var statusLine = panel.querySelector("[data-media-status]");
  var startButtons = panel.querySelector("[data-media-start]");
  var controls = panel.querySelector("[data-media-controls]");
  var tiles = panel.querySelector("[data-media-tiles]");
  var recordingBanner = panel.querySelector("[data-media-recording]");
  var consentBox = panel.querySelector("[data-media-consent]");
  var consentText = panel.querySelector("[data-media-consent-text]");
  var consentButton = panel.querySelector("[data-media-consent-button]");
  var recordingControls = panel.querySelector("[data-media-recording-controls]");
  var csrfInput = panel.querySelector("input[name=csrfmiddlewaretoken]");

  function fill(text, params) {
    return text.replace(/%\((\w+)\)s/g, function (_all, key) {
      return params[key] === undefined || params[key] === null ? "" : String(params[key]);
    });
  }

  function say(text) {
    statusLine.textContent = text || "";
  }

  function button(action) {
    return controls.querySelector('[data-media-action="' + action + '"]');
  }

  // ---- the platform's endpoints ---------------------------------------------------------

  function post(url, fields) {
    var body = new FormData();
    Object.keys(fields || {}).forEach(function (name) { body.append(name, fields[name]); });
    var abort = new AbortController();
    var timer = setTimeout(function () { abort.abort(); }, REQUEST_SECONDS * 1000);
    return fetch(url, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { Accept: "application/json", "X-CSRFToken": csrfInput ? csrfInput.value : "" },
      signal: abort.signal
    }).then(function (response) {
      clearTimeout(timer);
      return response.json().catch(function () { return {}; }).then(function (data) {
        return { status: response.status, ok: response.ok, data: data };
      });
    }, function () {
      clearTimeout(timer);
      return { status: 0, ok: false, data: {} };
    });
  }

  function wsUrl(path) {
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    return scheme + window.location.host + path;
  }

  // ---- the call's state -----------------------------------------------------------------

  var call = null;  // the current call, or null when not in the media room

  function newCall(mode) {
    return {
      mode: mode,              // "video" or "audio" as joined
      session: null,           // the Janus session
      socket: null,            // its WebSocket (for the close code)
      publisher: null,
      screen: null,            // the screen-sharing publisher handle
      subscriber: null,
      joined: false,
      ended: false,
      micMuted: false,
      cameraOff: false,
      audioOnly: false,
      sending: { audio: null, video: null },   // the publisher's mids
      feeds: {},               // feed id -> {user, screen}
      mids: {},                // the subscriber's mid -> {feed, type}
      subscribed: {},          // feed id -> true once asked for
      queue: [],               // feeds waiting for the subscriber to be free
      subscriberJoined: false,
      subscriberBusy: false,
      timers: []
    };
  }

  function later(current, seconds, callback) {
    var timer = setTimeout(function () {
      if (call === current && !current.ended) { callback(); }
    }, seconds * 1000);
    current.timers.push(timer);
  }

  // ---- tiles ------------------------------------------------------------------------------

  function personOf(display) {
    var person = null;
    try {
      person = JSON.parse(display);
    } catch (error) {
      person = null;
    }
    if (!person || typeof person !== "object") { person = {}; }
    var member = members[person.id];
    return { id: person.id, name: member ? member.name : (person.name || "") };
  }

  function tileFor(key, label) {
    var tile = tiles.querySelector('[data-tile="' + key + '"]');
    if (tile) { return tile; }
    tile = document.createElement("figure");
    tile.className = "media-tile media-tile--no-video";
    tile.setAttribute("data-tile", key);
    var video = document.createElement("video");
    video.autoplay = true;
    video.playsInline = true;
    video.muted = true;  // sound plays from the audio element
    video.setAttribute("aria-hidden", "true");
    var audio = document.createElement("audio");
    audio.autoplay = true;
    var caption = document.createElement("figcaption");
    var name = document.createElement("span");
    name.className = "media-tile__name";
    name.textContent = label;
    var state = document.createElement("span");
    state.className = "media-tile__state";
    state.setAttribute("data-tile-state", "");
    caption.appendChild(name);
    caption.appendChild(state);
    tile.appendChild(video);
    tile.appendChild(audio);
    tile.appendChild(caption);
    tiles.appendChild(tile);
    return tile;
  }

  function removeTile(key) {
    var tile = tiles.querySelector('[data-tile="' + key + '"]');
    if (!tile) { return; }
    tile.querySelectorAll("video, audio").forEach(function (element) { element.srcObject = null; });
    tile.remove();
  }

  function showTrack(tile, track, on) {
    var element = tile.querySelector(track.kind === "video" ? "video" : "audio");
    if (on) {
      element.srcObject = new MediaStream([track]);
      var playing = element.play();
      if (playing && playing.catch) { playing.catch(function () {}); }
    } else if (element.srcObject && element.srcObject.getTracks().indexOf(track) !== -1) {
      element.srcObject = null;
    }
    if (track.kind === "video") {
      tile.classList.toggle("media-tile--no-video", !on);
    }
  }

  // ---- joining ----------------------------------------------------------------------------

  function join(mode) {
    if (call) { return; }
    var recording = media.recording || {};
    if (recording.active && !recording.consented && recording.consentUrl) {
      askConsent(mode, T.consentPrompt);
      return;
    }
    var current = call = newCall(mode);
    showJoining(true);
    say(T.connecting);
    post(media.credentialUrl).then(function (answer) {
      if (call !== current) { return; }
      if (answer.status === 200 && answer.data.credential) {
        onRecordingState(answer.data.recording || {});
        connect(current, answer.data);
        return;
      }
      var error = answer.data.error;
      end(current, answer.data.message || (answer.status === 503 ? T.unavailable : T.failed));
      if (error === "consent_required" && media.recording && media.recording.consentUrl) {
        askConsent(mode, answer.data.message || T.consentPrompt);
      }
    });
  }

  var initialised = false;

  function connect(current, answer) {
    later(current, CONNECT_SECONDS, function () {
      if (!current.joined) { end(current, T.unavailable); }
    });
    var open = function () {
      current.session = new Janus({
        server: wsUrl(answer.socket),
        // Only the platform's own TURN server: never a public STUN server.
        iceServers: answer.iceServers || [],
        success: function () { attachPublisher(current); },
        error: function () {
          end(current, current.joined ? T.lost : T.unavailable);
        },
        destroyed: function () {}
      });
    };
    if (initialised) {
      open();
      return;
    }
    // janus.js takes its dependencies once, at its first initialisation.
    Janus.init({
      debug: false,
      dependencies: Janus.useDefaultDependencies({ adapter: window.adapter, WebSocket: TrackedSocket }),
      callback: function () {
        initialised = true;
        open();
      }
    });
  }

  // janus.js opens its WebSocket through this (while the call is being set up), so
  // that the platform's close codes are heard.
  function TrackedSocket(url, protocol) {
    var current = call;
    var socket = new WebSocket(url, protocol);
    if (!current) { return socket; }
    current.socket = socket;
    socket.addEventListener("close", function (event) {
      if (event.code === 4403) {
        end(current, T.removed);
      } else if (event.code === 4408) {
        end(current, T.closed);
      } else if (!current.joined) {
        // Refused before getting in (media server gone, too many sockets ...).
        end(current, T.unavailable);
      }
    });
    return socket;
  }

  function attachPublisher(current) {
    current.session.attach({
      plugin: "janus.plugin.videoroom",
      success: function (handle) {
        if (current.ended) { return; }
        current.publisher = handle;
        // The server puts in the room, the token and who we are.
        handle.send({ message: { request: "join", ptype: "publisher", room: 0 } });
      },
      error: function () { end(current, T.failed); },
      onmessage: function (message, jsep) { onPublisherMessage(current, message, jsep); },
      onlocaltrack: function (track, on) {
        if (track.kind !== "video") { return; }
        var tile = tileFor("me", T.you);
        tile.classList.add("media-tile--mine");
        showTrack(tile, track, on);
      },
      onremotetrack: function () {},
      oncleanup: function () {}
    });
  }

  function onPublisherMessage(current, message, jsep) {
    if (current.ended) { return; }
    if (jsep) { current.publisher.handleRemoteJsep({ jsep: jsep }); }
    if (message.videoroom === "joined") {
      current.joined = true;
      showInCall(current);
      publish(current, current.mode === "video");
      tileFor("me", T.you).classList.add("media-tile--mine");
      offerFeeds(current, message.publishers || []);
      return;
    }
    if (message.videoroom === "event") {
      if (message.publishers) { offerFeeds(current, message.publishers); }
      var gone = message.unpublished || message.leaving;
      if (gone && gone !== "ok") { feedGone(current, gone); }
      if (message.streams && message.configured === "ok") { noteSending(current, message.streams); }
      if (message.error) { say(T.actionFailed); }
    }
  }

  function noteSending(current, streams) {
    streams.forEach(function (stream) {
      if (stream.type === "audio") { current.sending.audio = stream.mid; }
      if (stream.type === "video") { current.sending.video = stream.mid; }
    });
  }

  function publish(current, withVideo) {
    var tracks = [{ type: "audio", capture: true, recv: false }];
    if (withVideo) { tracks.push({ type: "video", capture: true, recv: false }); }
    current.publisher.createOffer({
      tracks: tracks,
      success: function (offer) {
        current.publisher.send({ message: { request: "publish" }, jsep: offer });
        current.cameraOff = !withVideo;
        updateControls(current);
      },
      error: function () {
        if (current.ended) { return; }
        if (withVideo) {
          // No camera (or refused): the microphone alone.
          say(T.noCamera);
          current.mode = "audio";
          publish(current, false);
        } else {
          // Neither: still see and hear the others.
          say(T.noDevices);
          current.micMuted = true;
          current.cameraOff = true;
          updateControls(current);
        }
      }
    });
  }

  // ---- receiving ----------------------------------------------------------------------------

  function offerFeeds(current, publishers) {
    publishers.forEach(function (publisher) {
      var person = personOf(publisher.display);
      // Not this person's own feeds (their screen, another of their tabs): no echo.
      if (person.id === me.id) { return; }
      if (current.subscribed[publisher.id]) {
        // A feed already received that publishes more (a camera added after joining
        // audio only): receive the new streams too.
        newStreams(current, publisher).forEach(function (mid) {
          current.queue.push({ feed: publisher.id, mid: mid });
        });
        return;
      }
      var screen = (publisher.streams || []).some(function (stream) { return stream.description === "screen"; });
      current.feeds[publisher.id] = { user: person, screen: screen };
      current.subscribed[publisher.id] = true;
      var label = screen ? fill(T.screenOf, { name: person.name }) : person.name;
      var tile = tileFor(publisher.id, label);
      tile.setAttribute("data-user", person.id);
      if (screen) { tile.classList.add("media-tile--screen"); }
      current.queue.push({ feed: publisher.id });
    });
    subscribe(current);
    showPeopleState();
  }

  // The publisher's streams this subscriber does not receive yet.
  function newStreams(current, publisher) {
    var received = {};
    Object.keys(current.mids).forEach(function (mid) {
      var info = current.mids[mid];
      if (info.feed === publisher.id) { received[info.feedMid] = true; }
    });
    var waiting = {};
    current.queue.forEach(function (item) {
      if (item.feed === publisher.id) { waiting[item.mid] = true; }
    });
    return (publisher.streams || []).filter(function (stream) {
      return !stream.disabled && (stream.type === "audio" || stream.type === "video") &&
        !received[stream.mid] && !waiting[stream.mid];
    }).map(function (stream) { return stream.mid; });
  }

  function feedGone(current, feed) {
    delete current.feeds[feed];
    delete current.subscribed[feed];
    current.queue = current.queue.filter(function (queued) { return queued.feed !== feed; });
    removeTile(feed);
  }

  function subscribe(current) {
    if (!current.queue.length || current.subscriberBusy || current.ended) { return; }
    var streams = current.queue;
    current.queue = [];
    current.subscriberBusy = true;
    // A renegotiation that never completes must not block later subscriptions.
    later(current, REQUEST_SECONDS, function () {
      if (current.subscriberBusy) { current.subscriberBusy = false; subscribe(current); }
    });
    if (current.subscriberJoined) {
      current.subscriber.send({ message: { request: "update", subscribe: streams } });
      return;
    }
    current.session.attach({
      plugin: "janus.plugin.videoroom",
      success: function (handle) {
        if (current.ended) { return; }
        current.subscriber = handle;
        current.subscriberJoined = true;
        handle.send({ message: { request: "join", ptype: "subscriber", room: 0, streams: streams } });
      },
      error: function () { current.subscriberBusy = false; },
      onmessage: function (message, jsep) { onSubscriberMessage(current, message, jsep); },
      onremotetrack: function (track, mid, on) {
        var info = current.mids[mid];
        if (!info) { return; }
        var tile = tiles.querySelector('[data-tile="' + info.feed + '"]');
        if (tile) { showTrack(tile, track, on); }
      },
      oncleanup: function () {}
    });
  }

  function onSubscriberMessage(current, message, jsep) {
    if (current.ended) { return; }
    if (message.streams && (message.videoroom === "attached" || message.videoroom === "updated")) {
      var mids = {};
      message.streams.forEach(function (stream) {
        if (stream.active !== false && stream.feed_id) {
          mids[stream.mid] = { feed: stream.feed_id, type: stream.type, feedMid: stream.feed_mid };
        }
      });
      current.mids = mids;
    }
    if (message.started === "ok" || message.videoroom === "updated" && !jsep) {
      current.subscriberBusy = false;
      if (current.audioOnly) { receiveVideo(current, false); }
      subscribe(current);
    }
    if (message.error) {
      current.subscriberBusy = false;
    }
    if (jsep) {
      current.subscriber.createAnswer({
        jsep: jsep,
        // Receive only: this handle sends nothing.
        tracks: [{ type: "data" }],
        success: function (answer) {
          current.subscriber.send({ message: { request: "start", room: 0 }, jsep: answer });
        },
        error: function () {
          current.subscriberBusy = false;
          say(T.actionFailed);
        }
      });
    }
  }

  function receiveVideo(current, on) {
    if (!current.subscriber) { return; }
    var streams = Object.keys(current.mids).filter(function (mid) {
      return current.mids[mid].type === "video";
    }).map(function (mid) { return { mid: mid, send: on }; });
    if (streams.length) {
      current.subscriber.send({ message: { request: "configure", streams: streams } });
    }
  }

  // ---- the person's own controls ---------------------------------------------------------

  function sendOwn(current, kind, on) {
    var mid = current.sending[kind];
    if (!current.publisher || mid === null) { return; }
    current.publisher.send({ message: { request: "configure", streams: [{ mid: mid, send: on }] } });
  }

  function toggleMicrophone(current) {
    if (!current.publisher || current.sending.audio === null) { return; }
    current.micMuted = !current.micMuted;
    if (current.micMuted) {
      current.publisher.muteAudio();
    } else {
      current.publisher.unmuteAudio();
    }
    sendOwn(current, "audio", !current.micMuted);
    updateControls(current);
  }

  function toggleCamera(current) {
    if (!current.publisher) { return; }
    if (current.sending.video === null) {
      // Joined audio only (or the camera failed): add the camera now.
      current.publisher.createOffer({
        tracks: [{ type: "video", capture: true, recv: false }],
        success: function (offer) {
          current.publisher.send({ message: { request: "configure" }, jsep: offer });
          current.cameraOff = false;
          current.mode = "video";
          updateControls(current);
        },
        error: function () { say(T.noCamera); }
      });
      return;
    }
    current.cameraOff = !current.cameraOff;
    if (current.cameraOff) {
      current.publisher.muteVideo();
    } else {
      current.publisher.unmuteVideo();
    }
    sendOwn(current, "video", !current.cameraOff && !current.audioOnly);
    updateControls(current);
  }

  // A weak network: neither send nor receive video, keep the sound.
  function toggleAudioOnly(current) {
    current.audioOnly = !current.audioOnly;
    panel.classList.toggle("media-panel--audio-only", current.audioOnly);
    if (current.sending.video !== null) {
      if (current.audioOnly) { current.publisher.muteVideo(); } else if (!current.cameraOff) { current.publisher.unmuteVideo(); }
      sendOwn(current, "video", !current.audioOnly && !current.cameraOff);
    }
    receiveVideo(current, !current.audioOnly);
    updateControls(current);
  }

  function toggleScreen(current) {
    if (current.screen) {
      stopScreen(current);
      return;
    }
    current.session.attach({
      plugin: "janus.plugin.videoroom",
      // The platform tells a screen's handle by this (docs/media.md).
      opaqueId: "room-" + config.roomId + "-screen",
      success: function (handle) {
        if (current.ended) { handle.detach(); return; }
        current.screen = handle;
        handle.send({ message: { request: "join", ptype: "publisher", room: 0 } });
        updateControls(current);
      },
      error: function () { say(T.actionFailed); },
      onmessage: function (message, jsep) {
        var handle = current.screen;
        if (!handle || current.ended) { return; }
        if (jsep) { handle.handleRemoteJsep({ jsep: jsep }); }
        if (message.videoroom === "joined") {
          handle.createOffer({
            tracks: [{ type: "screen", capture: true, recv: false }],
            success: function (offer) {
              handle.send({
                message: { request: "publish", descriptions: [{ mid: "0", description: "screen" }] },
                jsep: offer
              });
            },
            // Refused in the browser's picker: nothing is shared.
            error: function () { stopScreen(current); }
          });
        }
      },
      onlocaltrack: function (track, on) {
        if (track.kind !== "video") { return; }
        if (on) {
          // The browser's own "Stop sharing" ends the track.
          track.addEventListener("ended", function () { stopScreen(current); });
        }
        var tile = tileFor("my-screen", fill(T.screenOf, { name: T.you }));
        tile.classList.add("media-tile--mine", "media-tile--screen");
        showTrack(tile, track, on);
      },
      onremotetrack: function () {},
      oncleanup: function () {}
    });
  }

  function stopScreen(current) {
    var handle = current.screen;
    current.screen = null;
    if (handle) {
      handle.send({ message: { request: "leave" } });
      handle.detach();
    }
    removeTile("my-screen");
    updateControls(current);
  }

  function leave() {
    if (call) { end(call, T.left); }
  }

  // ---- ending -------------------------------------------------------------------------------

  // Stop everything this call holds (cameras, microphones, the session) and say why.
  function end(current, reason) {
    if (current.ended) { return; }
    current.ended = true;
    current.timers.forEach(clearTimeout);
    if (current.session) {
      try {
        current.session.destroy({ notifyDestroyed: false, cleanupHandles: true });
      } catch (error) {
        // Already gone with its socket.
      }
    }
    if (current.socket && current.socket.readyState <= 1) {
      current.socket.close();
    }
    if (call === current) {
      call = null;
      tiles.querySelectorAll("[data-tile]").forEach(function (tile) { removeTile(tile.getAttribute("data-tile")); });
      showJoining(false);
      controls.hidden = true;
      startButtons.hidden = false;
      panel.classList.remove("media-panel--in-call", "media-panel--audio-only");
      showPeopleState();
      showRecording();
    }
    say(reason);
  }

  // ---- what the panel shows ---------------------------------------------------------------

  function showJoining(busy) {
    startButtons.querySelectorAll("button").forEach(function (element) {
      element.disabled = busy;
      element.setAttribute("aria-busy", busy ? "true" : "false");
    });
  }

  function showInCall(current) {
    startButtons.hidden = true;
    controls.hidden = false;
    panel.classList.add("media-panel--in-call");
    say(current.mode === "video" ? T.inVideo : T.inAudio);
    updateControls(current);
    showRecording();
  }

  function updateControls(current) {
    if (!current || current !== call) { return; }
    button("microphone").textContent = current.micMuted ? T.unmute : T.mute;
    button("microphone").setAttribute("aria-pressed", current.micMuted ? "true" : "false");
    button("camera").textContent = current.cameraOff || current.sending.video === null && current.mode !== "video"
      ? T.cameraOnButton : T.cameraOffButton;
    button("audio-only").textContent = current.audioOnly ? T.audioOnlyOff : T.audioOnly;
    button("audio-only").setAttribute("aria-pressed", current.audioOnly ? "true" : "false");
    var screenButton = button("screen");
    screenButton.hidden = !(navigator.mediaDevices && navigator.mediaDevices.getDisplayMedia);
    screenButton.textContent = current.screen ? T.stopSharing : T.shareScreen;
  }

  // ---- who is in the media room (frames of the text socket) -------------------------------

  var people = [];          // the last {"type": "media"} frame's people
  var removedHere = {};     // removed by this mediator from this page: offer readmission

  function onMediaPeople(list) {
    people = Array.isArray(list) ? list : [];
    people.forEach(function (person) { delete removedHere[person.id]; });
    var mine = people.filter(function (person) { return person.id === me.id; })[0];
    if (mine && mine.muted_by_mediator && call) { say(T.youWereMuted); }
    showPeopleState();
  }

  function stateWords(person) {
    var words = [];
    if (person.screen) { words.push(T.sharingScreen); }
    if (person.muted_by_mediator) {
      words.push(T.mutedByMediator);
    } else if (!person.audio) {
      words.push(T.micOff);
    }
    if (!person.video) { words.push(T.cameraOff); }
    return words;
  }

  function showPeopleState() {
    var byId = {};
    people.forEach(function (person) { byId[person.id] = person; });
    document.querySelectorAll("[data-members] [data-member]").forEach(function (row) {
      var id = Number(row.getAttribute("data-member"));
      var person = byId[id];
      var state = row.querySelector("[data-media-state]");
      if (!state) {
        state = document.createElement("span");
        state.className = "media-state";
        state.setAttribute("data-media-state", "");
        row.appendChild(state);
      }
      state.textContent = "";
      if (person) {
        [T.inVideoIcon].concat(stateWords(person)).forEach(function (word, index) {
          var badge = document.createElement("span");
          badge.className = "badge media-badge" + (index === 0 ? " media-badge--in" : "");
          badge.textContent = word;
          state.appendChild(badge);
        });
      }
      showModeration(row, id, person);
    });
    tiles.querySelectorAll("[data-tile][data-user]").forEach(function (tile) {
      var person = byId[Number(tile.getAttribute("data-user"))];
      var words = person && !tile.classList.contains("media-tile--screen") ? stateWords(person) : [];
      tile.querySelector("[data-tile-state]").textContent = words.join(" · ");
    });
  }

  function showModeration(row, id, person) {
    var box = row.querySelector("[data-media-moderation]");
    var member = members[id];
    if (!media.mayModerate || id === me.id || !member || member.role === "mediator" || member.role === "judge") {
      if (box) { box.remove(); }
      return;
    }
    if (!box) {
      box = document.createElement("span");
      box.className = "media-moderation";
      box.setAttribute("data-media-moderation", "");
      row.appendChild(box);
    }
    box.textContent = "";
    var name = member.name;
    if (person && media.muteUrl && !person.muted_by_mediator) {
      box.appendChild(moderationButton(fill(T.muteOf, { name: name }), media.muteUrl, id));
    }
    if (person && media.unmuteUrl && person.muted_by_mediator) {
      box.appendChild(moderationButton(fill(T.unmuteOf, { name: name }), media.unmuteUrl, id));
    }
    if (person && media.removeUrl) {
      box.appendChild(moderationButton(fill(T.removeOf, { name: name }), media.removeUrl, id, fill(T.confirmRemove, { name: name })));
    }
    if (!person && removedHere[id] && media.readmitUrl) {
      box.appendChild(moderationButton(fill(T.readmitOf, { name: name }), media.readmitUrl, id));
    }
  }

  function moderationButton(label, url, userId, question) {
    var element = document.createElement("button");
    element.type = "button";
    element.className = "button media-moderation__button";
    element.textContent = label;
    element.setAttribute("data-media-moderate", url === media.removeUrl ? "remove" : url === media.muteUrl ? "mute"
      : url === media.unmuteUrl ? "unmute" : "readmit");
    element.addEventListener("click", function () {
      if (question && !window.confirm(question)) { return; }
      element.disabled = true;
      post(url, { user: userId }).then(function (answer) {
        element.disabled = false;
        if (!answer.ok) {
          say(answer.data.message || T.actionFailed);
          return;
        }
        if (url === media.removeUrl) {
          removedHere[userId] = true;
          people = people.filter(function (person) { return person.id !== userId; });
        }
        if (url === media.readmitUrl) { delete removedHere[userId]; }
        showPeopleState();
      });
    });
    return element;
  }

  // ---- recording ------------------------------------------------------------------------------

  var pendingMode = null;   // the join waiting for this person's consent

  function onRecordingState(state) {
    var recording = media.recording = media.recording || {};
    if (state && typeof state.active === "boolean") { recording.active = state.active; }
    if (state && typeof state.consented === "boolean") { recording.consented = state.consented; }
    showRecording();
  }

  function showRecording() {
    var recording = media.recording || {};
    recordingBanner.hidden = !recording.active;
    recordingBanner.textContent = recording.active ? T.recording : "";
    panel.classList.toggle("media-panel--recording", !!recording.active);
    // In the call and not recorded yet: agree beforehand, so that the mediator may start.
    if (call && call.joined && !recording.consented && recording.consentUrl && !pendingMode) {
      consentText.textContent = recording.active ? T.consentPrompt : T.consentBefore;
      consentBox.hidden = false;
    } else if (!pendingMode) {
      consentBox.hidden = true;
    }
    recordingControls.hidden = !(media.mayModerate && call && call.joined && (recording.startUrl || recording.stopUrl));
    var start = recordingControls.querySelector('[data-media-recording-action="start"]');
    var stop = recordingControls.querySelector('[data-media-recording-action="stop"]');
    start.hidden = !recording.startUrl || !!recording.active;
    stop.hidden = !recording.stopUrl || !recording.active;
  }

  function askConsent(mode, text) {
    pendingMode = mode;
    consentText.textContent = text;
    consentBox.hidden = false;
    consentButton.focus();
  }

  consentButton.addEventListener("click", function () {
    consentButton.disabled = true;
    post(media.recording.consentUrl).then(function (answer) {
      consentButton.disabled = false;
      if (!answer.ok) {
        say(answer.data.message || T.actionFailed);
        return;
      }
      media.recording.consented = true;
      onRecordingState(answer.data.recording || {});
      consentBox.hidden = true;
      var mode = pendingMode;
      pendingMode = null;
      say(T.consented);
      if (mode) { join(mode); } else { showRecording(); }
    });
  });

  recordingControls.querySelectorAll("[data-media-recording-action]").forEach(function (element) {
    element.addEventListener("click", function () {
      var starting = element.getAttribute("data-media-recording-action") === "start";
      element.disabled = true;
      post(starting ? media.recording.startUrl : media.recording.stopUrl).then(function (answer) {
        element.disabled = false;
        if (!answer.ok) {
          say(answer.data.message || T.actionFailed);
          return;
        }
        onRecordingState(answer.data.recording || { active: starting });
        // The banner says it now; the line goes back to the call's state.
        say(call && call.joined ? (call.mode === "video" ? T.inVideo : T.inAudio) : "");
      });
    });
  });

  function loadPeople() {
    if (!media.peopleUrl) { return; }
    fetch(media.peopleUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) { if (data) { onMediaPeople(data.people); } })
      .catch(function () {});
  }

  // ---- the text socket's frames (room.js) -----------------------------------------------------

  document.addEventListener("room-frame", function (event) {
    var frame = event.detail || {};
    if (frame.type === "media") {
      onMediaPeople(frame.people);
    } else if (frame.type === "hello") {
      // (Re)connected: who is in the video now (a change while away had no frame).
      loadPeople();
    } else if (frame.type === "event") {
      if (frame.kind === "recording.started") {
        onRecordingState({ active: true });
      } else if (frame.kind === "recording.stopped") {
        // The next recording asks everyone again.
        onRecordingState({ active: false, consented: false });
      } else if (frame.kind === "recording.consented" && frame.actor && frame.actor.id === me.id) {
        onRecordingState({ consented: true });
      }
    }
  });

  // ---- wiring ---------------------------------------------------------------------------------

  startButtons.querySelectorAll("[data-media-join]").forEach(function (element) {
    element.addEventListener("click", function () { join(element.getAttribute("data-media-join")); });
  });
  controls.addEventListener("click", function (event) {
    var target = event.target.closest("[data-media-action]");
    if (!target || !call) { return; }
    var action = target.getAttribute("data-media-action");
    if (action === "microphone") { toggleMicrophone(call); }
    if (action === "camera") { toggleCamera(call); }
    if (action === "audio-only") { toggleAudioOnly(call); }
    if (action === "screen") { toggleScreen(call); }
    if (action === "leave") { leave(); }
  });
  if (!media.credentialUrl) {
    startButtons.hidden = true;
    say(T.unavailable);
  }
  showRecording();

  window.Media = {
    onRecordingState: onRecordingState,
    onMediaPeople: onMediaPeople,
    join: join,
    leave: leave
  };
})();
