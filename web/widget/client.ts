// The widget's talk with the server: REST calls with the visitor token, and the visitor socket
// that reconnects with backoff and resumes with `since=<last seq>` so no frame is lost or doubled.
import { backoffDelay, socketUrl } from "./core";
import type { Frame, WidgetMessage } from "./store";

export interface Config {
  inboxId: string;
  name: string;
  greetingEnabled: boolean;
  greetingMessage: string | null;
  avatarUrl: string | null;
  widgetColor: string | null;
  welcomeTitle: string | null;
  welcomeTagline: string | null;
  openNow: boolean;
  identityRequired: boolean;
  emailCollect: boolean;
}

export interface Session {
  visitorToken: string;
  contactId: string;
  conversationId: string | null;
}

/** An error answer of the API, in the native shape. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field: string | null = null,
    readonly retryAfter: number | null = null,
  ) {
    super(message);
  }
}

export class Api {
  visitorToken: string | null = null;
  constructor(private readonly fetcher: typeof fetch = (...a) => fetch(...a)) {}

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { Accept: "application/json" };
    if (this.visitorToken) headers["X-Visitor-Token"] = this.visitorToken;
    let payload: BodyInit | undefined;
    if (body instanceof FormData) payload = body;
    else if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      payload = JSON.stringify(body);
    }
    const res = await this.fetcher(path, { method, headers, body: payload });
    if (res.status === 204) return undefined as T;
    const json = await res.json().catch(() => null);
    if (!res.ok) {
      const e = json?.error ?? {};
      const field = e.details?.field ?? null;
      const retry = Number(res.headers.get("Retry-After"));
      throw new ApiError(res.status, e.code ?? "error", e.message ?? `HTTP ${res.status}`, field, retry > 0 ? retry : null);
    }
    return json as T;
  }

  async config(websiteToken: string): Promise<Config> {
    return (await this.call<{ data: Config }>("GET", `/widget/config?websiteToken=${encodeURIComponent(websiteToken)}`)).data;
  }
  async session(body: Record<string, string>): Promise<Session> {
    const s = (await this.call<{ data: Session }>("POST", "/widget/sessions", body)).data;
    this.visitorToken = s.visitorToken;
    return s;
  }
  messages(before: string | null, limit = 50): Promise<{ data: WidgetMessage[]; hasMore: boolean }> {
    const q = before ? `before=${encodeURIComponent(before)}&limit=${limit}` : `limit=${limit}`;
    return this.call("GET", `/widget/messages?${q}`);
  }
  async send(clientId: string, text: string): Promise<WidgetMessage> {
    return (await this.call<{ data: WidgetMessage }>("POST", "/widget/messages", { clientId, text })).data;
  }
  async upload(clientId: string, file: File, caption: string | null): Promise<WidgetMessage> {
    const form = new FormData();
    form.append("clientId", clientId);
    if (caption) form.append("caption", caption);
    form.append("file", file, file.name);
    return (await this.call<{ data: WidgetMessage }>("POST", "/widget/messages/media", form)).data;
  }
  typing(typing: boolean): Promise<void> {
    return this.call("POST", "/widget/typing", { typing });
  }
  /** The visitor's answer to a satisfaction survey message. */
  rate(messageId: string, rating: number): Promise<unknown> {
    return this.call("POST", "/widget/csat", { messageId, rating });
  }
  offline(email: string, text: string): Promise<unknown> {
    return this.call("POST", "/widget/offline", { email, text });
  }
}

/** The part of WebSocket the visitor socket uses (a fake in tests). */
export interface SocketLike {
  readyState: number;
  onopen: (() => void) | null;
  onclose: (() => void) | null;
  onerror: (() => void) | null;
  onmessage: ((m: { data: unknown }) => void) | null;
  send(data: string): void;
  close(): void;
}

export interface SocketDeps {
  open: (url: string) => SocketLike;
  location: { protocol: string; host: string };
  setTimeout: (f: () => void, ms: number) => unknown;
  clearTimeout: (t: unknown) => void;
  random?: () => number;
}

/**
 * One visitor socket. `lastSeq` says where the next connection resumes; the owner feeds it the
 * seq of every frame it applied (the reducer's `seq`).
 */
export class VisitorSocket {
  private ws: SocketLike | null = null;
  private attempt = 0;
  private timer: unknown = null;
  private pinger: unknown = null;
  private stopped = true;
  connected = false;
  lastSeq: number | null = null;

  constructor(
    private readonly token: string,
    private readonly onFrame: (f: Frame) => void,
    private readonly onState: (connected: boolean) => void,
    private readonly deps: SocketDeps,
  ) {}

  start() {
    if (!this.stopped) return;
    this.stopped = false;
    this.connect();
  }

  stop() {
    this.stopped = true;
    this.deps.clearTimeout(this.timer);
    this.deps.clearTimeout(this.pinger);
    const ws = this.ws;
    this.ws = null;
    if (ws) {
      ws.onclose = null;
      ws.close();
    }
  }

  /** Sends a frame if the socket is open; `false` otherwise (the caller may fall back to REST). */
  send(frame: object): boolean {
    if (!this.ws || this.ws.readyState !== 1) return false;
    this.ws.send(JSON.stringify(frame));
    return true;
  }

  /** Reconnects now (the browser came back online or the tab became visible). */
  nudge() {
    if (this.stopped || this.connected) return;
    this.deps.clearTimeout(this.timer);
    this.attempt = 0;
    this.connect();
  }

  private connect() {
    if (this.stopped) return;
    const url = socketUrl(this.deps.location, this.token, this.lastSeq);
    const ws = this.deps.open(url);
    this.ws = ws;
    ws.onopen = () => {
      this.attempt = 0;
      this.connected = true;
      this.onState(true);
      this.ping();
    };
    ws.onmessage = (m) => {
      if (typeof m.data !== "string") return;
      let f: Frame;
      try {
        f = JSON.parse(m.data);
      } catch {
        return;
      }
      if (f && typeof f.type === "string") this.onFrame(f);
    };
    ws.onerror = () => {};
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.deps.clearTimeout(this.pinger);
      if (this.connected) this.onState(false);
      this.connected = false;
      if (this.stopped) return;
      const delay = backoffDelay(this.attempt++, this.deps.random);
      this.timer = this.deps.setTimeout(() => this.connect(), delay);
    };
  }

  private ping() {
    this.pinger = this.deps.setTimeout(() => {
      if (this.send({ type: "ping" })) this.ping();
    }, 25_000);
  }
}
