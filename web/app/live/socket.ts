// The one WebSocket of the tab. It keeps the last event cursor, reconnects with backoff and
// `since=<cursor>` so nothing is missed, asks for a full refetch only when the server refuses the
// resume, and hands each event to the subscribers exactly once.
import { signal, effect } from "@preact/signals";
import { session, refreshSession } from "../auth";
import { raw, ApiError, qs } from "../api";
import { backoffDelay, CursorLog, parseFrame, socketUrl, type LiveEvent } from "./core";

export type Connection = "connecting" | "open" | "reconnecting" | "offline";

export const connection = signal<Connection>("connecting");
/** The socket was open at least once in this tab (so a drop is a "reconnecting"). */
export const everOpened = signal(false);

type Listener = (e: LiveEvent) => void;
const listeners = new Set<Listener>();
const resyncers = new Set<() => void>();

/** Calls `fn` for every new event; returns the unsubscribe function. */
export function subscribe(fn: Listener): () => void {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

/** Calls `fn` when what is on screen must be fetched again (the resume was refused). */
export function onResync(fn: () => void): () => void {
  resyncers.add(fn);
  return () => resyncers.delete(fn);
}

const log = new CursorLog();
let ws: WebSocket | null = null;
let wanted = false;
let attempt = 0;
let timer: ReturnType<typeof setTimeout> | undefined;
let pinger: ReturnType<typeof setInterval> | undefined;
let lastHeard = 0;
let needResync = false;
let connecting = false;

function dispatch(ev: LiveEvent) {
  for (const fn of [...listeners]) {
    try {
      fn(ev);
    } catch (e) {
      console.error("live event handler failed", ev.event, e);
    }
  }
}

function resync() {
  for (const fn of [...resyncers]) {
    try {
      fn();
    } catch (e) {
      console.error("resync failed", e);
    }
  }
}

function stopPinger() {
  if (pinger) clearInterval(pinger);
  pinger = undefined;
}

function scheduleReconnect(now = false) {
  if (!wanted) return;
  if (timer) clearTimeout(timer);
  connection.value = everOpened.value ? (navigator.onLine === false ? "offline" : "reconnecting") : "connecting";
  const delay = now ? 0 : backoffDelay(attempt++);
  timer = setTimeout(() => void connect(), delay);
}

/** After a socket failed before it opened: learn why (bad `since`, expired token, server down). */
async function probe(since: string | null) {
  try {
    await raw("/ws" + qs({ since }));
  } catch (e) {
    if (e instanceof ApiError && e.field === "since") {
      // The server does not know that cursor any more: start fresh, refetch what is on screen.
      log.reset();
      needResync = true;
    }
    // 401: raw() refreshed the session (or signed out). Anything else: the server is away.
  }
}

async function connect() {
  if (timer) clearTimeout(timer);
  timer = undefined;
  if (!wanted || connecting) return;
  if (ws && (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING)) return;
  connecting = true;
  try {
    let s = session.value;
    if (!s) return;
    if (s.expiresAt && s.expiresAt < Date.now() + 5_000) {
      await refreshSession();
      s = session.value;
      if (!s) return;
    }
    if (navigator.onLine === false) {
      connection.value = "offline";
      return; // the `online` event brings us back
    }
    connection.value = everOpened.value ? "reconnecting" : "connecting";
    const since = log.last;
    const sock = new WebSocket(socketUrl(location, s.accessToken, since));
    ws = sock;
    let opened = false;
    sock.onopen = () => {
      if (ws !== sock) return;
      opened = true;
      attempt = 0;
      lastHeard = Date.now();
      const wasOpen = everOpened.value;
      connection.value = "open";
      everOpened.value = true;
      // Without a cursor the server cannot replay what happened while we were away.
      if (needResync || (wasOpen && !since)) {
        needResync = false;
        resync();
      }
      stopPinger();
      let ticks = 0;
      pinger = setInterval(() => {
        if (ws !== sock) return;
        // A close started elsewhere (network, or someone calling close()) shows as CLOSING at
        // once, while its close event may wait for the server's answer: treat it as dropped now.
        if (sock.readyState === WebSocket.CLOSING || sock.readyState === WebSocket.CLOSED) {
          ws = null;
          stopPinger();
          scheduleReconnect();
          return;
        }
        if (++ticks % 20 !== 0) return; // every 10 s: ping, and check we still hear the server
        if (Date.now() - lastHeard > 25_000) {
          // Silent for too long: treat it as dropped.
          ws = null;
          stopPinger();
          try { sock.close(); } catch { /* already closed */ }
          scheduleReconnect();
          return;
        }
        try { sock.send("ping"); } catch { /* closing */ }
      }, 500);
    };
    sock.onmessage = (m) => {
      if (ws !== sock) return;
      lastHeard = Date.now();
      if (typeof m.data !== "string") return;
      const ev = parseFrame(m.data);
      if (!ev || !log.accept(ev.cursor)) return;
      dispatch(ev);
    };
    sock.onclose = () => {
      if (ws !== sock) return; // one we closed on purpose
      ws = null;
      stopPinger();
      if (!wanted) return;
      if (!opened) {
        connection.value = everOpened.value ? "reconnecting" : "connecting";
        void probe(since).finally(() => scheduleReconnect());
      } else {
        scheduleReconnect();
      }
    };
  } finally {
    connecting = false;
  }
}

function reconnectNow() {
  if (!wanted) return;
  if (ws && (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING)) return;
  attempt = 0;
  scheduleReconnect(true);
}

function onVisible() {
  if (document.visibilityState === "visible") reconnectNow();
}
function onOffline() {
  if (wanted && connection.value !== "open") connection.value = "offline";
}

/** Opens the socket (once per tab). */
/** Sends a frame on the socket if it is open (e.g. typing); `false` when it is not. */
export function sendFrame(frame: object): boolean {
  if (!ws || ws.readyState !== WebSocket.OPEN) return false;
  ws.send(JSON.stringify(frame));
  return true;
}

export function startLive() {
  if (wanted) return;
  wanted = true;
  window.addEventListener("online", reconnectNow);
  window.addEventListener("offline", onOffline);
  document.addEventListener("visibilitychange", onVisible);
  void connect();
}

/** Closes the socket on purpose (sign-out). */
export function stopLive() {
  wanted = false;
  if (timer) clearTimeout(timer);
  stopPinger();
  window.removeEventListener("online", reconnectNow);
  window.removeEventListener("offline", onOffline);
  document.removeEventListener("visibilitychange", onVisible);
  const s = ws;
  ws = null;
  if (s) try { s.close(1000); } catch { /* ignore */ }
  log.reset();
  everOpened.value = false;
  connection.value = "connecting";
}

// One socket per signed-in tab: open while there is a session, closed on sign-out.
effect(() => {
  const signedIn = !!session.value;
  setTimeout(() => (signedIn ? startLive() : stopLive()), 0);
});
