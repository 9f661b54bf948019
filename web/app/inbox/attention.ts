// Drawing the agent's attention: the unread count in the title, a short beep (WebAudio, no file)
// when a customer writes in one of my or the unassigned conversations while the tab is hidden
// (at most every 10 s, once the page was interacted with), and a browser notification when the
// agent allowed them (asked from a button, never on load).
import { effect, signal } from "@preact/signals";
import { attention, onInboxEvent, myId } from "./store";
import { titleFor, wantsAttention, contactName } from "./model";
import { navigate } from "../router";

let ctx: AudioContext | null = null;
let lastBeep = 0;
export const notifyPermission = signal<string>(typeof Notification === "undefined" ? "unsupported" : Notification.permission);

function unlock() {
  if (ctx) return;
  try {
    const AC = window.AudioContext || (window as any).webkitAudioContext;
    if (AC) ctx = new AC();
  } catch {
    ctx = null;
  }
}

export function beep() {
  if (!ctx) return;
  try {
    if (ctx.state === "suspended") void ctx.resume();
    const osc = ctx.createOscillator();
    const gain = ctx.createGain();
    osc.type = "sine";
    osc.frequency.value = 880;
    gain.gain.setValueAtTime(0.0001, ctx.currentTime);
    gain.gain.exponentialRampToValueAtTime(0.2, ctx.currentTime + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, ctx.currentTime + 0.35);
    osc.connect(gain).connect(ctx.destination);
    osc.start();
    osc.stop(ctx.currentTime + 0.4);
  } catch { /* no sound */ }
}

export async function askNotifications() {
  if (typeof Notification === "undefined") return;
  try {
    notifyPermission.value = await Notification.requestPermission();
  } catch {
    notifyPermission.value = Notification.permission;
  }
}

let started = false;
export function startAttention() {
  if (started) return;
  started = true;
  for (const ev of ["pointerdown", "keydown"]) window.addEventListener(ev, unlock, { once: false, passive: true });
  effect(() => {
    document.title = titleFor(attention.value);
  });
  onInboxEvent((ev, c) => {
    if (ev.event !== "message.created" || ev.data?.direction !== "inbound" || !c) return;
    if (!wantsAttention(c, myId.value)) return;
    if (document.visibilityState !== "hidden") return;
    const now = Date.now();
    if (now - lastBeep < 10_000) return;
    lastBeep = now;
    beep();
    if (typeof Notification !== "undefined" && Notification.permission === "granted") {
      try {
        const n = new Notification(contactName(c), { body: ev.data.text ?? "New message", tag: c.id });
        n.onclick = () => {
          window.focus();
          navigate(`/conversations/${c.id}`);
          n.close();
        };
      } catch { /* some browsers only allow notifications from a service worker */ }
    }
  });
}
