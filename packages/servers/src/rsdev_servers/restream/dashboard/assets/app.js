// restream dashboard: one WebSocket to /ws on this page's own origin, /health every 5 s.
// Plain JavaScript, no build step, nothing loaded from elsewhere (the server's CSP allows
// only this origin). The client protocol is docs/protocol.md.

const HEALTH_EVERY_MS = 5000;
const PING_EVERY_MS = 10000;
const STATS_EVERY_MS = 1000;
const LATENCY_WINDOW = 1000; // quotes in the sliding window of the latency percentiles
const RETRY_MIN_MS = 500;
const RETRY_MAX_MS = 10000;
const MAX_NOTICES = 8;
const STORE_KEY = "restream.symbols";
const FEAR_GREED = "@fear_greed";
const FG_BANDS = [
  [0, 25, "extreme fear"],
  [25, 45, "fear"],
  [45, 55, "neutral"],
  [55, 75, "greed"],
  [75, 100, "extreme greed"],
];

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const token = params.get("token");

/** Microseconds since the epoch, from the browser's high-resolution clock. */
const nowUs = () => Math.round((performance.timeOrigin + performance.now()) * 1000);

// -- formatting --------------------------------------------------------------------------

const numberFormats = new Map();
function fixed(value, digits) {
  let format = numberFormats.get(digits);
  if (!format) {
    format = new Intl.NumberFormat(undefined, {
      minimumFractionDigits: digits,
      maximumFractionDigits: digits,
    });
    numberFormats.set(digits, format);
  }
  return format.format(value);
}
const compact = new Intl.NumberFormat(undefined, { notation: "compact", maximumFractionDigits: 2 });
const signOf = (v) => (v > 0 ? "up" : v < 0 ? "down" : "flat");
const signed = (v, digits) => (v > 0 ? "+" : "") + fixed(v, digits);

function duration(us) {
  const a = Math.abs(us);
  if (a < 1000) return `${Math.round(us)} µs`;
  if (a < 1e6) return `${(us / 1000).toFixed(a < 10000 ? 2 : 1)} ms`;
  return `${(us / 1e6).toFixed(2)} s`;
}

function seconds(s) {
  if (s < 90) return `${s.toFixed(s < 10 ? 1 : 0)} s`;
  if (s < 5400) return `${Math.round(s / 60)} min`;
  if (s < 172800) return `${(s / 3600).toFixed(1)} h`;
  return `${(s / 86400).toFixed(1)} d`;
}

const clockTime = (us) =>
  new Date(us / 1000).toLocaleTimeString(undefined, { hour12: false });

// -- notices -----------------------------------------------------------------------------

function notice(text, level = "info") {
  const list = $("notices");
  const item = document.createElement("li");
  item.dataset.level = level;
  const time = document.createElement("time");
  time.textContent = clockTime(nowUs());
  item.append(time, " ", text);
  list.prepend(item);
  while (list.children.length > MAX_NOTICES) list.lastElementChild.remove();
}

// -- wanted symbols ----------------------------------------------------------------------

const wanted = new Set();

function parseSymbols(text) {
  return text
    .split(/[\s,;]+/)
    .map((s) => s.trim().toUpperCase())
    .filter((s) => s && !s.startsWith("@"));
}

function savedSymbols() {
  const fromUrl = params.get("symbols");
  if (fromUrl) return parseSymbols(fromUrl);
  try {
    const stored = JSON.parse(localStorage.getItem(STORE_KEY) || "[]");
    return Array.isArray(stored) ? parseSymbols(stored.join(" ")) : [];
  } catch {
    return [];
  }
}

function saveSymbols() {
  try {
    localStorage.setItem(STORE_KEY, JSON.stringify([...wanted]));
  } catch {
    // storage disabled: the list lasts as long as the page
  }
}

// -- the quotes table --------------------------------------------------------------------

const rows = new Map(); // symbol -> row
const tbody = document.querySelector("#quotes tbody");

function addRow(symbol) {
  let row = rows.get(symbol);
  if (row) return row;
  const tr = document.createElement("tr");
  tr.dataset.symbol = symbol;
  tr.classList.add("pending");
  const cell = (className, text = "") => {
    const td = document.createElement("td");
    td.className = className;
    td.textContent = text;
    tr.append(td);
    return td;
  };
  row = { tr, last: null };
  cell("sym", symbol);
  row.price = cell("num price", "…");
  row.change = cell("num change");
  row.pct = cell("num pct");
  row.range = cell("num wide range");
  row.volume = cell("num wide volume");
  row.source = cell("src");
  row.updated = cell("num updated");
  const remove = document.createElement("button");
  remove.type = "button";
  remove.className = "remove";
  remove.textContent = "×";
  remove.title = `unsubscribe ${symbol}`;
  remove.addEventListener("click", () => unsubscribe([symbol]));
  cell("x").append(remove);
  tbody.append(tr);
  rows.set(symbol, row);
  $("empty").hidden = true;
  return row;
}

