import { describe, it, expect } from "vitest";
import {
  type Conversation, type Message, type Chunk, DEFAULT_FILTER, matches, compare, place, mergeConversation, appendPage,
  listQuery, titleFor, attentionCount, upsertMessage, resolvePending, failPending, dropPending, trimWindow, atLatest, withoutKnown,
  windowOpen, countdown, checkMedia, wantsAttention, updateMessage, mergeLatest, newerOf,
} from "./model";

function conv(id: string, p: Partial<Conversation> = {}): Conversation {
  return {
    id, inboxId: "i", status: "OPEN", assignedTo: null, unreadCount: 0, seq: 1, awaitingReply: false,
    lastMessageAt: "2026-01-01T10:00:00Z", lastInboundAt: "2026-01-01T10:00:00Z",
    createdAt: "2026-01-01T00:00:00Z", updatedAt: "2026-01-01T00:00:00Z", ...p,
  };
}
function msg(id: string, p: Partial<Message> = {}): Message {
  return { id, conversationId: "c", direction: "inbound", type: "text", text: id, status: "received", createdAt: `2026-01-01T10:00:${id.padStart(2, "0").slice(-2)}Z`, ...p };
}

describe("list filters", () => {
  const all = { ...DEFAULT_FILTER, tab: "all" as const };
  it("tabs: mine, unassigned, all", () => {
    expect(matches(conv("a", { assignedTo: "me" }), { ...all, tab: "mine" }, "me")).toBe(true);
    expect(matches(conv("a", { assignedTo: "u2" }), { ...all, tab: "mine" }, "me")).toBe(false);
    expect(matches(conv("a"), { ...all, tab: "unassigned" }, "me")).toBe(true);
    expect(matches(conv("a", { assignedTo: "u2" }), { ...all, tab: "unassigned" }, "me")).toBe(false);
    expect(matches(conv("a", { assignedTo: "u2" }), all, "me")).toBe(true);
  });
  it("active hides closed; status, team and tag filters", () => {
    expect(matches(conv("a", { status: "CLOSED" }), all, null)).toBe(false);
    expect(matches(conv("a", { status: "CLOSED" }), { ...all, status: "" }, null)).toBe(true);
    expect(matches(conv("a"), { ...all, status: "BOT_HANDLING" }, null)).toBe(false);
    expect(matches(conv("a", { teamId: "t" }), { ...all, teamId: "t" }, null)).toBe(true);
    expect(matches(conv("a"), { ...all, teamId: "t" }, null)).toBe(false);
    expect(matches(conv("a", { tags: [{ id: "x", name: "x", color: "red" }] }), { ...all, tagId: "x" }, null)).toBe(true);
    expect(matches(conv("a"), { ...all, tagId: "x" }, null)).toBe(false);
  });
  it("search is the server's call", () => {
    expect(matches(conv("a"), { ...all, search: "bob" }, null)).toBe(null);
  });
  it("query words", () => {
    expect(listQuery({ ...DEFAULT_FILTER, tab: "mine" })).toEqual({ assignedTo: "me", status: "BOT_HANDLING,HUMAN_HANDLING,OPEN,WAITING_FOR_CUSTOMER" });
    expect(listQuery({ ...DEFAULT_FILTER, status: "", tagId: "t1", teamId: "tm", search: " x " }, "unassigned")).toEqual({ assignedTo: "unassigned", tags: "t1", teamId: "tm", search: "x" });
  });
});

describe("ordering", () => {
  it("newest: latest message first, then id descending", () => {
    const a = conv("a", { lastMessageAt: "2026-01-01T10:00:00Z" });
    const b = conv("b", { lastMessageAt: "2026-01-01T11:00:00Z" });
    const c = conv("c", { lastMessageAt: "2026-01-01T10:00:00Z" });
    expect([a, b, c].sort((x, y) => compare(x, y, "newest")).map((x) => x.id)).toEqual(["b", "c", "a"]);
  });
  it("waiting_longest: oldest customer message first", () => {
    const a = conv("a", { lastInboundAt: "2026-01-01T12:00:00Z" });
    const b = conv("b", { lastInboundAt: "2026-01-01T09:00:00Z" });
    expect([a, b].sort((x, y) => compare(x, y, "waiting_longest")).map((x) => x.id)).toEqual(["b", "a"]);
  });
});

