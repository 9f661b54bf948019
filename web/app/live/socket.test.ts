// The live store against a fake WebSocket and a fake fetch: reconnect after any close it did
// not ask for, resume with the last cursor, never apply an event twice, refetch when the
// server refuses the resume.
import { describe, it, expect, vi, beforeAll } from "vitest";

class FakeSocket {
  static all: FakeSocket[] = [];
  static OPEN = 1;
  static CONNECTING = 0;
  static CLOSING = 2;
  static CLOSED = 3;
  readyState = 0;
  sent: string[] = [];
  onopen: (() => void) | null = null;
  onclose: (() => void) | null = null;
  onmessage: ((m: { data: string }) => void) | null = null;
  onerror: (() => void) | null = null;
  constructor(readonly url: string) {
    FakeSocket.all.push(this);
  }
  send(s: string) { this.sent.push(s); }
  close() {
    if (this.readyState === 3) return;
    this.readyState = 2;
    setTimeout(() => { this.readyState = 3; this.onclose?.(); }, 5);
  }
  // test helpers
  open() { this.readyState = 1; this.onopen?.(); }
  emit(ev: object) { this.onmessage?.({ data: JSON.stringify(ev) }); }
  refuse() { this.readyState = 3; this.onclose?.(); }
}

const store = new Map<string, string>();
let fetchAnswer: () => Response = () => new Response("{}", { status: 400 });
const listeners: Record<string, (() => void)[]> = {};

beforeAll(() => {
  vi.useFakeTimers();
  const target = { addEventListener: (n: string, f: () => void) => (listeners[n] ??= []).push(f), removeEventListener: () => {} };
  vi.stubGlobal("window", target);
  vi.stubGlobal("document", { ...target, visibilityState: "visible" });
  vi.stubGlobal("navigator", { onLine: true });
  vi.stubGlobal("location", { protocol: "http:", host: "app.test", pathname: "/" });
  vi.stubGlobal("localStorage", {
    getItem: (k: string) => store.get(k) ?? null,
    setItem: (k: string, v: string) => void store.set(k, v),
    removeItem: (k: string) => void store.delete(k),
  });
  vi.stubGlobal("WebSocket", FakeSocket);
  vi.stubGlobal("fetch", vi.fn(async () => fetchAnswer()));
  store.set("cx.session", JSON.stringify({ accessToken: "tok", refreshToken: "r", expiresIn: 900, expiresAt: Date.now() + 3_600_000, user: { id: "u1" }, organization: {} }));
});

describe("live socket", () => {
  it("connects, reconnects with since, dedupes, and resyncs when refused", async () => {
    const live = await import("./socket");
    const seen: string[] = [];
    let resyncs = 0;
    live.subscribe((e) => seen.push(e.cursor!));
    live.onResync(() => resyncs++);
    await vi.advanceTimersByTimeAsync(1);
    expect(FakeSocket.all).toHaveLength(1);
    const a = FakeSocket.all[0];
    expect(a.url).toBe("ws://app.test/api/v1/ws?token=tok");
    a.open();
    expect(live.connection.value).toBe("open");
    a.emit({ event: "message.created", cursor: "ev1.1", data: {} });
    a.emit({ event: "message.created", cursor: "ev1.2", data: {} });
    a.emit({ event: "message.created", cursor: "ev1.1", data: {} });
    expect(seen).toEqual(["ev1.1", "ev1.2"]);

    // Someone closes the socket from outside: it reconnects, resuming after ev1.2.
    a.close();
    await vi.advanceTimersByTimeAsync(600);
    expect(live.connection.value).toBe("reconnecting");
    await vi.advanceTimersByTimeAsync(1000);
    expect(FakeSocket.all).toHaveLength(2);
    const b = FakeSocket.all[1];
    expect(b.url).toBe("ws://app.test/api/v1/ws?token=tok&since=ev1.2");
    b.open();
    expect(live.connection.value).toBe("open");
    b.emit({ event: "message.created", cursor: "ev1.2", data: {} }); // replayed: skipped
    b.emit({ event: "message.created", cursor: "ev1.3", data: {} });
    expect(seen).toEqual(["ev1.1", "ev1.2", "ev1.3"]);
    expect(resyncs).toBe(0);

    // The server drops it and refuses the resume (400 on `since`): start fresh and refetch.
    fetchAnswer = () => new Response(JSON.stringify({ error: { code: "validation_error", message: "since", details: { field: "since" } } }), { status: 400 });
    b.refuse();
    await vi.advanceTimersByTimeAsync(1600);
    const c = FakeSocket.all[2];
    expect(c.url).toContain("since=ev1.3");
    c.refuse(); // refused before the upgrade
    await vi.advanceTimersByTimeAsync(1600);
    const d = FakeSocket.all[3];
    expect(d.url).toBe("ws://app.test/api/v1/ws?token=tok");
    d.open();
    expect(resyncs).toBe(1);
    expect(live.connection.value).toBe("open");

    // A server that is away: backoff grows but never passes 15 s.
    fetchAnswer = () => { throw new TypeError("network"); };
    const before = FakeSocket.all.length;
    d.refuse();
    for (let i = 0; i < 6; i++) {
      await vi.advanceTimersByTimeAsync(15_001);
      FakeSocket.all.at(-1)!.refuse();
    }
    expect(FakeSocket.all.length - before).toBeGreaterThanOrEqual(6);

    // Back online: reconnects at once.
    await vi.advanceTimersByTimeAsync(1);
    const n = FakeSocket.all.length;
    listeners.online?.forEach((f) => f());
    await vi.advanceTimersByTimeAsync(1);
    expect(FakeSocket.all.length).toBe(n + 1);
    FakeSocket.all.at(-1)!.open();
    expect(live.connection.value).toBe("open");

    // Signing out closes it for good.
    live.stopLive();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(FakeSocket.all.length).toBe(n + 1);
  });
});