function removeRow(symbol) {
  const row = rows.get(symbol);
  if (row) row.tr.remove();
  rows.delete(symbol);
  $("empty").hidden = rows.size > 0;
}

function flash(row, direction) {
  const el = row.price;
  el.classList.remove("flash-up", "flash-down");
  void el.offsetWidth; // restart the animation even when the direction repeats
  el.classList.add(direction === "up" ? "flash-up" : "flash-down");
  row.tr.dataset.dir = direction;
}

function showQuote(q, isSnapshot) {
  const row = rows.get(q.symbol);
  if (!row || typeof q.price !== "number") return; // a late frame after an unsubscribe
  const digits = Number.isInteger(q.price_hint) ? Math.min(q.price_hint, 8) : 2;
  row.tr.classList.remove("pending");
  row.price.textContent = fixed(q.price, digits);
  if (row.last !== null && q.price !== row.last) flash(row, q.price > row.last ? "up" : "down");
  row.last = q.price;
  if (typeof q.change === "number") {
    row.change.textContent = signed(q.change, digits);
    row.change.dataset.sign = signOf(q.change);
  }
  if (typeof q.change_percent === "number") {
    row.pct.textContent = `${signed(q.change_percent, 2)}%`;
    row.pct.dataset.sign = signOf(q.change_percent);
  }
  if (typeof q.day_low === "number" && typeof q.day_high === "number") {
    row.range.textContent = `${fixed(q.day_low, digits)} – ${fixed(q.day_high, digits)}`;
  }
  if (typeof q.day_volume === "number") row.volume.textContent = compact.format(q.day_volume);
  row.source.textContent = q.source || "";
  row.source.dataset.source = q.source || "";
  row.updated.textContent = clockTime(q.ts_upstream || q.ts_library_in);
  row.updated.title = isSnapshot ? "last known value (snapshot)" : "time of the upstream value";
  row.tr.classList.toggle("snapshot", isSnapshot);
}

// -- latency -----------------------------------------------------------------------------

class SlidingWindow {
  constructor(size) {
    this.values = new Float64Array(size);
    this.count = 0;
    this.next = 0;
  }
  push(value) {
    this.values[this.next] = value;
    this.next = (this.next + 1) % this.values.length;
    this.count = Math.min(this.count + 1, this.values.length);
  }
  /** Nearest-rank percentiles, e.g. percentiles(0.5, 0.99). */
  percentiles(...ps) {
    const sorted = this.values.slice(0, this.count).sort();
    return ps.map((p) => sorted[Math.min(this.count - 1, Math.max(0, Math.ceil(p * this.count) - 1))]);
  }
}

const processing = new SlidingWindow(LATENCY_WINDOW); // ts_library_out − ts_library_in
const delivery = new SlidingWindow(LATENCY_WINDOW); // browser receive − ts_library_out
let quotesSeen = 0;

function measure(q, receivedUs) {
  if (typeof q.ts_library_in !== "number" || typeof q.ts_library_out !== "number") return;
  processing.push(q.ts_library_out - q.ts_library_in);
  delivery.push(receivedUs - q.ts_library_out);
  quotesSeen += 1;
}

function renderLatency() {
  if (!processing.count) return;
  const [p50, p99] = processing.percentiles(0.5, 0.99);
  const [w50, w99] = delivery.percentiles(0.5, 0.99);
  $("lat-proc-p50").textContent = duration(p50);
  $("lat-proc-p99").textContent = duration(p99);
  $("lat-wire-p50").textContent = duration(w50);
  $("lat-wire-p99").textContent = duration(w99);
  $("lat-n").textContent = `last ${processing.count} of ${quotesSeen} quotes`;
}

// -- Fear & Greed gauge ------------------------------------------------------------------

const SVG = "http://www.w3.org/2000/svg";

function gaugePoint(score, radius) {
  const angle = Math.PI * (1 - score / 100);
  return [100 + radius * Math.cos(angle), 100 - radius * Math.sin(angle)];
}

function drawGauge() {
  const arcs = $("fg-arcs");
  FG_BANDS.forEach(([from, to, name], i) => {
    const [x1, y1] = gaugePoint(from + 0.7, 80);
    const [x2, y2] = gaugePoint(to - 0.7, 80);
    const path = document.createElementNS(SVG, "path");
    path.setAttribute("d", `M ${x1.toFixed(2)} ${y1.toFixed(2)} A 80 80 0 0 1 ${x2.toFixed(2)} ${y2.toFixed(2)}`);
    path.setAttribute("class", `band band-${i}`);
    const title = document.createElementNS(SVG, "title");
    title.textContent = `${name} (${from}–${to})`;
    path.append(title);
    arcs.append(path);
  });
}