describe("place", () => {
  const f = { ...DEFAULT_FILTER, tab: "all" as const };
  const store = new Map<string, Conversation>();
  const put = (c: Conversation) => (store.set(c.id, c), c);
  put(conv("a", { lastMessageAt: "2026-01-01T12:00:00Z" }));
  put(conv("b", { lastMessageAt: "2026-01-01T11:00:00Z" }));
  put(conv("c", { lastMessageAt: "2026-01-01T10:00:00Z" }));
  const get = (id: string) => store.get(id);
  it("a new message moves the row to the top", () => {
    const c = put(conv("c", { lastMessageAt: "2026-01-01T13:00:00Z" }));
    expect(place(["a", "b", "c"], get, c, f, null, false)).toEqual(["c", "a", "b"]);
    put(conv("c", { lastMessageAt: "2026-01-01T10:00:00Z" }));
  });
  it("a new matching conversation appears in its place", () => {
    const d = put(conv("d", { lastMessageAt: "2026-01-01T11:30:00Z" }));
    expect(place(["a", "b", "c"], get, d, f, null, false)).toEqual(["a", "d", "b", "c"]);
  });
  it("a row that no longer matches leaves", () => {
    const b = put(conv("b", { lastMessageAt: "2026-01-01T11:00:00Z", status: "CLOSED" }));
    expect(place(["a", "b", "c"], get, b, f, null, false)).toEqual(["a", "c"]);
    put(conv("b", { lastMessageAt: "2026-01-01T11:00:00Z" }));
  });
  it("a row past the loaded pages waits for its page", () => {
    const e = put(conv("e", { lastMessageAt: "2026-01-01T01:00:00Z" }));
    expect(place(["a", "b", "c"], get, e, f, null, true)).toEqual(["a", "b", "c"]);
    expect(place(["a", "b", "c"], get, e, f, null, false)).toEqual(["a", "b", "c", "e"]);
  });
  it("an unchanged position keeps the same array", () => {
    const ids = ["a", "b", "c"];
    expect(place(ids, get, store.get("b")!, f, null, false)).toBe(ids);
  });
  it("search keeps rows it has but does not add new ones", () => {
    const s = { ...f, search: "x" };
    const d = store.get("d")!;
    expect(place(["a", "b"], get, d, s, null, false)).toEqual(["a", "b"]);
    expect(place(["a", "b"], get, store.get("a")!, s, null, false)).toEqual(["a", "b"]);
  });
  it("pages append without duplicates", () => {
    expect(appendPage(["a", "b"], ["b", "c"])).toEqual(["a", "b", "c"]);
  });
});

describe("mergeConversation", () => {
  it("an older seq never wins; missing tags and contact are kept", () => {
    const old = conv("a", { seq: 5, tags: [{ id: "t", name: "t", color: "red" }], contact: { id: "k", waId: "1" } });
    expect(mergeConversation(old, conv("a", { seq: 4, status: "CLOSED" })).status).toBe("OPEN");
    const next = mergeConversation(old, conv("a", { seq: 6, status: "CLOSED" }));
    expect(next.status).toBe("CLOSED");
    expect(next.tags).toHaveLength(1);
    expect(next.contact?.id).toBe("k");
    expect(mergeConversation(old, conv("a", { seq: 7, tags: [] })).tags).toEqual([]);
  });
});

describe("unread and attention", () => {
  it("title", () => {
    expect(titleFor(0)).toBe("cx-inbox");
    expect(titleFor(3)).toBe("(3) cx-inbox");
    expect(attentionCount(2, 1)).toBe(3);
  });
  it("mine and unassigned draw attention, others' do not", () => {
    expect(wantsAttention(conv("a"), "me")).toBe(true);
    expect(wantsAttention(conv("a", { assignedTo: "me" }), "me")).toBe(true);
    expect(wantsAttention(conv("a", { assignedTo: "u2" }), "me")).toBe(false);
  });
});

