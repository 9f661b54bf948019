// The inbox's state: conversations (one map, the visible list as ordered ids), the open thread,
// people, tags and teams, all kept current by the live events.
import { signal, computed, batch, effect, untracked } from "@preact/signals";
import { api, apiPage, qs, ApiError } from "../api";
import { me } from "../auth";
import { navigate } from "../router";
import { subscribe, onResync } from "../live/socket";
import type { LiveEvent } from "../live/core";
import {
  type Conversation, type Message, type ListFilter, type Chunk, type Tab, type TagRef,
  DEFAULT_FILTER, listQuery, mergeConversation, place, appendPage, attentionCount,
  upsertMessage, resolvePending, failPending, dropPending, trimWindow, withoutKnown, atLatest, updateMessage, mergeLatest,
} from "./model";

export interface UserDetail {
  id: string;
  email: string;
  name: string;
  role: string;
  status: string;
  openConversations?: number;
  deletedAt?: string | null;
}
export interface TagDetail { id: string; name: string; color: string; hex: string }
export interface TeamView { id: string; name: string; isActive: boolean }
export interface CountsView { all: number; unread: number; needsAction: number }

const FILTER_KEY = "cx.inbox.filter";
function loadFilter(): ListFilter {
  try {
    const v = JSON.parse(localStorage.getItem(FILTER_KEY) || "null");
    return v ? { ...DEFAULT_FILTER, ...v, search: "" } : DEFAULT_FILTER;
  } catch {
    return DEFAULT_FILTER;
  }
}

export const filter = signal<ListFilter>(loadFilter());

/** How long a visitor's "typing" shows without news (the widget says "stopped" after a pause). */
const TYPING_SHOWN_MS = 6000;
/** Live-chat conversations whose visitor is typing, with when that stops showing. */
export const visitorTyping = signal<Map<string, number>>(new Map());

/** Whether the visitor of `conversationId` is typing now. */
export function isVisitorTyping(typing: Map<string, number>, conversationId: string, now = Date.now()): boolean {
  return (typing.get(conversationId) ?? 0) > now;
}

/** A customer's satisfaction rating of a conversation. */
export interface Rating { conversationId: string; rating: number; comment?: string | null; ratedAt: string }
/** Ratings of the conversations whose survey the thread shows; `null`: asked, none yet. */
export const ratings = signal<Map<string, Rating | null>>(new Map());

/** Fetches a conversation's rating once (live `conversation.rated` events keep it current). */
export async function loadRating(conversationId: string) {
  if (ratings.value.has(conversationId)) return;
  ratings.value = new Map(ratings.value).set(conversationId, null);
  try {
    const d = await api<Rating | null>(`/conversations/${encodeURIComponent(conversationId)}/csat`);
    if (d) ratings.value = new Map(ratings.value).set(conversationId, d);
  } catch {
    // Shown as "no rating yet"; the next live event corrects it.
  }
}
export const convs = new Map<string, Conversation>();
/** Bumped whenever a conversation in `convs` changes. */
export const convRev = signal(0);
export const listIds = signal<string[]>([]);
export const listNext = signal<string | null>(null);
export const listLoading = signal(false);
export const listError = signal<string | null>(null);
export const counts = signal<Record<Tab, CountsView | null>>({ mine: null, unassigned: null, all: null });
export const attention = signal(0);
export const users = signal<UserDetail[]>([]);
export const tags = signal<TagDetail[]>([]);
export const teams = signal<TeamView[]>([]);
export const categories = signal<string[]>([]);
export const toast = signal<{ text: string; kind: "error" | "info" } | null>(null);

let toastTimer: ReturnType<typeof setTimeout> | undefined;
export function say(text: string, kind: "error" | "info" = "info") {
  toast.value = { text, kind };
  if (toastTimer) clearTimeout(toastTimer);
  toastTimer = setTimeout(() => (toast.value = null), kind === "error" ? 8000 : 4000);
}

/** A readable sentence for a failed call. */
export function errorText(e: unknown): string {
  if (e instanceof ApiError) {
    if (e.status === 409) return `Not possible right now: ${e.message}`;
    if (e.status === 403) return `Not allowed: ${e.message}`;
    if (e.status === 404) return `Not found: ${e.message}`;
    if (e.status === 429 || e.status === 503) return `The server is busy; try again${e.retryAfter ? ` in ${e.retryAfter} s` : ""}.`;
    return e.message;
  }
  if (e instanceof TypeError) return "The server could not be reached. Check the connection.";
  return e instanceof Error ? e.message : String(e);
}

