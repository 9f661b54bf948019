// widget.js: the one script a site embeds. It draws the bubble and nothing else until the visitor
// touches the bubble or 5 s have passed; then it adds the iframe app from the script's own origin.
// It talks to the iframe only with postMessage at that exact origin and ignores every message
// that is not from that iframe at that origin. Safe in <head> (waits for <body>) and loaded twice.
import { trustedMessage } from "./core";
import type { Identity, ToFrame, ToPage } from "./protocol";

declare global {
  interface Window {
    cxWidget?: Identity;
    __cxWidgetLoaded?: boolean;
  }
}

const LAZY_MS = 5000;

(() => {
  const script = (document.currentScript ||
    document.querySelector("script[data-token][src*='widget.js']")) as HTMLScriptElement | null;
  const token = script?.dataset.token;
  if (!script || !token || window.__cxWidgetLoaded) return;
  window.__cxWidgetLoaded = true;
  const origin = new URL(script.src, location.href).origin;

  let frame: HTMLIFrameElement | null = null;
  let ready = false;
  let open = false;
  let openOnReady = false;
  let color = "#256bd1";

  const el = <K extends keyof HTMLElementTagNameMap>(tag: K, css: string) => {
    const e = document.createElement(tag);
    e.style.cssText = css;
    return e;
  };
  const root = el("div", "position:fixed;right:20px;bottom:20px;z-index:2147483000;font:13px system-ui,sans-serif");
  root.setAttribute("data-cx-widget", "");
  const bubble = el(
    "button",
    "width:56px;height:56px;border-radius:50%;border:0;cursor:pointer;color:#fff;box-shadow:0 4px 14px rgba(0,0,0,.25);position:relative;padding:0",
  );
  bubble.type = "button";
  bubble.setAttribute("aria-label", "Open chat");
  bubble.setAttribute("data-cx", "bubble");
  const icon =
    '<svg width="28" height="28" viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" aria-hidden="true"><path d="M21 12a8 8 0 0 1-11.6 7.1L4 20l1-4.6A8 8 0 1 1 21 12z"/></svg>';
  const cross =
    '<svg width="24" height="24" viewBox="0 0 24 24" stroke="currentColor" stroke-width="2.5" aria-hidden="true"><path d="M6 6l12 12M18 6L6 18"/></svg>';
  const badge = el(
    "span",
    "position:absolute;top:-4px;right:-4px;min-width:20px;height:20px;padding:0 5px;box-sizing:border-box;border-radius:10px;background:#d93025;color:#fff;font-weight:600;line-height:20px;text-align:center;display:none",
  );
  badge.setAttribute("data-cx", "badge");

  const paint = () => {
    bubble.style.background = color;
    bubble.innerHTML = open ? cross : icon;
    bubble.appendChild(badge);
    bubble.setAttribute("aria-expanded", String(open));
  };

  const post = (m: ToFrame) => {
    if (frame?.contentWindow && ready) frame.contentWindow.postMessage(m, origin);
  };

  const load = () => {
    if (frame) return;
    frame = el(
      "iframe",
      "position:absolute;right:0;bottom:72px;width:min(380px,calc(100vw - 40px));height:min(600px,calc(100vh - 110px));border:0;border-radius:12px;box-shadow:0 8px 30px rgba(0,0,0,.25);background:#fff;display:none",
    );
    frame.title = "Chat";
    frame.setAttribute("data-cx", "frame");
    frame.allow = "autoplay";
    frame.src = `${origin}/widget?websiteToken=${encodeURIComponent(token)}&origin=${encodeURIComponent(location.origin)}`;
    root.insertBefore(frame, bubble);
  };

  const show = (on: boolean) => {
    open = on;
    if (frame) frame.style.display = on ? "block" : "none";
    paint();
    post({ cx: on ? "open" : "close" });
  };

  addEventListener("message", (e) => {
    if (!frame || !trustedMessage(e, origin, frame.contentWindow)) return;
    const m = e.data as ToPage;
    if (m.cx === "ready") {
      ready = true;
      post({ cx: "init", identity: window.cxWidget ?? null, open: openOnReady });
      if (openOnReady) show(true);
    } else if (m.cx === "unread") {
      badge.textContent = m.count > 9 ? "9+" : String(m.count);
      badge.style.display = m.count > 0 && !open ? "block" : "none";
    } else if (m.cx === "color" && /^#[0-9a-f]{3,8}$/i.test(m.color)) {
      color = m.color;
      paint();
    } else if (m.cx === "close") {
      show(false);
    }
  });

  const touch = () => load();
  bubble.addEventListener("pointerenter", touch, { once: true });
  bubble.addEventListener("focus", touch, { once: true });
  bubble.addEventListener("click", () => {
    load();
    if (!ready) {
      openOnReady = !openOnReady;
      return;
    }
    badge.style.display = "none";
    show(!open);
  });

  const mount = () => {
    paint();
    root.appendChild(bubble);
    document.body.appendChild(root);
    setTimeout(load, LAZY_MS);
  };
  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount);
})();
