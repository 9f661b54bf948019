import { describe, it, expect } from "vitest";
import { currentAgent, initial, pendingAcks, reduce, unreadCount, TYPING_TTL, type Action, type State, type WidgetMessage } from "./store";

let n = 0;
function msg(over: Partial<WidgetMessage> = {}): WidgetMessage {
  n++;
  return {
    id: `m${n}`, clientId: null, direction: "outbound", type: "text", text: `text ${n}`, attachment: null,
    sender: { name: "Alex Agent", avatarUrl: null }, status: "sent", createdAt: `2026-12-07T10:00:${String(n % 60).padStart(2, "0")}Z`,
    ...over,
  };
}
const run = (s: State, ...actions: Action[]) => actions.reduce(reduce, s);
const frame = (f: Extract<Action, { kind: "frame" }>["frame"], now = 0): Action => ({ kind: "frame", frame: f, now });

describe("the widget store", () => {
  it("starts its seq at ready and follows the frames", () => {
    let s = run(initial, frame({ type: "ready", seq: 7 }));
    expect(s.seq).toBe(7);
    const m = msg();
    s = run(s, frame({ type: "message", seq: 8, message: m }));
    expect(s.seq).toBe(8);
    expect(s.messages.map((x) => x.id)).toEqual([m.id]);
    // A resume's ready does not move the cursor back: the missed frames move it.
    s = run(s, frame({ type: "ready", seq: 20 }));
    expect(s.seq).toBe(8);
  });

  it("applies a replayed frame once (resume overlap)", () => {
    const m = msg();
    const f = frame({ type: "message", seq: 3, message: m });
    const s = run(initial, f, f, frame({ type: "message.updated", seq: 4, message: { ...m, status: "read" } }), f);
    expect(s.messages).toHaveLength(1);
    expect(s.messages[0].status).toBe("read");
  });

  it("replaces the optimistic send by the stored message, whichever of REST and socket comes first", () => {
    const pending = msg({ id: "pending:c1", clientId: "c1", direction: "inbound", sender: null, status: "pending" });
    const stored = { ...pending, id: "m-stored", status: "sent" as const };
    const viaSocket = run(initial, { kind: "pending", message: pending }, frame({ type: "message", seq: 1, message: stored }), { kind: "stored", message: stored });
    const viaRest = run(initial, { kind: "pending", message: pending }, { kind: "stored", message: stored }, frame({ type: "message", seq: 1, message: stored }));
    for (const s of [viaSocket, viaRest]) {
      expect(s.messages.map((m) => [m.id, m.status])).toEqual([["m-stored", "sent"]]);
    }
  });

  it("never moves a status back (a late REST answer after a delivered update)", () => {
    const m = msg({ clientId: "c2", direction: "inbound", sender: null });
    const s = run(initial, frame({ type: "message.updated", seq: 2, message: { ...m, status: "delivered" } }), { kind: "stored", message: { ...m, status: "sent" } });
    expect(s.messages[0].status).toBe("delivered");
  });

  it("marks a failed send and keeps it for a retry", () => {
    const p = msg({ id: "pending:c3", clientId: "c3", direction: "inbound", status: "pending" });
    const s = run(initial, { kind: "pending", message: p }, { kind: "failed", clientId: "c3" });
    expect(s.messages[0].status).toBe("failed");
    const again = run(s, { kind: "pending", message: p }, { kind: "stored", message: { ...p, id: "m9", status: "sent" } });
    expect(again.messages.map((m) => [m.id, m.status])).toEqual([["m9", "sent"]]);
  });

  it("keeps history in time order with earlier pages before", () => {
    const [a, b, c] = [msg(), msg(), msg()];
    const s = run(initial, { kind: "history", messages: [b, c], hasMore: true }, { kind: "history", messages: [a], hasMore: false });
    expect(s.messages.map((m) => m.id)).toEqual([a.id, b.id, c.id]);
    expect(s.hasMore).toBe(false);
  });

  it("shows agent typing until they stop, send, or 30 s pass", () => {
    let s = run(initial, frame({ type: "typing", typing: true, name: "Alex" }, 1000));
    expect(s.agentTyping?.name).toBe("Alex");
    expect(run(s, frame({ type: "typing", typing: false })).agentTyping).toBe(null);
    expect(run(s, frame({ type: "message", seq: 1, message: msg() })).agentTyping).toBe(null);
    expect(run(s, { kind: "tick", now: 1000 + TYPING_TTL - 1 }).agentTyping).not.toBe(null);
    s = run(s, { kind: "tick", now: 1000 + TYPING_TTL });
    expect(s.agentTyping).toBe(null);
  });

  it("counts unread agent messages and rings for live ones while the window is closed", () => {
    const [a, b] = [msg(), msg()];
    let s = run(initial, frame({ type: "message", seq: 1, message: a }), frame({ type: "message", seq: 2, message: b }));
    expect(unreadCount(s)).toBe(2);
    expect(s.rang).toBe(2);
    s = run(s, frame({ type: "message", seq: 3, message: msg({ direction: "inbound", sender: null }) }));
    expect(s.rang).toBe(2);
    s = run(s, { kind: "seen", seen: true });
    expect(s.rang).toBe(0);
    s = run(s, frame({ type: "message", seq: 4, message: msg() }));
    expect(s.rang).toBe(0);
  });

  it("acks agent messages delivered when shown closed and read when seen, each once", () => {
    const a = msg();
    let s = run(initial, frame({ type: "message", seq: 1, message: a }));
    expect(pendingAcks(s)).toEqual({ delivered: [a.id], read: [] });
    s = run(s, { kind: "acked", ids: [a.id], status: "delivered" });
    expect(pendingAcks(s)).toEqual({ delivered: [], read: [] });
    s = run(s, { kind: "seen", seen: true });
    expect(pendingAcks(s)).toEqual({ delivered: [], read: [a.id] });
    s = run(s, { kind: "acked", ids: [a.id], status: "read" });
    expect(pendingAcks(s)).toEqual({ delivered: [], read: [] });
    expect(unreadCount(s)).toBe(0);
    // The visitor's own messages are never acked.
    s = run(s, frame({ type: "message", seq: 2, message: msg({ direction: "inbound", sender: null }) }));
    expect(pendingAcks(s)).toEqual({ delivered: [], read: [] });
  });

  it("names the agent of the latest reply and applies conversation status", () => {
    let s = run(initial, frame({ type: "message", seq: 1, message: msg({ sender: { name: "Bot", avatarUrl: null } }) }));
    s = run(s, frame({ type: "message", seq: 2, message: msg({ sender: { name: "Alex Agent", avatarUrl: "/a.png" } }) }));
    expect(currentAgent(s)).toEqual({ name: "Alex Agent", avatarUrl: "/a.png" });
    s = run(s, frame({ type: "conversation", seq: 3, status: "resolved" }));
    expect(s.conversationStatus).toBe("resolved");
    expect(s.seq).toBe(3);
  });
});