export const myId = computed(() => me.value?.id ?? null);
export const userById = computed(() => new Map(users.value.map((u) => [u.id, u])));
export const tagById = computed(() => new Map(tags.value.map((t) => [t.id, t])));

export function getConv(id: string | null | undefined): Conversation | undefined {
  return id ? convs.get(id) : undefined;
}

/**
 * Conversations that changed while the first page of the list was on its way: the page was
 * read before those changes, so they are placed again once it arrives (otherwise an assignment
 * that lands during sign-in would vanish from "Mine" until the next reload).
 */
let changedDuringLoad: Set<string> | null = null;

/** Most conversations held: every event of the organization adds one, the list shows a few. */
export const CONVS_MAX = 2000;

/**
 * Forgets conversations neither listed nor open nor awaited by a list load, oldest first, once
 * more than `CONVS_MAX` are held (a tab left open for days hears about every conversation).
 */
function pruneConvs() {
  if (convs.size <= CONVS_MAX) return;
  const keep = new Set(listIds.value);
  const open = thread.value?.id;
  for (const id of convs.keys()) {
    if (convs.size <= CONVS_MAX * 0.8) break;
    if (keep.has(id) || id === open || changedDuringLoad?.has(id)) continue;
    convs.delete(id);
  }
}

/** Stores a conversation view and moves it in (or out of) the visible list. */
export function absorb(c: Conversation) {
  const merged = mergeConversation(convs.get(c.id), c);
  convs.delete(c.id); // re-inserted last: the map's order is the order of last change
  convs.set(c.id, merged);
  changedDuringLoad?.add(c.id);
  batch(() => {
    convRev.value++;
    const ids = place(listIds.value, (id) => convs.get(id), merged, filter.value, myId.value, !!listNext.value);
    if (ids !== listIds.value) listIds.value = ids;
  });
  pruneConvs();
  return merged;
}

// ---- The list ------------------------------------------------------------------------------

let listGen = 0;
const PAGE = 50;

export async function loadList() {
  const gen = ++listGen;
  listLoading.value = true;
  listError.value = null;
  const changed = new Set<string>();
  changedDuringLoad = changed;
  try {
    const f = filter.value;
    const page = await apiPage<Conversation>("/conversations" + qs({ ...listQuery(f), sort: f.sort, limit: PAGE }));
    if (gen !== listGen) return;
    batch(() => {
      for (const c of page.data) convs.set(c.id, mergeConversation(convs.get(c.id), c));
      convRev.value++;
      const more = !!page.nextCursor;
      let ids = page.data.map((c) => c.id);
      for (const id of changed) {
        const c = convs.get(id);
        if (c) ids = place(ids, (x) => convs.get(x), c, f, myId.value, more);
      }
      listIds.value = ids;
      listNext.value = page.nextCursor ?? null;
    });
  } catch (e) {
    if (gen === listGen) listError.value = errorText(e);
  } finally {
    if (changedDuringLoad === changed) changedDuringLoad = null;
    if (gen === listGen) listLoading.value = false;
  }
}

export async function loadMore() {
  const cursor = listNext.value;
  if (!cursor || listLoading.value) return;
  const gen = listGen;
  listLoading.value = true;
  try {
    const f = filter.value;
    const page = await apiPage<Conversation>("/conversations" + qs({ ...listQuery(f), sort: f.sort, limit: PAGE, cursor }));
    if (gen !== listGen) return;
    batch(() => {
      for (const c of page.data) convs.set(c.id, mergeConversation(convs.get(c.id), c));
      convRev.value++;
      listIds.value = appendPage(listIds.value, page.data.map((c) => c.id));
      listNext.value = page.nextCursor ?? null;
    });
  } catch (e) {
    if (gen === listGen) listError.value = errorText(e);
  } finally {
    if (gen === listGen) listLoading.value = false;
  }
}

export function setFilter(patch: Partial<ListFilter>) {
  filter.value = { ...filter.value, ...patch };
  const { search: _s, ...keep } = filter.value;
  localStorage.setItem(FILTER_KEY, JSON.stringify(keep));
  void loadList();
  scheduleCounts(0);
}

