"""The media benchmark's publisher (`benchmarks/media.py`): Debian's Chromium with
its fake camera and microphone, driven by Playwright through a page of a few lines
that speaks Janus's protocol itself (no janus.js needed)."""

from __future__ import annotations

import http.server
import threading

CHROMIUM = "/usr/bin/chromium"


PUBLISHER_PAGE = """<!doctype html>
<meta charset="utf-8"><title>publisher</title>
<script>
let socket, session, handle, connection, waiting = {};
function send(message) {
  const transaction = Math.random().toString(36).slice(2);
  message.transaction = transaction;
  message.apisecret = window.config.apisecret;
  if (session) message.session_id = session;
  return new Promise((resolve, reject) => {
    waiting[transaction] = {resolve, reject};
    socket.send(JSON.stringify(message));
  });
}
function answer(message) {
  if (message.janus === "ack") return;
  const pending = waiting[message.transaction];
  if (!pending) return;
  delete waiting[message.transaction];
  const data = message.plugindata && message.plugindata.data;
  if (message.janus === "error" || (data && data.error_code)) pending.reject(JSON.stringify(message));
  else pending.resolve(message);
}
async function publish(config) {
  window.config = config;
  socket = new WebSocket(config.url, "janus-protocol");
  await new Promise((resolve, reject) => { socket.onopen = resolve; socket.onerror = reject; });
  socket.onmessage = (event) => answer(JSON.parse(event.data));
  session = (await send({janus: "create"})).data.id;
  handle = (await send({janus: "attach", plugin: "janus.plugin.videoroom"})).data.id;
  setInterval(() => send({janus: "keepalive"}), 20000);
  const joined = await send({janus: "message", handle_id: handle, body: {
    request: "join", ptype: "publisher", room: config.room, token: config.token, display: "publisher"}});
  const stream = await navigator.mediaDevices.getUserMedia(
    {audio: true, video: {width: 640, height: 480, frameRate: 30}});
  connection = new RTCPeerConnection({iceServers: []});
  stream.getTracks().forEach((track) => connection.addTrack(track, stream));
  // The same load in every round: on a busy CPU, Chromium lowers the frame rate
  // rather than the resolution (it would otherwise fall to 480x360 and fewer packets).
  for (const sender of connection.getSenders()) {
    if (sender.track.kind !== "video") continue;
    const parameters = sender.getParameters();
    parameters.degradationPreference = "maintain-resolution";
    await sender.setParameters(parameters).catch(() => {});
  }
  await connection.setLocalDescription(await connection.createOffer());
  await new Promise((resolve) => {
    if (connection.iceGatheringState === "complete") resolve();
    connection.onicegatheringstatechange = () => connection.iceGatheringState === "complete" && resolve();
  });
  const configured = await send({janus: "message", handle_id: handle,
    body: {request: "publish", audio: true, video: true},
    jsep: {type: "offer", sdp: connection.localDescription.sdp}});
  await connection.setRemoteDescription(configured.jsep);
  await new Promise((resolve) => {
    if (connection.connectionState === "connected") resolve();
    connection.onconnectionstatechange = () => connection.connectionState === "connected" && resolve();
  });
  return joined.plugindata.data.id;
}
async function sent() {
  const totals = {audio: 0, video: 0, frameWidth: 0, framesPerSecond: 0};
  (await connection.getStats()).forEach((stats) => {
    if (stats.type !== "outbound-rtp") return;
    totals[stats.kind] += stats.packetsSent;
    if (stats.kind === "video") {
      totals.frameWidth = stats.frameWidth || 0;
      totals.frameHeight = stats.frameHeight || 0;
      totals.framesPerSecond = stats.framesPerSecond || 0;
    }
  });
  return totals;
}
</script>
"""


class _PublisherPage(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = PUBLISHER_PAGE.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


class Publisher:
    def __init__(self, room: dict):
        from playwright.sync_api import sync_playwright

        self.playwright = sync_playwright().start()
        self.browser = self.playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--use-fake-device-for-media-stream",
                "--use-fake-ui-for-media-stream",
            ],
        )
        # Served from loopback: a secure context (getUserMedia) on the local network
        # (Chromium lets such a page reach Janus's loopback socket).
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _PublisherPage)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.page = self.browser.new_page()
        self.page.goto(f"http://127.0.0.1:{self.server.server_port}/")
        self.feed = self.page.evaluate("(config) => publish(config)", room)

    def sent(self) -> dict:
        return self.page.evaluate("sent()")

    def close(self) -> None:
        self.browser.close()
        self.playwright.stop()
        self.server.shutdown()