function showFearGreed(m) {
  const score = Number(m.score);
  if (!Number.isFinite(score)) return;
  const clamped = Math.max(0, Math.min(100, score));
  $("fg-needle").style.transform = `rotate(${-90 + clamped * 1.8}deg)`;
  $("fg-score").textContent = Math.round(score);
  $("fg-score").title = String(score);
  const rating = $("fg-rating");
  rating.textContent = m.rating || "";
  rating.dataset.rating = m.rating || "";
  const history = $("fg-history");
  history.replaceChildren();
  for (const [key, label] of [
    ["previous_close", "previous close"],
    ["previous_1_week", "1 week ago"],
    ["previous_1_month", "1 month ago"],
    ["previous_1_year", "1 year ago"],
  ]) {
    if (typeof m[key] === "number") addPair(history, label, fixed(m[key], 1));
  }
  if (m.ts_upstream) addPair(history, "as of", new Date(m.ts_upstream / 1000).toLocaleString());
}

function addPair(dl, label, value) {
  const dt = document.createElement("dt");
  dt.textContent = label;
  const dd = document.createElement("dd");
  dd.textContent = value;
  dl.append(dt, dd);
}

// -- upstream status and health ----------------------------------------------------------

function setPill(id, value, title) {
  const pill = $(id);
  pill.querySelector("b").textContent = value || "—";
  pill.dataset.value = value || "";
  if (title !== undefined) pill.title = title;
}

let lastMode = null;

function showStatus(m) {
  setPill("mode", m.mode, m.reason ? `upstream mode: ${m.reason}` : "upstream mode");
  setPill("market", m.market);
  setPill("upstream", m.upstream);
  if (lastMode !== null && m.mode !== lastMode) {
    notice(`upstream ${lastMode} → ${m.mode}: ${m.reason || ""}`, m.mode === "polling" ? "warn" : "info");
  }
  lastMode = m.mode;
  refreshHealth(1000); // the connection state settles shortly after a change of mode
}

function showHealth(h) {
  const up = h.upstream || {};
  setPill("upstream", up.state);
  if (!socketOpen()) {
    setPill("mode", h.mode, h.reason);
    setPill("market", h.market);
  }
  const badge = $("badge");
  badge.hidden = !h.demo;
  badge.textContent = h.demo ? "demo" : "";
  const clients = h.clients ? h.clients.total : 0;
  const parts = [`v${h.version}`, `${clients} client${clients === 1 ? "" : "s"}`];
  if (typeof h.uptime_s === "number") parts.push(`up ${seconds(h.uptime_s)}`);
  $("server-meta").textContent = parts.join(" · ");
  const dl = $("health");
  dl.replaceChildren();
  addPair(dl, "status", h.status);
  addPair(dl, "reason", h.reason || "—");
  if (typeof h.mode_age_s === "number") addPair(dl, "in this mode", seconds(h.mode_age_s));
  if (typeof up.last_quote_age_s === "number") addPair(dl, "last quote", `${seconds(up.last_quote_age_s)} ago`);
  addPair(dl, "connections", String(up.connections ?? "—"));
  addPair(dl, "reconnects · stalls", `${up.reconnects ?? 0} · ${up.stalls ?? 0}`);
  if (h.symbols) addPair(dl, "symbols", `${h.symbols.active} active, ${h.symbols.lingering} lingering`);
  if (h.memory) {
    addPair(dl, "buffered", `${compact.format(h.memory.guarded_bytes)} B of ${compact.format(h.memory.budget_bytes)} B`);
  }
  dl.dataset.status = h.status || "";
}

let healthTimer = 0;
let healthDue = Infinity;

/** Fetch /health in `delayMs`, unless a fetch is already due sooner. */
function refreshHealth(delayMs) {
  const due = Date.now() + delayMs;
  if (healthTimer && due >= healthDue) return;
  clearTimeout(healthTimer);
  healthDue = due;
  healthTimer = setTimeout(() => {
    healthTimer = 0;
    healthDue = Infinity;
    pollHealth();
  }, delayMs);
}

async function pollHealth() {
  try {
    const response = await fetch(new URL("health", location.href), { cache: "no-store" });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    showHealth(await response.json());
  } catch (error) {
    $("health").dataset.status = "unreachable";
    $("server-meta").textContent = `health unavailable (${error.message})`;
  }
  refreshHealth(HEALTH_EVERY_MS);
}

// -- the WebSocket -----------------------------------------------------------------------

let socket = null;
let retryMs = RETRY_MIN_MS;
let pingId = 0;
const pings = new Map(); // id -> sent (ms)

const socketOpen = () => socket !== null && socket.readyState === WebSocket.OPEN;