// ---- Counts (tabs, title) ---------------------------------------------------------------------

let countsTimer: ReturnType<typeof setTimeout> | undefined;
let countsGen = 0;
/** Refreshes the tab counts soon; a burst of events costs one refresh (throttled, not reset). */
export function scheduleCounts(delay = 400) {
  if (countsTimer) {
    if (delay > 0) return;
    clearTimeout(countsTimer);
  }
  countsTimer = setTimeout(() => {
    countsTimer = undefined;
    void refreshCounts();
  }, delay);
}

async function refreshCounts() {
  const gen = ++countsGen;
  const f = filter.value;
  const q = (tab: Tab) => {
    const { search: _s, ...rest } = listQuery({ ...f, search: "" }, tab);
    return api<CountsView>("/conversations/counts" + qs(rest));
  };
  try {
    const [mine, unassigned, all, mineAny, unassignedAny] = await Promise.all([
      q("mine"),
      q("unassigned"),
      q("all"),
      api<CountsView>("/conversations/counts" + qs({ assignedTo: "me" })),
      api<CountsView>("/conversations/counts" + qs({ assignedTo: "unassigned" })),
    ]);
    if (gen !== countsGen) return;
    batch(() => {
      counts.value = { mine, unassigned, all };
      attention.value = attentionCount(mineAny.unread, unassignedAny.unread);
    });
  } catch {
    /* the next event or reconnect tries again */
  }
}

// ---- People, tags, teams ----------------------------------------------------------------------

export async function loadUsers() {
  try {
    users.value = await api<UserDetail[]>("/users");
  } catch { /* the assign menu says it is empty */ }
}
export async function loadTags() {
  try {
    tags.value = await api<TagDetail[]>("/tags");
  } catch { /* no tags */ }
}
export async function loadTeams() {
  try {
    teams.value = await api<TeamView[]>("/teams");
  } catch { /* no teams */ }
}
export async function loadCategories() {
  try {
    const rows = await api<{ category: string }[]>("/conversations/categories");
    categories.value = rows.map((r) => r.category);
  } catch { /* none */ }
}

// ---- The open thread --------------------------------------------------------------------------

export interface ThreadState {
  id: string;
  chunks: Chunk[];
  loading: "initial" | "older" | "newer" | null;
  error: string | null;
  /** Bumped when the latest messages were (re)loaded: the view scrolls to the bottom. */
  jump: number;
}
export const thread = signal<ThreadState | null>(null);

function setThread(id: string, fn: (t: ThreadState) => ThreadState) {
  const t = thread.value;
  if (t && t.id === id) thread.value = fn(t);
}

let threadGen = 0;
/**
 * Bumped whenever the window is replaced (the latest page loaded again): an older or newer page
 * asked for before belongs to the window that was, and would leave a gap in the new one.
 */
let windowGen = 0;
/** The open thread's message events that arrived while its latest page was being fetched. */
let liveWhileLoading: { id: string; messages: Message[] } | null = null;
/** At most this many events are kept while a page loads (a resync refetches anyway). */
const LIVE_MAX = 500;

export async function openThread(id: string) {
  const gen = ++threadGen;
  thread.value = { id, chunks: [], loading: "initial", error: null, jump: 0 };
  if (!convs.has(id)) {
    try {
      absorb(await api<Conversation>(`/conversations/${encodeURIComponent(id)}`));
    } catch (e) {
      if (gen === threadGen) setThread(id, (t) => ({ ...t, loading: null, error: errorText(e) }));
      return;
    }
  }
  await loadLatest(id, gen);
  if (gen === threadGen) void markRead(id);
}

async function loadLatest(id: string, gen = threadGen) {
  const win = ++windowGen;
  const live = { id, messages: [] as Message[] };
  liveWhileLoading = live;
  try {
    const page = await apiPage<Message>(`/conversations/${encodeURIComponent(id)}/messages` + qs({ limit: 50 }));
    if (gen !== threadGen || win !== windowGen) return;
    setThread(id, (t) => ({
      ...t,
      // Events that came while the page was on its way are merged in, not lost under it.
      chunks: [mergeLatest({ messages: page.data, older: page.nextCursor ?? null, newer: null }, live.messages, t.chunks)],
      loading: null,
      error: null,
      jump: t.jump + 1,
    }));
  } catch (e) {
    if (gen === threadGen && win === windowGen) setThread(id, (t) => ({ ...t, loading: null, error: errorText(e) }));
  } finally {
    if (liveWhileLoading === live) liveWhileLoading = null;
  }
}

