// The peer of benchmarks/rooms.py: a Socket.IO server with the Redis streams adapter
// (so that several processes could share rooms) and connection-state recovery on,
// speaking the same frames as the platform's rooms for what the benchmark does:
// `hello` on connect, `message.send` answered by a `message` with the room's next
// seq, sent to everyone in the room. No database, like most Socket.IO deployments.
//
//   node server.js --port 8766 --redis redis://127.0.0.1:6379/0
"use strict";

const http = require("http");
const { Server } = require("socket.io");
const { createClient } = require("redis");
const { createAdapter } = require("@socket.io/redis-streams-adapter");

function option(name, fallback) {
  const index = process.argv.indexOf("--" + name);
  return index >= 0 ? process.argv[index + 1] : fallback;
}

async function main() {
  const port = Number(option("port", "8766"));
  const redis = createClient({ url: option("redis", "redis://127.0.0.1:6379/0") });
  await redis.connect();
  const httpServer = http.createServer((request, response) => {
    response.writeHead(404);
    response.end();
  });
  const io = new Server(httpServer, {
    adapter: createAdapter(redis, { streamName: "mediation-benchmark-" + process.pid }),
    connectionStateRecovery: { maxDisconnectionDuration: 2 * 60 * 1000, skipMiddlewares: true },
    transports: ["websocket"],
    serveClient: false,
    perMessageDeflate: false,
  });
  const seqs = new Map();
  let entryId = 0;
  io.on("connection", (socket) => {
    const room = String(socket.handshake.query.room);
    socket.join(room);
    socket.emit("frame", { type: "hello", room: { id: Number(room) }, last_seq: seqs.get(room) || 0 });
    socket.on("frame", (frame) => {
      if (!frame || frame.type !== "message.send" || typeof frame.body !== "string") {
        socket.emit("frame", { type: "error", code: "bad_frame", detail: "" });
        return;
      }
      const seq = (seqs.get(room) || 0) + 1;
      seqs.set(room, seq);
      entryId += 1;
      io.to(room).emit("frame", {
        type: "message",
        seq: seq,
        id: entryId,
        author: { id: 0 },
        body: frame.body,
        sent_at: new Date().toISOString(),
        client_id: frame.client_id,
      });
    });
  });
  httpServer.listen(port, "127.0.0.1", () => console.log("listening on " + port));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
