// A tab that is not the leader (another tab holds the leader lock): it never refreshes on
// schedule, and when it must refresh out of turn it first waits for the leader's new tokens,
// because localStorage may show it the old ones for a moment after the leader stored new ones.
import { describe, it, expect, vi, beforeAll, beforeEach } from "vitest";
import { fakeLocks, fakeTab, sessionOf } from "./auth.fakes";

const store = new Map<string, string>();
const calls: string[] = [];

// The leader lock is another tab's for good.
const locks = fakeLocks(["cx.session.leader"]);

beforeAll(() => {
  fakeTab(store, locks);
  vi.stubGlobal(
    "fetch",
    vi.fn(async (_url: string, init: { body: string }) => {
      const r = JSON.parse(init.body).refreshToken as string;
      calls.push(r);
      return new Response(JSON.stringify({ data: sessionOf(r + "+") }), { status: 200 });
    }),
  );
});

beforeEach(() => {
  calls.length = 0;
});

describe("a follower tab", () => {
  it("does not refresh on schedule", async () => {
    const auth = await import("./auth");
    auth.signedIn(sessionOf("f1"));
    await vi.advanceTimersByTimeAsync(900_000);
    expect(calls).toHaveLength(0);
  });

  it("waits for the leader's new tokens before spending its own", async () => {
    const auth = await import("./auth");
    auth.signedIn(sessionOf("g1"));
    const mine = auth.refreshSession();
    await vi.advanceTimersByTimeAsync(1_000);
    // The leader's refresh reaches this tab's storage a second later.
    store.set("cx.session", JSON.stringify({ ...sessionOf("g2"), expiresAt: Date.now() + 900_000 }));
    await vi.advanceTimersByTimeAsync(500);
    expect(await mine).toBe(true);
    expect(calls).toHaveLength(0);
    expect(auth.session.value?.refreshToken).toBe("g2");
  });

  it("refreshes itself when no new tokens come", async () => {
    const auth = await import("./auth");
    auth.signedIn(sessionOf("h1"));
    const mine = auth.refreshSession();
    await vi.advanceTimersByTimeAsync(3_500);
    expect(await mine).toBe(true);
    expect(calls).toEqual(["h1"]);
    expect(auth.session.value?.refreshToken).toBe("h1+");
  });
});
