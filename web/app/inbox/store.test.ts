// The open thread's store against a fetch the test answers by hand: live events that arrive
// while the latest page loads are not lost under it, and a page asked for before the window
// was replaced is not glued onto the new one.
import { describe, it, expect, vi, beforeAll } from "vitest";

type Pending = { url: string; resolve: (body: unknown) => void };
const calls: Pending[] = [];
const store = new Map<string, string>();

beforeAll(() => {
  const target = { addEventListener: () => {}, removeEventListener: () => {} };
  vi.stubGlobal("window", { ...target, matchMedia: () => ({ matches: false, addEventListener() {}, removeEventListener() {} }) });
  vi.stubGlobal("document", { ...target, visibilityState: "hidden" });
  vi.stubGlobal("navigator", { onLine: true });
  vi.stubGlobal("location", { protocol: "http:", host: "app.test", pathname: "/", search: "" });
  vi.stubGlobal("history", { pushState() {}, replaceState() {} });
  vi.stubGlobal("localStorage", {
    getItem: (k: string) => store.get(k) ?? null,
    setItem: (k: string, v: string) => void store.set(k, v),
    removeItem: (k: string) => void store.delete(k),
  });
  vi.stubGlobal("WebSocket", class { static OPEN = 1; static CONNECTING = 0; readyState = 0; close() {} send() {} });
  vi.stubGlobal("fetch", vi.fn((url: string) => new Promise((res) => {
    calls.push({ url, resolve: (body) => res(new Response(JSON.stringify(body), { status: 200, headers: { "content-type": "application/json" } })) });
  })));
  store.set("cx.session", JSON.stringify({ accessToken: "tok", refreshToken: "r", expiresIn: 900, expiresAt: Date.now() + 3_600_000, user: { id: "me" }, organization: {} }));
});

const conv = { id: "c1", inboxId: "i", status: "OPEN", unreadCount: 0, seq: 1, awaitingReply: false, createdAt: "2026-01-01T00:00:00Z", updatedAt: "2026-01-01T00:00:00Z" };
const m = (id: string, p: Record<string, unknown> = {}) => ({
  id, conversationId: "c1", direction: "outbound", type: "text", text: id, status: "sent", createdAt: `2026-01-01T10:00:${id}Z`, updatedAt: `2026-01-01T10:00:${id}Z`, ...p,
});
const tick = () => new Promise((r) => setTimeout(r, 0));
async function answer(match: string, body: unknown) {
  for (let i = 0; i < 20 && !calls.some((c) => c.url.includes(match)); i++) await tick();
  const i = calls.findIndex((c) => c.url.includes(match));
  if (i < 0) throw new Error("no request to " + match + "; have " + calls.map((c) => c.url).join(", "));
  calls.splice(i, 1)[0].resolve(body);
  for (let k = 0; k < 5; k++) await tick();
}

describe("thread store", () => {
  it("keeps events that arrive while the latest page loads, and drops stale pages", async () => {
    const s = await import("./store");
    s.absorb(conv as any);
    void s.openThread("c1");
    // While the first page is on its way: message 03 is stored and 02 is delivered.
    for (let i = 0; i < 5; i++) await tick();
    s.replaceMessage(m("03") as any);
    s.changeMessage(m("02", { status: "delivered", updatedAt: "2026-01-01T10:00:09Z" }) as any);
    // An update for a message far back in the history must not appear in the thread.
    s.changeMessage(m("00", { status: "read" }) as any);
    await answer("/conversations/c1/messages", { data: [m("01"), m("02")], nextCursor: "older1", prevCursor: null });
    let t = s.thread.value!;
    const ids = t.chunks.flatMap((c) => c.messages.map((x) => x.id));
    expect(ids).toEqual(["01", "02", "03"]);
    expect(t.chunks[0].messages[1].status).toBe("delivered");

    // An older page is asked for, then the window is reloaded (jump / resync) before it answers.
    void s.loadOlder();
    await tick();
    s.jumpToLatest(); // at latest: only scrolls
    s.refetchAll();
    await answer("cursor=older1", { data: [m("50"), m("51")], nextCursor: null, prevCursor: "x" });
    await answer("/conversations/c1/messages?limit=50", { data: [m("01"), m("02"), m("03"), m("04")], nextCursor: "older2", prevCursor: null });
    t = s.thread.value!;
    expect(t.chunks).toHaveLength(1);
    expect(t.chunks[0].messages.map((x) => x.id)).toEqual(["01", "02", "03", "04"]);
    expect(t.loading).toBe(null);
  });

  it("does not hold every conversation of the organization forever", async () => {
    const s = await import("./store");
    expect(s.thread.value?.id).toBe("c1");
    await answer("/conversations?", { data: [], nextCursor: null, prevCursor: null }); // the list load refetchAll began
    for (let i = 0; i < s.CONVS_MAX + 500; i++) {
      s.absorb({ ...conv, id: `x${i}`, assignedTo: "someone-else", seq: 1 } as any);
    }
    expect(s.convs.size).toBeLessThanOrEqual(s.CONVS_MAX);
    expect(s.convs.has("c1")).toBe(true); // the open one stays
    expect(s.convs.has(`x${s.CONVS_MAX + 499}`)).toBe(true); // the newest stay
    expect(s.convs.has("x0")).toBe(false);
  });
});

describe("visitor typing", () => {
  it("shows while fresh and stops by itself", async () => {
    const s = await import("./store");
    const now = 1_000_000;
    const typing = new Map([["c1", now + 6000]]);
    expect(s.isVisitorTyping(typing, "c1", now)).toBe(true);
    expect(s.isVisitorTyping(typing, "c1", now + 6001)).toBe(false);
    expect(s.isVisitorTyping(typing, "c2", now)).toBe(false);
  });
});