function feedUrl() {
  const url = new URL("ws", location.href);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  url.search = "";
  url.hash = "";
  url.searchParams.set("priority", "low"); // under memory pressure, dashboards go first
  url.searchParams.set("conflate", "1"); // a busy page sees the latest price, not a backlog
  if (token) url.searchParams.set("token", token);
  return url.href;
}

function setConnection(state, text) {
  $("conn-state").dataset.state = state;
  $("conn-text").textContent = text;
}

function send(message) {
  if (socketOpen()) socket.send(JSON.stringify(message));
}

function subscribe(symbols) {
  if (symbols.length) send({ op: "subscribe", symbols });
}

function unsubscribe(symbols) {
  for (const symbol of symbols) {
    wanted.delete(symbol);
    removeRow(symbol);
  }
  saveSymbols();
  send({ op: "unsubscribe", symbols });
}

/** True when restream answers this page's own URL with 401: the token is missing or wrong
 * (a refused WebSocket handshake only shows up as code 1006 in a browser). */
async function tokenRefused() {
  try {
    const response = await fetch(location.href, { method: "HEAD", cache: "no-store" });
    return response.status === 401;
  } catch {
    return false;
  }
}

function refuse() {
  setConnection("refused", "token refused");
  notice("restream refused the auth token: open this page as …/?token=YOUR_TOKEN", "error");
}

function connect() {
  setConnection("connecting", "connecting");
  const ws = new WebSocket(feedUrl());
  let opened = false;
  socket = ws;
  ws.addEventListener("open", () => {
    opened = true;
    retryMs = RETRY_MIN_MS;
    setConnection("open", "live");
    notice(`connected to the feed at ${location.host}`);
    subscribe([...wanted, FEAR_GREED]);
  });
  ws.addEventListener("message", (event) => {
    const received = nowUs();
    let message;
    try {
      message = JSON.parse(event.data);
    } catch {
      return;
    }
    handle(message, received);
  });
  ws.addEventListener("close", (event) => {
    if (socket !== ws) return;
    socket = null;
    pings.clear();
    const wait = Math.round(retryMs * (0.5 + Math.random() / 2));
    retryMs = Math.min(RETRY_MAX_MS, retryMs * 2);
    if (event.code === 1008 && /token/.test(event.reason)) {
      refuse();
      retryMs = RETRY_MAX_MS;
    } else {
      const why = event.reason || (event.code === 1006 ? "connection lost" : `code ${event.code}`);
      setConnection("closed", `offline, retrying in ${Math.ceil(wait / 1000)} s`);
      notice(`feed closed: ${why}`, "warn");
      if (!opened) {
        tokenRefused().then((refused) => {
          if (refused && socket === null) refuse();
        });
      }
    }
    setTimeout(connect, wait);
  });
}

function handle(m, received) {
  switch (m.type) {
    case "quote":
      measure(m, received);
      showQuote(m, false);
      break;
    case "snapshot":
      showQuote(m, true);
      break;
    case "indicator":
      if (m.name === "fear_greed") showFearGreed(m);
      break;
    case "status":
      showStatus(m);
      break;
    case "pong": {
      const sent = pings.get(m.id);
      pings.delete(m.id);
      if (sent !== undefined) $("lat-rtt").textContent = duration((performance.now() - sent) * 1000);
      break;
    }
    case "error":
      showError(m);
      break;
    case "subscribed":
    case "unsubscribed": {
      const shown = m.symbols.filter((s) => s !== FEAR_GREED);
      if (shown.length) notice(`${m.type} ${shown.join(", ")}`);
      break;
    }
    default:
      break; // types of later protocol versions
  }
}

function showError(m) {
  const refused = Array.isArray(m.symbols) ? m.symbols : [];
  for (const item of refused) {
    const symbol = String(item.symbol ?? "").trim().toUpperCase();
    if (wanted.delete(symbol)) removeRow(symbol);
  }
  if (refused.length) saveSymbols();
  if (m.code !== "not_subscribed") notice(`${m.code}: ${m.message}`, "error");
}

function ping() {
  if (socketOpen()) {
    pingId += 1;
    pings.set(pingId, performance.now());
    send({ op: "ping", id: pingId });
  }
}

// -- start -------------------------------------------------------------------------------

$("subscribe-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const input = $("symbol-input");
  const fresh = parseSymbols(input.value).filter((s) => !wanted.has(s));
  input.value = "";
  for (const symbol of fresh) {
    wanted.add(symbol);
    addRow(symbol);
  }
  saveSymbols();
  subscribe(fresh);
});

drawGauge();
for (const symbol of savedSymbols()) {
  wanted.add(symbol);
  addRow(symbol);
}
connect();
pollHealth();
setInterval(ping, PING_EVERY_MS);
setInterval(renderLatency, STATS_EVERY_MS);
setTimeout(ping, 1000);
