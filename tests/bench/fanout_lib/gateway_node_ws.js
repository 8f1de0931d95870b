// Peer gateway: Node.js on the `ws` package, the most used WebSocket server for Node.
//
//   NODE_PATH=<tmp>/node_modules node gateway_node_ws.js --upstream ws://127.0.0.1:P/json [--port 0]
//
// The bench installs `ws` (version from package.json) into a temporary folder at run
// time; nothing is committed. Same contract as the Python peers: restream's subscribe
// protocol ({"op":"subscribe","symbols":[...]}, unsubscribe too) fills per-symbol sets;
// per upstream message one JSON.parse, a ts_gateway_out stamp, one JSON.stringify, one
// Buffer, and ws.send(buffer) to each subscriber (ws frames and writes it per client).
// perMessageDeflate off on both sides. Prints "listening on ws://127.0.0.1:PORT/ws".
"use strict";

const { WebSocket, WebSocketServer } = require("ws");

function option(name, fallback) {
  const i = process.argv.indexOf(name);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

const upstreamUrl = option("--upstream", null);
const port = Number(option("--port", "0"));
if (!upstreamUrl) {
  console.error("usage: node gateway_node_ws.js --upstream ws://127.0.0.1:P/json [--port 0]");
  process.exit(2);
}

const subs = new Map(); // symbol -> Set of client sockets
const nowUs = () => Math.round((performance.timeOrigin + performance.now()) * 1000);

const wss = new WebSocketServer({ host: "127.0.0.1", port, backlog: 2048, perMessageDeflate: false });

wss.on("connection", (client) => {
  const held = new Set();
  client.on("message", (data) => {
    let request;
    try {
      request = JSON.parse(data);
    } catch {
      return;
    }
    const symbols = Array.isArray(request.symbols) ? request.symbols : [];
    for (const symbol of symbols) {
      if (request.op === "subscribe") {
        let set = subs.get(symbol);
        if (!set) subs.set(symbol, (set = new Set()));
        set.add(client);
        held.add(symbol);
      } else if (request.op === "unsubscribe") {
        subs.get(symbol)?.delete(client);
        held.delete(symbol);
      }
    }
  });
  client.on("close", () => {
    for (const symbol of held) subs.get(symbol)?.delete(client);
  });
  client.on("error", () => {});
});

wss.on("listening", () => {
  console.log(`listening on ws://127.0.0.1:${wss.address().port}/ws`);
  const upstream = new WebSocket(upstreamUrl, { perMessageDeflate: false });
  upstream.on("message", (data) => {
    const quote = JSON.parse(data);
    const targets = subs.get(quote.symbol);
    if (!targets || targets.size === 0) return;
    quote.ts_gateway_out = nowUs();
    const message = Buffer.from(JSON.stringify(quote));
    for (const client of targets) {
      if (client.readyState === WebSocket.OPEN) client.send(message, { binary: false });
    }
  });
  upstream.on("close", () => process.exit(1));
  upstream.on("error", (err) => {
    console.error(`upstream: ${err.message}`);
    process.exit(1);
  });
});

for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => process.exit(0));