describe("thread window", () => {
  const chunk = (ids: string[], older: string | null = null, newer: string | null = null): Chunk => ({ messages: ids.map((i) => msg(i)), older, newer });
  it("appends live messages only at the latest", () => {
    const at = [chunk(["1", "2"])];
    expect(upsertMessage(at, msg("3"), null)[0].messages.map((m) => m.id)).toEqual(["1", "2", "3"]);
    const away = [chunk(["1", "2"], null, "cur")];
    expect(upsertMessage(away, msg("3"), null)).toBe(away);
  });
  it("updates a message in place (status ticks)", () => {
    const at = [chunk(["1", "2"])];
    const out = upsertMessage(at, msg("1", { status: "read" }), null);
    expect(out[0].messages[0].status).toBe("read");
    expect(out[0].messages).toHaveLength(2);
  });
  it("the stored message replaces the pending one, whichever comes first", () => {
    const pending = msg("pending-k", { direction: "outbound", status: "pending", pendingKey: "k", text: "hi", senderId: "me", createdAt: "2026-01-01T10:00:59Z" });
    const stored = msg("m9", { direction: "outbound", status: "sent", text: "hi", senderId: "me" });
    // POST answer first
    let w: Chunk[] = [{ messages: [msg("1"), pending], older: null, newer: null }];
    w = resolvePending(w, "k", stored);
    expect(w[0].messages.map((m) => m.id)).toEqual(["1", "m9"]);
    // then the event: no duplicate
    w = upsertMessage(w, { ...stored, status: "delivered" }, "me");
    expect(w[0].messages.map((m) => m.id)).toEqual(["1", "m9"]);
    expect(w[0].messages[1].status).toBe("delivered");
    // event first
    let v: Chunk[] = [{ messages: [msg("1"), pending], older: null, newer: null }];
    v = upsertMessage(v, { ...stored, status: "pending" }, "me");
    expect(v[0].messages.map((m) => m.id)).toEqual(["1", "m9"]);
    v = resolvePending(v, "k", stored);
    expect(v[0].messages.map((m) => m.id)).toEqual(["1", "m9"]);
    expect(v[0].messages[1].status).toBe("sent");
    expect(v[0].messages[1].pendingKey).toBeUndefined();
  });
  it("a later status from the event is not undone by the POST answer", () => {
    const stored = msg("m9", { direction: "outbound", status: "sent", senderId: "me" });
    const w = [{ messages: [{ ...stored, status: "delivered", pendingKey: "k" }], older: null, newer: null }];
    expect(resolvePending(w, "k", stored)[0].messages[0].status).toBe("delivered");
  });
  it("a failed POST marks the pending message failed", () => {
    const w = [{ messages: [msg("pending-k", { pendingKey: "k", status: "pending" })], older: null, newer: null }];
    const out = failPending(w, "k", "409");
    expect(out[0].messages[0].status).toBe("failed");
    expect(out[0].messages[0].localError).toBe("409");
  });
  it("a refused request takes its pending message out, and only it", () => {
    const stored = msg("m9", { direction: "outbound", status: "sent", pendingKey: "k" });
    const w = [{ messages: [msg("1"), msg("pending-k", { pendingKey: "k", status: "pending" }), msg("pending-j", { pendingKey: "j" })], older: null, newer: null }];
    expect(dropPending(w, "k")[0].messages.map((m) => m.id)).toEqual(["1", "pending-j"]);
    // The stored copy (an event came first) is a sent message: it stays.
    expect(dropPending([{ messages: [stored], older: null, newer: null }], "k")[0].messages.length).toBe(1);
  });
  it("keeps at most the window, dropping whole pages from the far end", () => {
    const big = (n: number, tag: string) => chunk(Array.from({ length: n }, (_, i) => `${tag}${i}`));
    const chunks = [big(100, "a"), big(100, "b"), big(100, "c"), big(100, "d")];
    expect(trimWindow(chunks, "end", 300).length).toBe(3);
    expect(trimWindow(chunks, "end", 300)[0].messages[0].id).toBe("a0");
    expect(trimWindow(chunks, "start", 300)[0].messages[0].id).toBe("b0");
    expect(trimWindow([big(500, "x")], "end", 300).length).toBe(1);
  });
  it("knows when it holds the latest and skips known messages", () => {
    expect(atLatest([chunk(["1"], "o", null)])).toBe(true);
    expect(atLatest([chunk(["1"], null, "n")])).toBe(false);
    expect(withoutKnown([chunk(["1", "2"])], [msg("2"), msg("3")]).map((m) => m.id)).toEqual(["3"]);
  });
});

