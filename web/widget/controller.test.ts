// The visitor socket and the controller against a fake WebSocket and a fake fetch: resume with
// `since` after a drop, the visitor token stored per website token and reused, a stale token
// replaced, identity refusal, acks over the socket.
import { describe, it, expect, beforeEach } from "vitest";
import { Api, VisitorSocket, type SocketDeps, type SocketLike } from "./client";
import { Controller } from "./controller";
import { TokenStore, type KeyValue } from "./core";
import type { Frame } from "./store";

class FakeSocket implements SocketLike {
  readyState = 0;
  sent: string[] = [];
  onopen: (() => void) | null = null;
  onclose: (() => void) | null = null;
  onerror: (() => void) | null = null;
  onmessage: ((m: { data: unknown }) => void) | null = null;
  constructor(readonly url: string) {}
  send(s: string) { this.sent.push(s); }
  close() { this.readyState = 3; }
  open() { this.readyState = 1; this.onopen?.(); }
  emit(f: object) { this.onmessage?.({ data: JSON.stringify(f) }); }
  drop() { this.readyState = 3; this.onclose?.(); }
}

function deps() {
  const sockets: FakeSocket[] = [];
  const timers: (() => void)[] = [];
  const d: SocketDeps = {
    open: (url) => { const s = new FakeSocket(url); sockets.push(s); return s; },
    location: { protocol: "http:", host: "chat.test" },
    setTimeout: (f) => { timers.push(f); return timers.length; },
    clearTimeout: () => {},
    random: () => 0.5,
  };
  return { d, sockets, fireTimers: () => timers.splice(0).forEach((f) => f()) };
}

const msg = (id: string, seq: number): Frame => ({
  type: "message", seq,
  message: { id, clientId: null, direction: "outbound", type: "text", text: id, attachment: null, sender: { name: "Alex", avatarUrl: null }, status: "sent", createdAt: `2026-12-07T10:00:0${seq}Z` },
});

describe("VisitorSocket", () => {
  it("reconnects after a drop and resumes after the last seq applied", () => {
    const { d, sockets, fireTimers } = deps();
    const frames: Frame[] = [];
    const socket: VisitorSocket = new VisitorSocket("vt", (f) => { frames.push(f); if ("seq" in f && typeof f.seq === "number") socket.lastSeq = f.seq; }, () => {}, d);
    socket.start();
    expect(sockets[0].url).toBe("ws://chat.test/widget/ws?visitorToken=vt");
    sockets[0].open();
    sockets[0].emit({ type: "ready", seq: 4 });
    sockets[0].emit(msg("a", 5));
    sockets[0].drop();
    expect(sockets).toHaveLength(1);
    fireTimers();
    expect(sockets[1].url).toBe("ws://chat.test/widget/ws?visitorToken=vt&since=5");
    sockets[1].open();
    expect(socket.send({ type: "typing", typing: true })).toBe(true);
    expect(sockets[1].sent).toContain('{"type":"typing","typing":true}');
    socket.stop();
    sockets[1].drop();
    fireTimers();
    expect(sockets).toHaveLength(2);
  });
});

class Memory implements KeyValue {
  map = new Map<string, string>();
  getItem(k: string) { return this.map.get(k) ?? null; }
  setItem(k: string, v: string) { this.map.set(k, v); }
  removeItem(k: string) { this.map.delete(k); }
}

const config = { inboxId: "i", name: "Shop", greetingEnabled: false, greetingMessage: null, avatarUrl: null, widgetColor: "#112233", welcomeTitle: "Hi", welcomeTagline: null, openNow: true, identityRequired: false, emailCollect: false };

function server(over: Partial<Record<string, (body: any) => [number, unknown]>> = {}) {
  const calls: { method: string; path: string; body: any; token: string | null }[] = [];
  const fetcher = (async (path: string, init: RequestInit) => {
    const body = typeof init.body === "string" ? JSON.parse(init.body) : init.body;
    const token = (init.headers as Record<string, string>)["X-Visitor-Token"] ?? null;
    const key = `${init.method} ${path.split("?")[0]}`;
    calls.push({ method: init.method!, path, body, token });
    const handler = over[key] ?? defaults[key];
    const [status, json] = handler ? handler(body) : [404, { error: { code: "not_found", message: "no" } }];
    return new Response(status === 204 ? null : JSON.stringify(json), { status });
  }) as unknown as typeof fetch;
  return { calls, fetcher };
}
const defaults: Record<string, (body: any) => [number, unknown]> = {
  "GET /widget/config": () => [200, { data: config }],
  "POST /widget/sessions": (b) => [200, { data: { visitorToken: b.visitorToken ?? "vt-new", contactId: "c", conversationId: b.visitorToken ? "conv" : null } }],
  "GET /widget/messages": () => [200, { data: [], hasMore: false }],
  "POST /widget/messages": (b) => [201, { data: { id: "m1", clientId: b.clientId, direction: "inbound", type: "text", text: b.text, attachment: null, sender: null, status: "sent", createdAt: "2026-12-07T10:00:00Z" } }],
};