/** Remembers a message event of the thread whose latest page is loading. */
function noteLive(m: Message) {
  const l = liveWhileLoading;
  if (l && l.id === m.conversationId && l.messages.length < LIVE_MAX) l.messages.push(m);
}

export function closeThread() {
  threadGen++;
  windowGen++;
  liveWhileLoading = null;
  thread.value = null;
}

export async function loadOlder() {
  const t = thread.value;
  if (!t || t.loading || !t.chunks.length) return;
  const cursor = t.chunks[0].older;
  if (!cursor) return;
  const gen = threadGen;
  const win = windowGen;
  thread.value = { ...t, loading: "older" };
  try {
    const page = await apiPage<Message>(`/conversations/${encodeURIComponent(t.id)}/messages` + qs({ cursor, limit: 50 }));
    if (gen !== threadGen || win !== windowGen) return;
    setThread(t.id, (cur) => {
      const msgs = withoutKnown(cur.chunks, page.data);
      const chunks = trimWindow([{ messages: msgs, older: page.nextCursor ?? null, newer: page.prevCursor ?? null }, ...cur.chunks], "end");
      return { ...cur, chunks, loading: null };
    });
  } catch (e) {
    if (gen === threadGen && win === windowGen) setThread(t.id, (cur) => ({ ...cur, loading: null, error: errorText(e) }));
  }
}

export async function loadNewer() {
  const t = thread.value;
  if (!t || t.loading || !t.chunks.length) return;
  const cursor = t.chunks[t.chunks.length - 1].newer;
  if (!cursor) return;
  const gen = threadGen;
  const win = windowGen;
  thread.value = { ...t, loading: "newer" };
  try {
    const page = await apiPage<Message>(`/conversations/${encodeURIComponent(t.id)}/messages` + qs({ cursor, limit: 50 }));
    if (gen !== threadGen || win !== windowGen) return;
    setThread(t.id, (cur) => {
      const msgs = withoutKnown(cur.chunks, page.data);
      const chunks = trimWindow([...cur.chunks, { messages: msgs, older: page.nextCursor ?? null, newer: page.prevCursor ?? null }], "start");
      return { ...cur, chunks, loading: null };
    });
  } catch (e) {
    if (gen === threadGen && win === windowGen) setThread(t.id, (cur) => ({ ...cur, loading: null, error: errorText(e) }));
  }
}

/** Back to the latest messages (after sending while scrolled far up). */
export function jumpToLatest() {
  const t = thread.value;
  if (!t) return;
  if (atLatest(t.chunks)) {
    thread.value = { ...t, jump: t.jump + 1 };
    return;
  }
  thread.value = { ...t, loading: "initial" };
  void loadLatest(t.id);
}

let readTimer: ReturnType<typeof setTimeout> | undefined;
export async function markRead(id: string) {
  const c = convs.get(id);
  if (c && c.unreadCount === 0) return;
  try {
    absorb(await api<Conversation>(`/conversations/${encodeURIComponent(id)}/read`, { method: "POST" }));
    scheduleCounts();
  } catch { /* the next message tries again */ }
}
function markReadSoon(id: string) {
  if (readTimer) clearTimeout(readTimer);
  readTimer = setTimeout(() => {
    if (thread.value?.id === id && document.visibilityState === "visible") void markRead(id);
  }, 300);
}
document.addEventListener("visibilitychange", () => {
  const t = thread.value;
  if (t && document.visibilityState === "visible") markReadSoon(t.id);
});

// ---- Sending ------------------------------------------------------------------------------------

export function uuid(): string {
  if (typeof crypto !== "undefined" && "randomUUID" in crypto) return crypto.randomUUID();
  return "10000000-1000-4000-8000-100000000000".replace(/[018]/g, (ch) =>
    (Number(ch) ^ (Math.random() * 16) >> (Number(ch) / 4)).toString(16),
  );
}

