// The signed-in session: kept in localStorage so a reload or a second tab stays signed in. One
// tab of the browser (the leader, elected with a Web Lock held for the tab's life) refreshes it a
// minute before the access token expires; the others pick the new tokens up from the storage
// event. A refresh token works once and the server ends the whole sign-in when a spent one comes
// back, so tabs must never spend the same one: localStorage is only eventually consistent across
// tabs (a tab can read the old token for a moment after another stored the new one), which is why
// only one tab refreshes on schedule, and why a tab that must refresh out of turn (its access
// token was refused) first waits a moment for the leader's new tokens.
import { signal, computed } from "@preact/signals";
import { api, ApiError } from "./api";

export interface UserView {
  id: string;
  orgId: string;
  email: string;
  name: string;
  role: "SUPER_ADMIN" | "ADMIN" | "AGENT" | string;
  status: string;
  hasPassword: boolean;
  createdAt: string;
}

export interface OrganizationView {
  id: string;
  name: string;
  botEnabled: boolean;
  onboardingCompleted: boolean;
  createdAt: string;
}

export interface Session {
  accessToken: string;
  refreshToken: string;
  expiresIn: number;
  user: UserView;
  organization: OrganizationView;
  /** When the access token expires (ms since the epoch); computed on arrival. */
  expiresAt?: number;
}

const KEY = "cx.session";

function load(): Session | null {
  try {
    const raw = localStorage.getItem(KEY);
    return raw ? (JSON.parse(raw) as Session) : null;
  } catch {
    return null;
  }
}

export const session = signal<Session | null>(load());
export const signOutReason = signal<string | null>(null);
export const me = computed(() => session.value?.user ?? null);
export const isAdmin = computed(() => {
  const role = session.value?.user.role;
  return role === "ADMIN" || role === "SUPER_ADMIN";
});

let timer: ReturnType<typeof setTimeout> | undefined;
let inflight: Promise<boolean> | null = null;

function webLocks(): LockManager | undefined {
  const locks = (globalThis.navigator as Navigator | undefined)?.locks;
  return locks?.request ? locks : undefined;
}

/** Whether this tab refreshes on schedule; without Web Locks every tab does, for itself. */
let leader = !webLocks();

function schedule(s: Session | null) {
  if (timer) clearTimeout(timer);
  timer = undefined;
  if (!s?.expiresAt || !leader) return;
  const wait = Math.max(5_000, s.expiresAt - Date.now() - 60_000);
  timer = setTimeout(() => void refreshSession(), wait);
}

function store(s: Session | null) {
  if (s && !s.expiresAt) s.expiresAt = Date.now() + s.expiresIn * 1000;
  session.value = s;
  if (s) localStorage.setItem(KEY, JSON.stringify(s));
  else localStorage.removeItem(KEY);
  schedule(s);
}

/** Takes a fresh session from the sign-in calls. */
export function signedIn(s: Session) {
  signOutReason.value = null;
  store(s);
}

/** Drops the session locally (the server already refused it, or the user signed out). */
export function signedOut(reason?: string) {
  signOutReason.value = reason ?? null;
  store(null);
}

/**
 * Runs `f` while holding the browser-wide refresh lock, so the tabs of one browser refresh one at
 * a time: a refresh token works once, and the server revokes the whole sign-in when a spent one
 * comes back, so two tabs must never race with the same token.
 */
function exclusively<T>(f: () => Promise<T>): Promise<T> {
  const locks = webLocks();
  return locks ? (locks.request("cx.session.refresh", f) as Promise<T>) : f();
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The stored session when it differs from `current` (another tab refreshed, signed in again or
 *  out): `null` for signed out, `undefined` when it is still `current`'s. */
function newerThan(current: Session): Session | null | undefined {
  const latest = load();
  if (!latest) return null;
  return latest.refreshToken !== current.refreshToken ? latest : undefined;
}

/** Trades the refresh token for a new session. One at a time; `false` when it was refused. */
export function refreshSession(): Promise<boolean> {
  if (inflight) return inflight;
  const current = session.value;
  if (!current) return Promise.resolve(false);
  inflight = exclusively(async () => {
    // Another tab may have refreshed while this one waited: take its session. A tab refreshing
    // out of turn gives the leader's new tokens a moment to reach this tab first.
    let newer = newerThan(current);
    for (let waited = 0; !leader && newer === undefined && waited < 3_000; waited += 200) {
      await sleep(200);
      newer = newerThan(current);
    }
    if (newer === null) {
      signedOut();
      return false;
    }
    if (newer) {
      store(newer);
      return true;
    }
    try {
      const next = await api<Session>("/auth/refresh", {
        body: { refreshToken: current.refreshToken },
        anonymous: true,
      });
      store(next);
      return true;
    } catch (e) {
      // Another tab may have spent the token a moment ago and stored its successor.
      const stored = load();
      if (stored && stored.refreshToken !== current.refreshToken) {
        store(stored);
        return true;
      }
      if (e instanceof ApiError && (e.status === 401 || e.status === 400)) {
        signedOut("Your session ended. Sign in again.");
      }
      return false;
    }
  }).finally(() => {
    inflight = null;
  });
  return inflight;
}

export async function loginWithPassword(email: string, password: string) {
  signedIn(await api<Session>("/auth/login", { body: { email, password }, anonymous: true }));
}

/** Registers a new organization with its first admin, and signs them in. */
export async function register(companyName: string, name: string, email: string, password: string) {
  signedIn(await api<Session>("/auth/register", { body: { companyName, name, email, password }, anonymous: true }));
}

export async function requestCode(email: string) {
  await api("/auth/request-code", { body: { email }, anonymous: true });
}

export async function loginWithCode(email: string, code: string) {
  signedIn(await api<Session>("/auth/verify-code", { body: { email, code }, anonymous: true }));
}

export async function logout() {
  const current = session.value;
  if (current) {
    try {
      await api("/auth/logout", { body: { refreshToken: current.refreshToken } });
    } catch {
      /* signed out locally either way */
    }
  }
  signedOut();
}

// Another tab refreshed or signed out: follow it.
window.addEventListener("storage", (e) => {
  if (e.key !== KEY) return;
  const next = load();
  session.value = next;
  schedule(next);
});

// Leadership: the first tab to ask holds it until it closes, then the next one takes over.
const locks = webLocks();
if (locks) {
  void locks.request("cx.session.leader", () => {
    leader = true;
    const stored = load();
    if (stored) session.value = stored;
    schedule(session.value);
    if (session.value?.expiresAt && session.value.expiresAt < Date.now() + 60_000) void refreshSession();
    return new Promise<void>(() => {});
  });
} else {
  schedule(session.value);
  if (session.value?.expiresAt && session.value.expiresAt < Date.now() + 60_000) void refreshSession();
}
