// The session of the leader tab against a fake fetch, a fake localStorage and a fake Web Locks
// API: refreshed a minute before the access token expires, never spent twice by two tabs of one
// browser (the server revokes the whole sign-in when a spent refresh token comes back), ended
// when refused. (auth.follower.test.ts: a tab that is not the leader.)
import { describe, it, expect, vi, beforeAll, beforeEach } from "vitest";
import { fakeLocks, fakeTab, sessionOf } from "./auth.fakes";

const store = new Map<string, string>();
const calls: { url: string; body: { refreshToken?: string } }[] = [];
let answer: (refreshToken: string) => Response;

const locks = fakeLocks();

beforeAll(() => {
  fakeTab(store, locks);
  vi.stubGlobal(
    "fetch",
    vi.fn(async (url: string, init: { body: string }) => {
      const body = JSON.parse(init.body);
      calls.push({ url, body });
      return answer(body.refreshToken);
    }),
  );
});

beforeEach(() => {
  calls.length = 0;
  answer = (r) => new Response(JSON.stringify({ data: sessionOf(r + "+") }), { status: 200 });
});

describe("session", () => {
  it("refreshes a minute before the access token expires", async () => {
    const auth = await import("./auth");
    auth.signedIn(sessionOf("r1"));
    await vi.advanceTimersByTimeAsync(839_000);
    expect(calls).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(2_000);
    expect(calls).toEqual([{ url: "/api/v1/auth/refresh", body: { refreshToken: "r1" } }]);
    expect(auth.session.value?.refreshToken).toBe("r1+");
    expect(JSON.parse(store.get("cx.session")!).refreshToken).toBe("r1+");

    // The next one is scheduled from the new token's lifetime.
    await vi.advanceTimersByTimeAsync(841_000);
    expect(calls.map((c) => c.body.refreshToken)).toEqual(["r1", "r1+"]);
    expect(auth.session.value?.refreshToken).toBe("r1++");
  });

  it("takes the session another tab refreshed while it waited, instead of spending the token again", async () => {
    const auth = await import("./auth");
    auth.signedIn(sessionOf("t1"));
    // The other tab holds the lock and refreshes t1 into t2 meanwhile.
    let release!: () => void;
    await new Promise<void>((held) => {
      void locks.request("cx.session.refresh", () => new Promise<void>((r) => ((release = r), held())));
    });
    const mine = auth.refreshSession();
    store.set("cx.session", JSON.stringify({ ...sessionOf("t2"), expiresAt: Date.now() + 900_000 }));
    release();
    expect(await mine).toBe(true);
    expect(calls).toHaveLength(0);
    expect(auth.session.value?.refreshToken).toBe("t2");
  });

  it("ends the session when the server refuses the refresh", async () => {
    const auth = await import("./auth");
    auth.signedIn(sessionOf("x1"));
    answer = () =>
      new Response(JSON.stringify({ error: { code: "unauthorized", message: "reused" } }), { status: 401 });
    expect(await auth.refreshSession()).toBe(false);
    expect(calls.map((c) => c.body.refreshToken)).toEqual(["x1"]);
    expect(auth.session.value).toBeNull();
    expect(auth.signOutReason.value).toBe("Your session ended. Sign in again.");
    expect(store.has("cx.session")).toBe(false);
  });

  it("follows a sign-out in another tab", async () => {
    const auth = await import("./auth");
    auth.signedIn(sessionOf("y1"));
    store.delete("cx.session");
    expect(await auth.refreshSession()).toBe(false);
    expect(calls).toHaveLength(0);
    expect(auth.session.value).toBeNull();
  });
});