function pendingMessage(conversationId: string, key: string, type: string, text: string | null, extra: Partial<Message> = {}): Message {
  return {
    id: "pending-" + key,
    conversationId,
    direction: "outbound",
    type,
    text,
    status: "pending",
    senderId: myId.value,
    createdAt: new Date().toISOString(),
    reactions: [],
    pendingKey: key,
    ...extra,
  };
}

function addPending(id: string, m: Message) {
  const t = thread.value;
  if (!t || t.id !== id) return;
  if (!atLatest(t.chunks)) jumpToLatest();
  setThread(id, (cur) => {
    const chunks = cur.chunks.length ? cur.chunks.slice() : [{ messages: [], older: null, newer: null }];
    const last = chunks[chunks.length - 1];
    chunks[chunks.length - 1] = { ...last, messages: [...last.messages, m] };
    return { ...cur, chunks, jump: cur.jump + 1 };
  });
}

/** How to send again a message whose POST failed (by its Idempotency-Key), until it succeeds. */
const resends = new Map<string, () => Promise<Message>>();

async function post(id: string, key: string, send: () => Promise<Message>) {
  resends.set(key, send);
  try {
    const stored = await send();
    resends.delete(key);
    setThread(id, (t) => ({ ...t, chunks: resolvePending(t.chunks, key, stored) }));
  } catch (e) {
    setThread(id, (t) => ({ ...t, chunks: failPending(t.chunks, key, errorText(e)) }));
    say(errorText(e), "error");
  }
}

/** Sends a text; it shows at once as pending and becomes the stored message. */
export function sendText(id: string, text: string, key = uuid()) {
  addPending(id, pendingMessage(id, key, "text", text));
  return post(id, key, () =>
    api<Message>(`/conversations/${encodeURIComponent(id)}/messages`, {
      body: { type: "text", text },
      headers: { "Idempotency-Key": key },
    }),
  );
}

/** Whether a message whose POST failed can be sent again from here. */
export function canRetryLocal(m: Message): boolean {
  return !!m.localError && !!m.pendingKey && (m.type === "text" || resends.has(m.pendingKey));
}

/** Retries a message whose POST failed, with the same key (so it is sent once at most). */
export function retryLocal(id: string, m: Message) {
  if (!m.pendingKey) return;
  const key = m.pendingKey;
  const again = resends.get(key) ?? (m.type === "text"
    ? () => api<Message>(`/conversations/${encodeURIComponent(id)}/messages`, { body: { type: "text", text: m.text }, headers: { "Idempotency-Key": key } })
    : null);
  if (!again) return;
  setThread(id, (t) => ({
    ...t,
    chunks: t.chunks.map((c) => ({ ...c, messages: c.messages.map((x) => (x.pendingKey === key ? { ...x, status: "pending", localError: undefined } : x)) })),
  }));
  return post(id, key, again);
}

/**
 * Sends an approved template with its parameters; it shows at once as pending (with `text`, the
 * rendering the server makes too) and becomes the stored message. A request the server refuses
 * (bad parameters, not approved) sent nothing: the pending message goes and the error is thrown
 * for the picker to show at its field. A failure on the way keeps it, failed, to retry.
 */
export async function sendTemplate(id: string, name: string, language: string, parameters: Record<string, unknown>, text: string, key = uuid()) {
  const send = () =>
    api<Message>(`/templates/${encodeURIComponent(name)}/send`, {
      body: { conversationId: id, language, parameters },
      headers: { "Idempotency-Key": key },
    });
  addPending(id, pendingMessage(id, key, "template", text, { content: { name, language } }));
  try {
    const stored = await send();
    setThread(id, (t) => ({ ...t, chunks: resolvePending(t.chunks, key, stored) }));
  } catch (e) {
    const refused = e instanceof ApiError && e.status >= 400 && e.status < 500 && e.status !== 408 && e.status !== 429;
    if (refused) {
      setThread(id, (t) => ({ ...t, chunks: dropPending(t.chunks, key) }));
      throw e;
    }
    resends.set(key, send);
    setThread(id, (t) => ({ ...t, chunks: failPending(t.chunks, key, errorText(e)) }));
    say(errorText(e), "error");
  }
}

