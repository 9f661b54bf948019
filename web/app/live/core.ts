// Pure pieces of the live connection: reconnect delays and event de-duplication by cursor.

/** The delay before reconnect attempt `attempt` (0-based): 0.5 s doubling to 15 s, ±20 % jitter. */
export function backoffDelay(attempt: number, random: () => number = Math.random): number {
  const base = Math.min(15_000, 500 * 2 ** Math.max(0, Math.min(attempt, 10)));
  const jittered = base * (0.8 + 0.4 * random());
  return Math.round(Math.min(15_000, Math.max(250, jittered)));
}

/** A frame of the agent WebSocket. */
export interface LiveEvent<T = any> {
  event: string;
  conversationId?: string | null;
  seq?: number;
  cursor?: string;
  data: T;
}

/** Parses a text frame; `null` for anything that is not an event (e.g. `pong`). */
export function parseFrame(text: string): LiveEvent | null {
  if (!text || text[0] !== "{") return null;
  try {
    const v = JSON.parse(text);
    return v && typeof v.event === "string" ? (v as LiveEvent) : null;
  } catch {
    return null;
  }
}

/**
 * Remembers the cursors of the events already applied (a bounded window) and the last one, so a
 * replayed event (resume overlap, duplicate delivery) is never applied twice.
 */
export class CursorLog {
  private seen = new Set<string>();
  private order: string[] = [];
  last: string | null = null;
  constructor(private readonly capacity = 5000) {}

  /** `true` if the event is new (and records it); `false` if it was seen already. */
  accept(cursor: string | undefined | null): boolean {
    if (!cursor) return true;
    if (this.seen.has(cursor)) return false;
    this.seen.add(cursor);
    this.order.push(cursor);
    if (this.order.length > this.capacity) {
      const old = this.order.shift()!;
      this.seen.delete(old);
    }
    this.last = cursor;
    return true;
  }

  reset() {
    this.seen.clear();
    this.order = [];
    this.last = null;
  }
}

/** The socket URL for a page at `loc`. */
export function socketUrl(loc: { protocol: string; host: string }, token: string, since: string | null): string {
  const proto = loc.protocol === "https:" ? "wss:" : "ws:";
  let url = `${proto}//${loc.host}/api/v1/ws?token=${encodeURIComponent(token)}`;
  if (since) url += `&since=${encodeURIComponent(since)}`;
  return url;
}