function controller(mem: Memory, fetcher: typeof fetch, site = "site-a") {
  const { d, sockets } = deps();
  const page: unknown[] = [];
  const c = new Controller(site, new Api(fetcher), new TokenStore(mem, site), d, { toPage: (m) => page.push(m), ring: () => page.push("ring") });
  return { c, sockets, page };
}

describe("Controller", () => {
  let mem: Memory;
  beforeEach(() => { mem = new Memory(); });

  it("creates no session for a first-time visitor until they write, then keeps the token per website", async () => {
    const { calls, fetcher } = server();
    const { c, sockets, page } = controller(mem, fetcher);
    await c.start(null);
    expect(calls.map((x) => `${x.method} ${x.path.split("?")[0]}`)).toEqual(["GET /widget/config"]);
    expect(page).toContainEqual({ cx: "color", color: "#112233" });
    await c.send("Hello");
    expect(mem.getItem("cx-widget:site-a")).toBe("vt-new");
    expect(mem.getItem("cx-widget:site-b")).toBe(null);
    const send = calls.find((x) => x.method === "POST" && x.path === "/widget/messages")!;
    expect(send.token).toBe("vt-new");
    expect(send.body.text).toBe("Hello");
    expect(c.view.chat.messages.map((m) => [m.id, m.status])).toEqual([["m1", "sent"]]);
    expect(sockets[0].url).toContain("visitorToken=vt-new");
  });

  it("answers a satisfaction survey with the visitor's token and surfaces a refusal", async () => {
    mem.setItem("cx-widget:site-a", "vt-old");
    const { calls, fetcher } = server({
      "POST /widget/csat": (b) => (b.rating === 0 ? [400, { error: { code: "validation_error", message: "rating is 1 to 5", details: { field: "rating" } } }] : [200, { data: { rating: b.rating } }]),
    });
    const { c } = controller(mem, fetcher);
    await c.start(null);
    await c.rate("survey-1", 4);
    const rate = calls.find((x) => x.path === "/widget/csat")!;
    expect([rate.method, rate.token, rate.body]).toEqual(["POST", "vt-old", { messageId: "survey-1", rating: 4 }]);
    await expect(c.rate("survey-1", 0)).rejects.toThrow("rating is 1 to 5");
  });

  it("a returning visitor resumes with the stored token and loads the history", async () => {
    mem.setItem("cx-widget:site-a", "vt-old");
    const { calls, fetcher } = server();
    const { c } = controller(mem, fetcher);
    await c.start(null);
    const session = calls.find((x) => x.path === "/widget/sessions")!;
    expect(session.body).toEqual({ websiteToken: "site-a", visitorToken: "vt-old" });
    expect(calls.some((x) => x.path.startsWith("/widget/messages?"))).toBe(true);
  });

  it("replaces a token the server refuses", async () => {
    mem.setItem("cx-widget:site-a", "vt-stale");
    const { calls, fetcher } = server({
      "POST /widget/sessions": (b) => (b.visitorToken ? [401, { error: { code: "invalid_visitor_token", message: "no" } }] : [200, { data: { visitorToken: "vt-fresh", contactId: "c", conversationId: null } }]),
    });
    const { c } = controller(mem, fetcher);
    await c.start(null);
    expect(calls.filter((x) => x.path === "/widget/sessions")).toHaveLength(2);
    expect(mem.getItem("cx-widget:site-a")).toBe("vt-fresh");
  });

  it("sends the site's identity and shows a refusal without a session", async () => {
    const { calls, fetcher } = server({ "POST /widget/sessions": () => [401, { error: { code: "identity_verification_failed", message: "no" } }] });
    const { c, sockets } = controller(mem, fetcher);
    await c.start({ identifier: "user-1", identifierHash: "bad" });
    expect(calls.find((x) => x.path === "/widget/sessions")!.body).toMatchObject({ identifier: "user-1", identifierHash: "bad" });
    expect(c.view.phase).toBe("identity-refused");
    expect(sockets).toHaveLength(0);
    expect(mem.getItem("cx-widget:site-a")).toBe(null);
  });

  it("asks for identity when the inbox requires it and the site gave none", async () => {
    const { calls, fetcher } = server({ "GET /widget/config": () => [200, { data: { ...config, identityRequired: true } }] });
    const { c } = controller(mem, fetcher);
    await c.start(null);
    expect(c.view.phase).toBe("identity-required");
    expect(calls).toHaveLength(1);
  });

  it("acks agent messages delivered while closed and read once opened, and reports unread", async () => {
    mem.setItem("cx-widget:site-a", "vt-old");
    const { fetcher } = server();
    const { c, sockets, page } = controller(mem, fetcher);
    await c.start(null);
    sockets[0].open();
    sockets[0].emit({ type: "ready", seq: 1 });
    sockets[0].emit(msg("a1", 2));
    expect(sockets[0].sent).toContain('{"type":"ack","ids":["a1"],"status":"delivered"}');
    expect(page).toContain("ring");
    expect(page).toContainEqual({ cx: "unread", count: 1 });
    c.setSeen(true, true);
    expect(sockets[0].sent).toContain('{"type":"ack","ids":["a1"],"status":"read"}');
    expect(page[page.length - 1]).toEqual({ cx: "unread", count: 0 });
  });
});
