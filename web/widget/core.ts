// Pure pieces of the widget: the origin check of postMessage, the visitor token kept per website
// token, reconnect delays, frame parsing and URLs. No DOM, no globals: unit-tested in node.
import type { Identity } from "./protocol";

/** The localStorage key of a website's visitor token. */
export const tokenKey = (websiteToken: string) => `cx-widget:${websiteToken}`;

/** The part of `Storage` the token store needs (a fake in tests; private mode may throw). */
export interface KeyValue {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

/** The visitor token of one website token, kept so a reload or a new tab continues the chat. */
export class TokenStore {
  constructor(
    private readonly storage: KeyValue | null,
    private readonly websiteToken: string,
  ) {}
  get(): string | null {
    try {
      return this.storage?.getItem(tokenKey(this.websiteToken)) || null;
    } catch {
      return null;
    }
  }
  set(visitorToken: string) {
    try {
      this.storage?.setItem(tokenKey(this.websiteToken), visitorToken);
    } catch {
      // Storage full or refused (private mode): the chat still works for this page view.
    }
  }
  clear() {
    try {
      this.storage?.removeItem(tokenKey(this.websiteToken));
    } catch {
      // As above.
    }
  }
}

/**
 * `true` when a postMessage event comes from the expected window at exactly the expected origin.
 * `expected` is an origin (`scheme://host[:port]`), never `*`: a wildcard or an empty expectation
 * accepts nothing.
 */
export function trustedMessage(
  event: { origin: string; source: unknown; data: unknown },
  expected: string | null,
  from: unknown,
): boolean {
  if (!expected || expected === "*" || expected === "null") return false;
  if (event.origin !== expected) return false;
  if (from != null && event.source !== from) return false;
  const d = event.data as { cx?: unknown } | null;
  return !!d && typeof d === "object" && typeof d.cx === "string";
}

/** The origin of a URL, or `null` when it is not an http(s) URL. */
export function originOf(url: string | null | undefined): string | null {
  if (!url) return null;
  try {
    const u = new URL(url);
    return u.protocol === "http:" || u.protocol === "https:" ? u.origin : null;
  } catch {
    return null;
  }
}

/**
 * The page that embeds the iframe: the `origin` parameter the loader put in the iframe's URL (or,
 * without it, the referrer's origin), trusted only when the browser's own ancestor list (where it
 * has one) agrees.
 */
export function parentOrigin(param: string | null, ancestors: ArrayLike<string> | undefined, referrer = ""): string | null {
  const claimed = originOf(param) ?? originOf(referrer);
  if (!claimed) return null;
  if (ancestors && ancestors.length > 0 && ancestors[0] !== claimed) return null;
  return claimed;
}

/** The delay before reconnect attempt `attempt` (0-based): 0.5 s doubling to 15 s, ±20 % jitter. */
export function backoffDelay(attempt: number, random: () => number = Math.random): number {
  const base = Math.min(15_000, 500 * 2 ** Math.max(0, Math.min(attempt, 10)));
  return Math.round(Math.min(15_000, Math.max(250, base * (0.8 + 0.4 * random()))));
}

/** The visitor socket's URL; `since` resumes after the last frame seen. */
export function socketUrl(loc: { protocol: string; host: string }, visitorToken: string, since: number | null): string {
  const proto = loc.protocol === "https:" ? "wss:" : "ws:";
  let url = `${proto}//${loc.host}/widget/ws?visitorToken=${encodeURIComponent(visitorToken)}`;
  if (since != null) url += `&since=${since}`;
  return url;
}

/** The body of `POST /widget/sessions`: the stored token and the site's identity, if any. */
export function sessionBody(websiteToken: string, visitorToken: string | null, identity: Identity | null) {
  const body: Record<string, string> = { websiteToken };
  if (visitorToken) body.visitorToken = visitorToken;
  for (const k of ["identifier", "identifierHash", "name", "email"] as const) {
    const v = identity?.[k];
    if (typeof v === "string" && v.trim()) body[k] = v.trim();
  }
  return body;
}

/** A fresh client id for an outgoing message (the server makes a resend idempotent by it). */
export function clientId(random: () => number = Math.random): string {
  const c = (globalThis as { crypto?: { randomUUID?: () => string } }).crypto;
  if (c?.randomUUID) return c.randomUUID();
  return `c-${Date.now().toString(36)}-${Math.floor(random() * 1e12).toString(36)}`;
}

/**
 * The URL the iframe can load a message's file from: the server's `/widget/media/{id}` needs the
 * visitor token, and an <img> or a link cannot send a header, so it goes in the query.
 */
export function mediaUrl(url: string, visitorToken: string | null): string {
  if (!url || !visitorToken || !url.startsWith("/widget/media/") || /[?&]visitorToken=/.test(url)) return url;
  return `${url}${url.includes("?") ? "&" : "?"}visitorToken=${encodeURIComponent(visitorToken)}`;
}