export function sendMedia(id: string, file: File, kind: string, caption: string) {
  const key = uuid();
  addPending(id, pendingMessage(id, key, kind, caption || null, { content: { filename: file.name }, mediaMime: file.type, mediaSize: file.size }));
  const form = new FormData();
  form.append("type", kind);
  if (caption) form.append("caption", caption);
  form.append("file", file, file.name);
  return post(id, key, () =>
    api<Message>(`/conversations/${encodeURIComponent(id)}/messages/media`, { form, method: "POST", headers: { "Idempotency-Key": key } }),
  );
}

export function replaceMessage(m: Message) {
  noteLive(m);
  setThread(m.conversationId, (t) => ({ ...t, chunks: upsertMessage(t.chunks, m, myId.value) }));
}

/** A message changed (status, reactions): updated where it is shown, never added. */
export function changeMessage(m: Message) {
  noteLive(m);
  setThread(m.conversationId, (t) => ({ ...t, chunks: updateMessage(t.chunks, m) }));
}

// ---- Conversation actions -------------------------------------------------------------------------

/** Runs an action that answers with the conversation; reports errors readably. */
export async function act(id: string, path: string, opts: { method?: string; body?: unknown } = {}, done?: string) {
  try {
    const c = await api<Conversation>(`/conversations/${encodeURIComponent(id)}${path}`, { method: opts.method ?? "POST", body: opts.body });
    if (c && c.id) absorb(c);
    scheduleCounts();
    if (done) say(done);
    return true;
  } catch (e) {
    say(errorText(e), "error");
    return false;
  }
}

export const actions = {
  takeover: (id: string) => act(id, "/takeover", {}, "You took over the conversation."),
  assign: (id: string, userId: string) => act(id, "/assign", { body: { userId } }, "Assigned."),
  unassign: (id: string) => act(id, "/unassign", {}, "Back in the queue."),
  resolve: (id: string) => act(id, "/resolve", {}, "Resolved."),
  reopen: (id: string) => act(id, "", { method: "PATCH", body: { status: "OPEN" } }, "Reopened."),
  returnToBot: (id: string, handoffSummary?: string) =>
    act(id, "/return-to-bot", { body: handoffSummary ? { handoffSummary } : {} }, "Returned to the bot."),
  followUp: (id: string, on: boolean) => act(id, "/follow-up", { method: on ? "POST" : "DELETE", body: on ? {} : undefined }, on ? "Marked for follow-up." : "Follow-up cleared."),
  category: (id: string, category: string | null) => act(id, "", { method: "PATCH", body: { category } }, "Category saved."),
  reroute: (id: string) => act(id, "/re-route", {}, "Routing rules applied again."),
  team: (id: string, teamId: string | null) =>
    act(id, "", { method: "PATCH", body: { teamId } }, teamId ? "Moved to the team." : "Team removed."),
};

export async function addTag(id: string, tagId: string) {
  try {
    await api(`/conversations/${encodeURIComponent(id)}/tags`, { body: { tagId } });
    const c = convs.get(id);
    const t = tagById.value.get(tagId);
    if (c && t && !(c.tags ?? []).some((x) => x.id === tagId)) {
      absorb({ ...c, tags: [...(c.tags ?? []), { id: t.id, name: t.name, color: t.color }] });
    }
  } catch (e) {
    say(errorText(e), "error");
  }
}
export async function removeTag(id: string, tagId: string) {
  try {
    await api(`/conversations/${encodeURIComponent(id)}/tags/${encodeURIComponent(tagId)}`, { method: "DELETE" });
    const c = convs.get(id);
    if (c) absorb({ ...c, tags: (c.tags ?? []).filter((x) => x.id !== tagId) });
  } catch (e) {
    say(errorText(e), "error");
  }
}

// ---- Live events ----------------------------------------------------------------------------------

type Hook = (ev: LiveEvent, c?: Conversation) => void;
const hooks = new Set<Hook>();
/** Attention and other views hear about each event after the stores applied it. */
export function onInboxEvent(fn: Hook) {
  hooks.add(fn);
  return () => hooks.delete(fn);
}