describe("24-hour window and media rules", () => {
  const now = Date.parse("2026-01-02T10:00:00Z");
  it("open, closed, none", () => {
    expect(windowOpen(conv("a", { windowClosesAt: "2026-01-02T11:00:00Z" }), now)).toBe(true);
    expect(windowOpen(conv("a", { windowClosesAt: "2026-01-02T09:00:00Z" }), now)).toBe(false);
    expect(windowOpen(conv("a", { windowClosesAt: null }), now)).toBe(false);
  });
  it("applies to WhatsApp only: live chat and API conversations are always open", () => {
    expect(windowOpen(conv("a", { channel: "whatsapp", windowClosesAt: null }), now)).toBe(false);
    expect(windowOpen(conv("a", { channel: "whatsapp", windowClosesAt: "2026-01-02T09:00:00Z" }), now)).toBe(false);
    expect(windowOpen(conv("a", { channel: "livechat", windowClosesAt: null }), now)).toBe(true);
    expect(windowOpen(conv("a", { channel: "api", windowClosesAt: null }), now)).toBe(true);
    expect(countdown(conv("a", { channel: "livechat", windowClosesAt: null }), now)).toBe(null);
  });
  it("counts down in the last hour only", () => {
    expect(countdown(conv("a", { windowClosesAt: "2026-01-02T10:30:05Z" }), now)).toBe("30:05");
    expect(countdown(conv("a", { windowClosesAt: "2026-01-02T12:00:00Z" }), now)).toBe(null);
  });
  it("checks type and size before uploading", () => {
    expect(checkMedia("image/png", 1000)).toEqual({ kind: "image", error: null });
    expect(checkMedia("image/webp", 1000).error).toMatch(/does not take/);
    expect(checkMedia("image/jpeg", 6 * 1024 * 1024).error).toMatch(/at most 5 MB/);
    expect(checkMedia("application/pdf", 2000).kind).toBe("document");
    expect(checkMedia("video/mp4", 17 * 1024 * 1024).error).toMatch(/16 MB/);
    expect(checkMedia("", 0).error).toMatch(/empty/);
  });
});

describe("live changes against a loading or partial window", () => {
  it("a status update for a message outside the window is not added to it", () => {
    const chunks: Chunk[] = [{ messages: [msg("10"), msg("11")], older: "c", newer: null }];
    const out = updateMessage(chunks, msg("02", { status: "read", direction: "outbound" }));
    expect(out).toBe(chunks);
    const held = updateMessage(chunks, msg("11", { status: "read", updatedAt: "2026-01-01T10:01:00Z" }));
    expect(held[0].messages[1].status).toBe("read");
    // upsert (message.created) still appends at the latest
    expect(upsertMessage(chunks, msg("12"), null)[0].messages.map((m) => m.id)).toEqual(["10", "11", "12"]);
  });

  it("the later view of a message wins, by updatedAt with sub-millisecond digits, else by status", () => {
    const a = msg("1", { status: "delivered", updatedAt: "2026-01-01T10:00:00.1234567Z" });
    const b = msg("1", { status: "sent", updatedAt: "2026-01-01T10:00:00.1234Z" });
    expect(newerOf(a, b).status).toBe("delivered");
    expect(newerOf(b, a).status).toBe("delivered");
    expect(newerOf(msg("1", { status: "read" }), msg("1", { status: "sent" })).status).toBe("read");
    expect(newerOf(msg("1", { status: "sent" }), msg("1", { status: "failed" })).status).toBe("failed");
  });

  it("the latest page keeps what arrived while it loaded", () => {
    const page: Chunk = { messages: [msg("01"), msg("02", { direction: "outbound", status: "sent", updatedAt: "2026-01-01T10:00:02Z" })], older: "o", newer: null };
    const live = [
      msg("02", { direction: "outbound", status: "delivered", updatedAt: "2026-01-01T10:00:05Z" }), // read before this
      msg("03"), // stored after the page was read
      msg("00", { status: "read", direction: "outbound" }), // an older one's update: not ours to place
    ];
    const pending = msg("pending-k", { direction: "outbound", status: "pending", pendingKey: "k", createdAt: "2026-01-01T09:00:00Z" });
    const held: Chunk[] = [{ messages: [msg("01"), pending], older: null, newer: null }];
    const out = mergeLatest(page, live, held);
    expect(out.messages.map((m) => m.id)).toEqual(["01", "02", "03", "pending-k"]);
    expect(out.messages[1].status).toBe("delivered");
    expect(out.older).toBe("o");
    expect(out.newer).toBe(null);
  });
});
