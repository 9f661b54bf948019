// The iframe app at /widget?websiteToken=…&origin=<the page's origin>. Embedded, it waits for the
// loader's `init` (the site's identity) and speaks only to that exact origin; opened on its own it
// is simply the chat window.
import { render } from "preact";
import { Api, type SocketLike } from "./client";
import { Controller } from "./controller";
import { TokenStore, parentOrigin, trustedMessage } from "./core";
import type { ToFrame, ToPage } from "./protocol";
import { App, openState } from "./App";
import "./widget.css";

const params = new URLSearchParams(location.search);
const websiteToken = params.get("websiteToken") ?? "";
const embedded = window.parent !== window;
const page = embedded ? parentOrigin(params.get("origin"), location.ancestorOrigins, document.referrer) : null;

function toPage(m: ToPage) {
  if (page) window.parent.postMessage(m, page);
}

let storage: Storage | null = null;
try {
  storage = window.localStorage;
} catch {
  // Third-party storage blocked: the chat lasts for this page view.
}

let audio: AudioContext | null = null;
function ring() {
  try {
    audio ??= new AudioContext();
    const o = audio.createOscillator();
    const g = audio.createGain();
    o.frequency.value = 880;
    g.gain.setValueAtTime(0.08, audio.currentTime);
    g.gain.exponentialRampToValueAtTime(0.0001, audio.currentTime + 0.35);
    o.connect(g).connect(audio.destination);
    o.start();
    o.stop(audio.currentTime + 0.35);
    document.documentElement.dataset.rang = String(Number(document.documentElement.dataset.rang ?? 0) + 1);
  } catch {
    // No audio (autoplay refused): the badge still counts.
  }
}

const controller = new Controller(
  websiteToken,
  new Api(),
  new TokenStore(storage, websiteToken),
  {
    open: (url) => new WebSocket(url) as unknown as SocketLike,
    location,
    setTimeout: (f, ms) => setTimeout(f, ms),
    clearTimeout: (t) => clearTimeout(t as ReturnType<typeof setTimeout>),
  },
  { toPage, ring },
);

const visible = () => document.visibilityState === "visible";
const seen = () => controller.setSeen(openState.value, visible());
document.addEventListener("visibilitychange", () => {
  seen();
  if (visible()) controller.nudge();
});
addEventListener("online", () => controller.nudge());

if (page) {
  let started = false;
  addEventListener("message", (e) => {
    if (!trustedMessage(e, page, window.parent)) return;
    const m = e.data as ToFrame;
    if (m.cx === "init" && !started) {
      started = true;
      openState.value = m.open;
      seen();
      void controller.start(m.identity);
    } else if (m.cx === "open" || m.cx === "close") {
      openState.value = m.cx === "open";
      seen();
    }
  });
  toPage({ cx: "ready" });
} else {
  openState.value = true;
  seen();
  void controller.start(null);
}

render(<App controller={controller} embedded={!!page} onClose={() => toPage({ cx: "close" })} />, document.getElementById("widget")!);
