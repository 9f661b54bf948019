// What the session tests share: a session as the API answers it, a browser of one tab (a fake
// localStorage over `store`, the Web Locks API with `held` names another tab keeps), and fake
// timers. Each test file stubs `fetch` itself.
import { vi } from "vitest";

export function sessionOf(refreshToken: string, expiresIn = 900) {
  return {
    accessToken: "access-" + refreshToken,
    refreshToken,
    expiresIn,
    user: { id: "u1", orgId: "o1", email: "a@example.com", name: "A", role: "AGENT", status: "ACTIVE", hasPassword: true, createdAt: "" },
    organization: { id: "o1", name: "O", botEnabled: true, onboardingCompleted: true, createdAt: "" },
  };
}

/** Each lock name held by one request at a time, first come first served, like
 *  `navigator.locks`; a name in `held` is another tab's for good. */
export function fakeLocks(held: string[] = []) {
  const queues = new Map<string, Promise<unknown>>();
  return {
    request<T>(name: string, f: () => Promise<T>): Promise<T> {
      if (held.includes(name)) return new Promise<T>(() => {});
      const turn = (queues.get(name) ?? Promise.resolve()).then(f);
      queues.set(name, turn.catch(() => undefined));
      return turn;
    },
  };
}

/** Fake timers and a tab whose localStorage is `store` and whose Web Locks are `locks`. */
export function fakeTab(store: Map<string, string>, locks: ReturnType<typeof fakeLocks>) {
  vi.useFakeTimers();
  vi.stubGlobal("window", { addEventListener: () => {}, removeEventListener: () => {} });
  vi.stubGlobal("navigator", { locks });
  vi.stubGlobal("localStorage", {
    getItem: (k: string) => store.get(k) ?? null,
    setItem: (k: string, v: string) => void store.set(k, v),
    removeItem: (k: string) => void store.delete(k),
  });
}