function apply(ev: LiveEvent) {
  const d = ev.data ?? {};
  let conv: Conversation | undefined;
  switch (ev.event) {
    case "conversation.created":
    case "conversation.updated":
    case "conversation.assigned":
    case "conversation.status_changed": {
      const { previousStatus: _p, ...c } = d;
      conv = absorb(c as Conversation);
      scheduleCounts();
      break;
    }
    case "message.created": {
      const { conversation, ...m } = d;
      if (conversation) conv = absorb(conversation as Conversation);
      const t = thread.value;
      if (t && t.id === m.conversationId) {
        replaceMessage(m as Message);
        if (m.direction === "inbound") markReadSoon(t.id);
      }
      scheduleCounts();
      break;
    }
    case "message.updated": {
      changeMessage(d as Message);
      break;
    }
    case "contact.updated": {
      let changed = false;
      for (const [id, c] of convs) {
        if (c.contact && c.contact.id === d.id) {
          convs.set(id, { ...c, contact: { ...c.contact, ...d } });
          changed = true;
        }
      }
      if (changed) convRev.value++;
      break;
    }
    case "tag.created":
    case "tag.updated":
      void loadTags();
      if (ev.event === "tag.updated") {
        let changed = false;
        for (const [id, c] of convs) {
          if (c.tags?.some((t) => t.id === d.id)) {
            convs.set(id, { ...c, tags: c.tags.map((t: TagRef) => (t.id === d.id ? { id: d.id, name: d.name, color: d.color } : t)) });
            changed = true;
          }
        }
        if (changed) convRev.value++;
      }
      break;
    case "tag.deleted": {
      void loadTags();
      for (const cid of d.conversationIds ?? []) {
        const c = convs.get(cid);
        if (c) absorb({ ...c, tags: (c.tags ?? []).filter((t) => t.id !== d.id) });
      }
      break;
    }
    case "agent.presence_changed": {
      users.value = users.value.map((u) => (u.id === d.userId ? { ...u, status: d.status } : u));
      if (!users.value.some((u) => u.id === d.userId)) void loadUsers();
      break;
    }
    case "agent.removed":
      void loadUsers();
      break;
    case "typing.visitor": {
      const next = new Map(visitorTyping.value);
      if (d.typing) next.set(d.conversationId, Date.now() + TYPING_SHOWN_MS);
      else next.delete(d.conversationId);
      visitorTyping.value = next;
      break;
    }
    case "conversation.rated":
      ratings.value = new Map(ratings.value).set(d.conversationId, d as Rating);
      break;
    case "conversations.removed": {
      const gone = new Set<string>(d.conversationIds ?? []);
      for (const id of gone) convs.delete(id);
      const open = thread.value;
      if (open && gone.has(open.id)) {
        say("This conversation was removed.");
        navigate("/");
      }
      batch(() => {
        listIds.value = listIds.value.filter((id) => !gone.has(id));
        convRev.value++;
      });
      scheduleCounts();
      break;
    }
    case "agent.idle_detected": {
      if (d.userId && d.userId === myId.value) say(`A conversation was moved from you: ${d.reason ?? "idle"}.`);
      if (d.conversationId) {
        void api<Conversation>(`/conversations/${encodeURIComponent(d.conversationId)}`).then(absorb, () => {});
      }
      scheduleCounts();
      break;
    }
  }
  for (const h of hooks) h(ev, conv);
}

/** Everything on screen, fetched again (after a refused resume). */
export function refetchAll() {
  void loadList();
  scheduleCounts(0);
  void loadUsers();
  void loadTags();
  const t = thread.value;
  if (t) {
    void api<Conversation>(`/conversations/${encodeURIComponent(t.id)}`).then(absorb, () => {});
    thread.value = { ...t, loading: "initial" };
    void loadLatest(t.id);
  }
}

let started = false;
let startedFor: string | null = null;
// Another user signed in in this tab: nothing of the previous one's view may stay.
effect(() => {
  const id = myId.value;
  if (!started || !id || id === startedFor) return;
  startedFor = id;
  untracked(() => {
    convs.clear();
    thread.value = null;
    listIds.value = [];
    counts.value = { mine: null, unassigned: null, all: null };
    users.value = [];
    refetchAll();
  });
});

export function startInbox() {
  if (started) return;
  started = true;
  startedFor = myId.value;
  subscribe(apply);
  onResync(refetchAll);
  void loadList();
  scheduleCounts(0);
  void loadUsers();
  void loadTags();
  void loadTeams();
  void loadCategories();
}
