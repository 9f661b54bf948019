import { describe, it, expect } from "vitest";
import { backoffDelay, CursorLog, parseFrame, socketUrl } from "./core";

describe("backoffDelay", () => {
  it("starts near 0.5 s and doubles", () => {
    const mid = () => 0.5;
    expect(backoffDelay(0, mid)).toBe(500);
    expect(backoffDelay(1, mid)).toBe(1000);
    expect(backoffDelay(2, mid)).toBe(2000);
    expect(backoffDelay(4, mid)).toBe(8000);
  });
  it("never exceeds 15 s, even with jitter and many attempts", () => {
    for (const n of [5, 6, 10, 50, 1000]) {
      expect(backoffDelay(n, () => 0.999)).toBeLessThanOrEqual(15_000);
      expect(backoffDelay(n, () => 0.5)).toBe(15_000);
    }
  });
  it("jitters within ±20 %", () => {
    expect(backoffDelay(1, () => 0)).toBe(800);
    expect(backoffDelay(1, () => 1)).toBe(1200);
  });
});

describe("CursorLog", () => {
  it("accepts each cursor once and keeps the last", () => {
    const log = new CursorLog();
    expect(log.accept("ev1.1")).toBe(true);
    expect(log.accept("ev1.2")).toBe(true);
    expect(log.accept("ev1.1")).toBe(false);
    expect(log.last).toBe("ev1.2");
  });
  it("a replayed event does not move the last cursor back", () => {
    const log = new CursorLog();
    log.accept("a");
    log.accept("b");
    log.accept("a");
    expect(log.last).toBe("b");
  });
  it("events without a cursor pass", () => {
    const log = new CursorLog();
    expect(log.accept(undefined)).toBe(true);
    expect(log.accept(undefined)).toBe(true);
    expect(log.last).toBe(null);
  });
  it("forgets the oldest beyond its capacity, and resets", () => {
    const log = new CursorLog(2);
    log.accept("a");
    log.accept("b");
    log.accept("c");
    expect(log.accept("b")).toBe(false);
    expect(log.accept("a")).toBe(true);
    log.reset();
    expect(log.last).toBe(null);
    expect(log.accept("c")).toBe(true);
  });
});

describe("frames and urls", () => {
  it("parses events and ignores pong", () => {
    expect(parseFrame("pong")).toBe(null);
    expect(parseFrame("{bad")).toBe(null);
    expect(parseFrame('{"x":1}')).toBe(null);
    expect(parseFrame('{"event":"message.created","cursor":"c","data":{}}')?.event).toBe("message.created");
  });
  it("builds ws/wss urls with since", () => {
    expect(socketUrl({ protocol: "http:", host: "h:1" }, "t k", null)).toBe("ws://h:1/api/v1/ws?token=t%20k");
    expect(socketUrl({ protocol: "https:", host: "h" }, "t", "ev1.2")).toBe("wss://h/api/v1/ws?token=t&since=ev1.2");
  });
});
