// The widget's state as a pure reducer: history pages, optimistic sends, the visitor socket's
// frames (idempotent: merged by message id), agent typing, unread and acks.

export type MessageStatus = "pending" | "sent" | "delivered" | "read" | "failed";

export interface WidgetMessage {
  id: string;
  clientId: string | null;
  direction: "inbound" | "outbound";
  type: "text" | "image" | "document" | "audio" | "video" | "csat";
  text: string | null;
  attachment: { url: string; mime: string; name: string; size: number } | null;
  sender: { name: string; avatarUrl: string | null } | null;
  /** A satisfaction survey's choices (`type: "csat"`; `text` is the question). */
  survey?: { displayType: string; options: { rating: number; label: string }[] } | null;
  status: MessageStatus;
  createdAt: string;
}

export type Frame =
  | { type: "ready"; seq: number | null }
  | { type: "message"; seq: number; message: WidgetMessage }
  | { type: "message.updated"; seq: number; message: WidgetMessage }
  | { type: "typing"; typing: boolean; name?: string | null }
  | { type: "conversation"; seq: number; status: string }
  | { type: "pong" };

export interface State {
  /** Oldest first. A message not yet stored has the id `pending:<clientId>`. */
  messages: WidgetMessage[];
  /** The seq of the last frame applied: the `since` of the next connection. */
  seq: number | null;
  hasMore: boolean;
  agentTyping: { name: string; until: number } | null;
  conversationStatus: string | null;
  /** Whether the chat window is open and the page visible (messages shown are read). */
  seen: boolean;
  /** What this visitor already acknowledged, per message id. */
  acked: Record<string, "delivered" | "read">;
  /** Agent messages that arrived live while the window was closed (they ring). */
  rang: number;
}

export type Action =
  | { kind: "frame"; frame: Frame; now: number }
  | { kind: "history"; messages: WidgetMessage[]; hasMore: boolean }
  | { kind: "pending"; message: WidgetMessage }
  | { kind: "stored"; message: WidgetMessage }
  | { kind: "failed"; clientId: string }
  | { kind: "seen"; seen: boolean }
  | { kind: "acked"; ids: string[]; status: "delivered" | "read" }
  | { kind: "tick"; now: number };

/** How long an agent's "typing" shows without news (a lost "stopped typing" clears itself). */
export const TYPING_TTL = 30_000;

export const initial: State = {
  messages: [],
  seq: null,
  hasMore: false,
  agentTyping: null,
  conversationStatus: null,
  seen: false,
  acked: {},
  rang: 0,
};

const rank: Record<MessageStatus, number> = { failed: -1, pending: 0, sent: 1, delivered: 2, read: 3 };

/** The later of two states of one message: a status never goes back (a late REST answer is older). */
function newer(old: WidgetMessage, next: WidgetMessage): WidgetMessage {
  const status = next.status !== "failed" && rank[old.status] > rank[next.status] ? old.status : next.status;
  return { ...old, ...next, status };
}

/** Inserts or updates `m`, matched by id or (for the visitor's own sends) by client id. */
export function upsert(list: WidgetMessage[], m: WidgetMessage): WidgetMessage[] {
  const i = list.findIndex((x) => x.id === m.id || (!!m.clientId && x.clientId === m.clientId));
  if (i >= 0) {
    const out = list.slice();
    out[i] = newer(list[i], m);
    return out;
  }
  const out = list.slice();
  // Keep time order; a message without a later neighbour goes last (the usual live case).
  let at = out.length;
  while (at > 0 && !out[at - 1].id.startsWith("pending:") && out[at - 1].createdAt > m.createdAt) at--;
  out.splice(at, 0, m);
  return out;
}

export function reduce(s: State, a: Action): State {
  switch (a.kind) {
    case "history": {
      let messages = s.messages;
      for (const m of a.messages) messages = upsert(messages, m);
      return { ...s, messages, hasMore: a.hasMore };
    }
    case "pending":
      return { ...s, messages: upsert(s.messages, a.message) };
    case "stored":
      return { ...s, messages: upsert(s.messages, a.message) };
    case "failed":
      return {
        ...s,
        messages: s.messages.map((m) => (m.clientId === a.clientId && m.id.startsWith("pending:") ? { ...m, status: "failed" } : m)),
      };
    case "seen":
      return { ...s, seen: a.seen, rang: a.seen ? 0 : s.rang };
    case "acked": {
      const acked = { ...s.acked };
      for (const id of a.ids) if (acked[id] !== "read") acked[id] = a.status;
      return { ...s, acked };
    }
    case "tick":
      return s.agentTyping && s.agentTyping.until <= a.now ? { ...s, agentTyping: null } : s;
    case "frame":
      return applyFrame(s, a.frame, a.now);
  }
}

function applyFrame(s: State, f: Frame, now: number): State {
  if (f.type === "pong") return s;
  if (f.type === "ready") {
    // On a first connection the latest seq is the starting point; on a resume the missed frames
    // (seq > since) follow and move it themselves.
    return s.seq == null && typeof f.seq === "number" ? { ...s, seq: f.seq } : s;
  }
  if (f.type === "typing") {
    return { ...s, agentTyping: f.typing ? { name: f.name || "", until: now + TYPING_TTL } : null };
  }
  // Applying a frame twice (a resume overlap) changes nothing: messages merge by id and a status
  // never goes back. The seq is the last frame's, the socket's own order (a next conversation of
  // the same visitor may count afresh, so it is not a maximum).
  const seq = typeof f.seq === "number" ? f.seq : s.seq;
  if (f.type === "conversation") return { ...s, seq, conversationStatus: f.status };
  const m = f.message;
  const known = s.messages.some((x) => x.id === m.id);
  const messages = upsert(s.messages, m);
  const fromAgent = f.type === "message" && m.direction === "outbound" && !known;
  return {
    ...s,
    seq,
    messages,
    // The agent's message answers their typing.
    agentTyping: fromAgent ? null : s.agentTyping,
    rang: fromAgent && !s.seen ? s.rang + 1 : s.rang,
  };
}

/** Agent messages the visitor has not read yet (the badge on the bubble). */
export function unreadCount(s: State): number {
  return s.messages.filter((m) => m.direction === "outbound" && m.status !== "read" && s.acked[m.id] !== "read").length;
}

/**
 * The acks to send now: every agent message shown to this visitor is delivered; while the window
 * is open and visible they are read too. Each id is acknowledged once per status.
 */
export function pendingAcks(s: State): { delivered: string[]; read: string[] } {
  const delivered: string[] = [];
  const read: string[] = [];
  for (const m of s.messages) {
    if (m.direction !== "outbound" || m.id.startsWith("pending:")) continue;
    const done = s.acked[m.id];
    if (s.seen) {
      if (m.status !== "read" && done !== "read") read.push(m.id);
    } else if (m.status !== "delivered" && m.status !== "read" && !done) {
      delivered.push(m.id);
    }
  }
  return { delivered, read };
}

/** The agent shown in the header: the sender of the latest agent message. */
export function currentAgent(s: State): { name: string; avatarUrl: string | null } | null {
  for (let i = s.messages.length - 1; i >= 0; i--) {
    const m = s.messages[i];
    if (m.direction === "outbound" && m.sender) return m.sender;
  }
  return null;
}
