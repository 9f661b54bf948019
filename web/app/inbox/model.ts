// Pure inbox logic: the API's shapes, which conversations a list shows and in what order, how a
// list and a thread absorb live changes, unread counting. No DOM, no network: tested by Vitest.

export interface Contact {
  id: string;
  /** Null for a customer not on WhatsApp (a website visitor, an API inbox's customer). */
  waId: string | null;
  name?: string | null;
  profileName?: string | null;
  phone?: string | null;
  email?: string | null;
  category?: string | null;
}

export interface TagRef {
  id: string;
  name: string;
  color: string;
}

export interface Conversation {
  id: string;
  inboxId: string;
  /** The inbox's channel: whatsapp, livechat or api (absent from older servers: WhatsApp). */
  channel?: string;
  contact?: Contact | null;
  status: string;
  assignedTo?: string | null;
  unreadCount: number;
  lastMessageAt?: string | null;
  lastMessagePreview?: string | null;
  lastInboundAt?: string | null;
  windowClosesAt?: string | null;
  seq: number;
  tags?: TagRef[] | null;
  closedAt?: string | null;
  category?: string | null;
  followUpAt?: string | null;
  followUpNote?: string | null;
  followUpBy?: string | null;
  handoffSummary?: string | null;
  awaitingReply: boolean;
  teamId?: string | null;
  queuedAt?: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface Reaction {
  emoji: string;
  by: string;
  at: string;
}

export interface Message {
  id: string;
  conversationId: string;
  direction: "inbound" | "outbound" | "system" | string;
  type: string;
  text?: string | null;
  content?: any;
  status: string;
  providerMessageId?: string | null;
  errorCode?: string | null;
  errorMessage?: string | null;
  senderId?: string | null;
  createdAt: string;
  updatedAt?: string;
  sentAt?: string | null;
  deliveredAt?: string | null;
  readAt?: string | null;
  hidden?: boolean;
  mediaStatus?: string | null;
  mediaUrl?: string | null;
  mediaMime?: string | null;
  mediaSize?: number | null;
  mediaError?: string | null;
  reactions?: Reaction[];
  /** Client side only: the Idempotency-Key of a message being sent. */
  pendingKey?: string;
  /** Client side only: the send failed before the server stored it. */
  localError?: string;
}

export type Tab = "mine" | "unassigned" | "all";
export type SortOrder = "newest" | "waiting_longest";

export const ACTIVE_STATUSES = ["BOT_HANDLING", "HUMAN_HANDLING", "OPEN", "WAITING_FOR_CUSTOMER"];
export const ALL_STATUSES = [...ACTIVE_STATUSES, "CLOSED"];

export interface ListFilter {
  tab: Tab;
  /** "active" (everything but CLOSED), "" (any), or one status. */
  status: string;
  teamId: string;
  tagId: string;
  search: string;
  sort: SortOrder;
}

export const DEFAULT_FILTER: ListFilter = { tab: "mine", status: "active", teamId: "", tagId: "", search: "", sort: "newest" };

/** The statuses a filter value stands for (empty: any). */
export function statusesOf(status: string): string[] {
  if (status === "active") return ACTIVE_STATUSES;
  if (!status) return [];
  return [status];
}

/** The query of `GET /conversations` (and `/counts`) for a filter; `tab` overrides the filter's. */
export function listQuery(f: ListFilter, tab: Tab = f.tab): Record<string, string> {
  const q: Record<string, string> = {};
  if (tab === "mine") q.assignedTo = "me";
  if (tab === "unassigned") q.assignedTo = "unassigned";
  const st = statusesOf(f.status);
  if (st.length) q.status = st.join(",");
  if (f.teamId) q.teamId = f.teamId;
  if (f.tagId) q.tags = f.tagId;
  if (f.search.trim()) q.search = f.search.trim();
  return q;
}

/**
 * Whether a conversation belongs in the list: `true`, `false`, or `null` when the client cannot
 * tell (a search term: only the server searches message text).
 */
export function matches(c: Conversation, f: ListFilter, me: string | null): boolean | null {
  if (f.tab === "mine" && (!me || c.assignedTo !== me)) return false;
  if (f.tab === "unassigned" && c.assignedTo) return false;
  const st = statusesOf(f.status);
  if (st.length && !st.includes(c.status)) return false;
  if (f.teamId && c.teamId !== f.teamId) return false;
  if (f.tagId && !(c.tags ?? []).some((t) => t.id === f.tagId)) return false;
  // The server leaves out rows without the sort's time.
  if (f.sort === "newest" && !c.lastMessageAt) return false;
  if (f.sort === "waiting_longest" && !c.lastInboundAt) return false;
  if (f.search.trim()) return null;
  return true;
}

function time(s: string | null | undefined): number {
  return s ? Date.parse(s) : NaN;
}

/** Negative when `a` comes before `b` in the sort (the server's keyset order: time, then id). */
export function compare(a: Conversation, b: Conversation, sort: SortOrder): number {
  if (sort === "newest") {
    const d = (time(b.lastMessageAt) || 0) - (time(a.lastMessageAt) || 0);
    if (d) return d;
    return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
  }
  const d = (time(a.lastInboundAt) || 0) - (time(b.lastInboundAt) || 0);
  if (d) return d;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** Merges a newer view of a conversation into the one held (an older `seq` never wins). */
export function mergeConversation(old: Conversation | undefined, next: Conversation): Conversation {
  if (!old) return next;
  if ((next.seq ?? 0) < (old.seq ?? 0)) return old;
  const out = { ...old, ...next };
  // Events other than tag changes leave `tags` out: keep what we know.
  if (next.tags === undefined || next.tags === null) out.tags = old.tags;
  if (next.contact === undefined || next.contact === null) out.contact = old.contact;
  return out;
}

/**
 * Places a changed conversation in a loaded, sorted list of ids: removes it when it no longer
 * matches, moves it to its sorted position when it does. A row that would land past the end of
 * a list that has more pages is left for the next page (`hasMore`). `unknown` (search) keeps it
 * where it was when present and does not add it.
 */
export function place(
  ids: string[],
  get: (id: string) => Conversation | undefined,
  c: Conversation,
  f: ListFilter,
  me: string | null,
  hasMore: boolean,
): string[] {
  const fit = matches(c, f, me);
  const at = ids.indexOf(c.id);
  if (fit === false) return at < 0 ? ids : ids.filter((id) => id !== c.id);
  if (fit === null && at < 0) return ids;
  const rest = at < 0 ? ids : ids.filter((id) => id !== c.id);
  // Binary search for the first row that sorts after c.
  let lo = 0;
  let hi = rest.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    const other = get(rest[mid]);
    if (other && compare(other, c, f.sort) <= 0) lo = mid + 1;
    else hi = mid;
  }
  if (lo === rest.length && hasMore) return rest; // belongs to a page not loaded yet
  if (at === lo && at >= 0 && rest.length === ids.length - 1) {
    // Unchanged position: keep the same array (no re-render).
    return ids;
  }
  const out = rest.slice();
  out.splice(lo, 0, c.id);
  return out;
}

/** Appends a page of ids, skipping ones already present (rows that moved while paging). */
export function appendPage(ids: string[], page: string[]): string[] {
  const have = new Set(ids);
  const out = ids.slice();
  for (const id of page) if (!have.has(id)) { have.add(id); out.push(id); }
  return out;
}

/** The unread conversations an agent should attend to: mine plus unassigned. */
export function attentionCount(mineUnread: number, unassignedUnread: number): number {
  return Math.max(0, (mineUnread | 0) + (unassignedUnread | 0));
}

/** The document title for that many unread conversations. */
export function titleFor(n: number): string {
  return n > 0 ? `(${n}) cx-inbox` : "cx-inbox";
}

/** Whether a new inbound message in this conversation should draw the agent's attention. */
export function wantsAttention(c: Conversation, me: string | null): boolean {
  return !c.assignedTo || c.assignedTo === me;
}

// ---- Threads -----------------------------------------------------------------------------

/** A loaded page of messages, chronological, with the cursors around it. */
export interface Chunk {
  messages: Message[];
  /** Older messages before this chunk (`nextCursor` of the API). */
  older: string | null;
  /** Newer messages after this chunk (`prevCursor` of the API); null at the latest. */
  newer: string | null;
}

/** Most message nodes a thread keeps in the DOM. */
export const WINDOW_MAX = 300;

export function countMessages(chunks: Chunk[]): number {
  return chunks.reduce((n, c) => n + c.messages.length, 0);
}

/** Drops whole chunks from one end while the window holds more than `max` messages. */
export function trimWindow(chunks: Chunk[], from: "start" | "end", max = WINDOW_MAX): Chunk[] {
  const out = chunks.slice();
  while (out.length > 1 && countMessages(out) > max) {
    if (from === "start") out.shift();
    else out.pop();
  }
  return out;
}

/** Removes from `incoming` the messages already held (a page that overlaps what we have). */
export function withoutKnown(chunks: Chunk[], incoming: Message[]): Message[] {
  const have = new Set<string>();
  for (const c of chunks) for (const m of c.messages) have.add(m.id);
  return incoming.filter((m) => !have.has(m.id));
}

/** Whether the window reaches the latest message (live messages are appended only then). */
export function atLatest(chunks: Chunk[]): boolean {
  return chunks.length === 0 || chunks[chunks.length - 1].newer === null;
}

/**
 * Applies a stored message to the window: replaces the same id (status updates), or the pending
 * message it is the stored copy of, or appends it when the window holds the latest messages.
 * `pendingFor` maps an Idempotency-Key to the stored id once the POST answered.
 */
export function upsertMessage(chunks: Chunk[], m: Message, me: string | null): Chunk[] {
  for (let ci = 0; ci < chunks.length; ci++) {
    const i = chunks[ci].messages.findIndex((x) => x.id === m.id);
    if (i >= 0) {
      const msgs = chunks[ci].messages.slice();
      // Drop a pending twin further down if one slipped in.
      msgs[i] = { ...msgs[i], ...m, pendingKey: undefined, localError: undefined };
      const out = chunks.slice();
      out[ci] = { ...chunks[ci], messages: msgs };
      return out;
    }
  }
  if (!atLatest(chunks)) return chunks;
  const out = chunks.length ? chunks.slice() : [{ messages: [], older: null, newer: null }];
  const last = { ...out[out.length - 1] };
  let msgs = last.messages.slice();
  // The stored copy of a pending message of mine (the event came before the POST's answer).
  if (m.direction === "outbound" && m.senderId && m.senderId === me) {
    const p = msgs.findIndex((x) => x.pendingKey && !x.localError && x.type === m.type && (x.text ?? "") === (m.text ?? ""));
    if (p >= 0) {
      msgs[p] = { ...m, pendingKey: msgs[p].pendingKey };
      last.messages = msgs;
      out[out.length - 1] = last;
      return out;
    }
  }
  // Insert in time order (almost always at the end); pending ones stay last.
  let at = msgs.length;
  while (at > 0 && (msgs[at - 1].pendingKey && msgs[at - 1].id.startsWith("pending-") || msgs[at - 1].createdAt > m.createdAt)) at--;
  msgs.splice(at, 0, m);
  last.messages = msgs;
  out[out.length - 1] = last;
  return out;
}

/**
 * Applies a changed message (`message.updated`: a status, a reaction) to the one held. Never adds
 * it: an update for a message outside the window (an old one the customer just read) has no
 * place there, and appending it would show it out of order.
 */
export function updateMessage(chunks: Chunk[], m: Message): Chunk[] {
  for (let ci = 0; ci < chunks.length; ci++) {
    const i = chunks[ci].messages.findIndex((x) => x.id === m.id);
    if (i < 0) continue;
    const msgs = chunks[ci].messages.slice();
    msgs[i] = newerOf(msgs[i], m);
    const out = chunks.slice();
    out[ci] = { ...chunks[ci], messages: msgs };
    return out;
  }
  return chunks;
}

/** Milliseconds (with the sub-millisecond part) of an RFC 3339 time; NaN without one. */
function stamp(s: string | null | undefined): number {
  if (!s) return NaN;
  const frac = /\.(\d+)/.exec(s);
  return Date.parse(s.replace(/\.\d+/, "")) + (frac ? Number("0." + frac[1]) * 1000 : 0);
}

/** Of two views of one message, the later one (by `updatedAt`, else by how far its status got). */
export function newerOf(held: Message, next: Message): Message {
  const a = stamp(held.updatedAt), b = stamp(next.updatedAt);
  let take = true;
  if (!Number.isNaN(a) && !Number.isNaN(b) && a !== b) take = b > a;
  else if (rank(next.status) >= 0 && rank(held.status) > rank(next.status)) take = false;
  return take ? { ...held, ...next, pendingKey: undefined, localError: undefined } : held;
}

/**
 * The latest page as fetched, merged with what happened while it was on its way: `live` are the
 * messages of the events that arrived meanwhile (in order), `held` the window on screen. A live
 * message the page already has keeps the later of the two views (the page may have been read
 * before a `delivered`); one newer than the page's newest is added; the sender's messages still
 * being sent (or failed before the server stored them) stay at the end.
 */
export function mergeLatest(page: Chunk, live: Message[], held: Chunk[]): Chunk {
  const msgs = page.messages.slice();
  const newest = msgs.length ? stamp(msgs[msgs.length - 1].createdAt) : -Infinity;
  for (const m of live) {
    const i = msgs.findIndex((x) => x.id === m.id);
    if (i >= 0) msgs[i] = newerOf(msgs[i], m);
    else if (stamp(m.createdAt) >= newest || Number.isNaN(stamp(m.createdAt))) {
      let at = msgs.length;
      while (at > 0 && stamp(msgs[at - 1].createdAt) > stamp(m.createdAt)) at--;
      msgs.splice(at, 0, m);
    }
  }
  const have = new Set(msgs.map((m) => m.id));
  for (const c of held) {
    for (const m of c.messages) {
      if (m.pendingKey && (m.id.startsWith("pending-") || m.localError) && !have.has(m.id)) {
        have.add(m.id);
        msgs.push(m);
      }
    }
  }
  return { ...page, messages: msgs, newer: null };
}

/** The POST answered with `stored` for the pending message with that key. */
export function resolvePending(chunks: Chunk[], key: string, stored: Message): Chunk[] {
  let found = false;
  const out = chunks.map((c) => {
    const has = c.messages.some((m) => m.pendingKey === key || m.id === stored.id);
    if (!has) return c;
    const msgs: Message[] = [];
    for (const m of c.messages) {
      if (m.pendingKey === key || m.id === stored.id) {
        if (found) continue; // the twin: keep one
        found = true;
        // A status the event already moved further (sent → delivered) is kept.
        const keep = m.id === stored.id && rank(m.status) > rank(stored.status) ? m : stored;
        msgs.push({ ...keep, pendingKey: undefined, localError: undefined });
      } else msgs.push(m);
    }
    return { ...c, messages: msgs };
  });
  return found ? out : upsertMessage(chunks, stored, null);
}

/** Marks a pending message failed before the server stored it. */
export function failPending(chunks: Chunk[], key: string, error: string): Chunk[] {
  return chunks.map((c) =>
    c.messages.some((m) => m.pendingKey === key)
      ? { ...c, messages: c.messages.map((m) => (m.pendingKey === key ? { ...m, status: "failed", localError: error } : m)) }
      : c,
  );
}

/** Takes a pending message out (the server refused the request: nothing was sent). */
export function dropPending(chunks: Chunk[], key: string): Chunk[] {
  return chunks.map((c) =>
    c.messages.some((m) => m.pendingKey === key && m.id.startsWith("pending-"))
      ? { ...c, messages: c.messages.filter((m) => !(m.pendingKey === key && m.id.startsWith("pending-"))) }
      : c,
  );
}

function rank(status: string): number {
  return ["pending", "sent", "delivered", "read"].indexOf(status);
}

/** Whether free text may be sent now: WhatsApp's 24-hour customer-service window; the other
 * channels have no window, so they are always open. */
export function windowOpen(c: Conversation, now = Date.now()): boolean {
  if (c.channel && c.channel !== "whatsapp") return true;
  if (!c.windowClosesAt) return false;
  return Date.parse(c.windowClosesAt) > now;
}

/** "12:05" left in the last hour, else null. */
export function countdown(c: Conversation, now = Date.now()): string | null {
  if (!c.windowClosesAt) return null;
  const left = Date.parse(c.windowClosesAt) - now;
  if (left <= 0 || left > 3_600_000) return null;
  const s = Math.floor(left / 1000);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

/** Client-side check of a file against WhatsApp's media rules (mirrors the server's). */
export function checkMedia(type: string, size: number): { kind: string; error: string | null } {
  const MB = 1024 * 1024;
  const mime = (type || "application/octet-stream").toLowerCase();
  const top = mime.split("/")[0];
  const rules: Record<string, [string[], number]> = {
    image: [["image/jpeg", "image/png"], 5 * MB],
    video: [["video/mp4", "video/3gpp"], 16 * MB],
    audio: [["audio/aac", "audio/amr", "audio/mpeg", "audio/mp4", "audio/ogg"], 16 * MB],
  };
  // Images, videos and audio WhatsApp does not take as such are sent as documents? No: the
  // server refuses them; say so here before uploading.
  const kind = rules[top] ? top : "document";
  const [types, max] = rules[kind] ?? [[], 100 * MB];
  if (size === 0) return { kind, error: "The file is empty." };
  if (types.length && !types.includes(mime)) {
    return { kind, error: `WhatsApp does not take ${mime} as ${kind}; use ${types.join(", ")}.` };
  }
  if (size > max) return { kind, error: `A ${kind} may be at most ${max / MB} MB; this file is ${(size / MB).toFixed(1)} MB.` };
  return { kind, error: null };
}

/** A display name for a conversation's customer. */
export function contactName(c: Conversation | undefined | null): string {
  const ct = c?.contact;
  if (!ct) return "Unknown customer";
  return ct.name || ct.profileName || ct.phone || (ct.waId ? "+" + ct.waId : ct.email || "Visitor");
}

export function contactPhone(c: Conversation | undefined | null): string {
  const ct = c?.contact;
  if (!ct) return "";
  return ct.phone || (ct.waId ? "+" + ct.waId : ct.email || "");
}

/** The key the contacts API finds a contact by: its WhatsApp id, else its id. */
export function contactKey(ct: Contact): string {
  return ct.waId ?? ct.id;
}

export const STATUS_LABEL: Record<string, string> = {
  BOT_HANDLING: "Bot",
  HUMAN_HANDLING: "Human",
  OPEN: "Open",
  WAITING_FOR_CUSTOMER: "Waiting",
  CLOSED: "Closed",
};
