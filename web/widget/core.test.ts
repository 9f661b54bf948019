import { describe, it, expect } from "vitest";
import { TokenStore, backoffDelay, mediaUrl, originOf, parentOrigin, sessionBody, socketUrl, tokenKey, trustedMessage, type KeyValue } from "./core";

class Memory implements KeyValue {
  map = new Map<string, string>();
  getItem(k: string) { return this.map.get(k) ?? null; }
  setItem(k: string, v: string) { this.map.set(k, v); }
  removeItem(k: string) { this.map.delete(k); }
}

describe("trustedMessage", () => {
  const frame = {};
  const ok = { origin: "https://chat.example.com", source: frame, data: { cx: "ready" } };
  it("accepts the expected window at exactly the expected origin", () => {
    expect(trustedMessage(ok, "https://chat.example.com", frame)).toBe(true);
  });
  it("refuses another origin, a look-alike, another port or scheme", () => {
    for (const origin of ["https://evil.example", "https://chat.example.com.evil.example", "https://chat.example.com:8443", "http://chat.example.com", "null"]) {
      expect(trustedMessage({ ...ok, origin }, "https://chat.example.com", frame)).toBe(false);
    }
  });
  it("refuses another window at the right origin", () => {
    expect(trustedMessage({ ...ok, source: {} }, "https://chat.example.com", frame)).toBe(false);
  });
  it("never trusts a wildcard or a missing expectation", () => {
    expect(trustedMessage({ ...ok, origin: "*" }, "*", frame)).toBe(false);
    expect(trustedMessage(ok, null, frame)).toBe(false);
    expect(trustedMessage({ ...ok, origin: "null" }, "null", frame)).toBe(false);
  });
  it("ignores messages that are not the widget's", () => {
    expect(trustedMessage({ ...ok, data: "hello" }, "https://chat.example.com", frame)).toBe(false);
    expect(trustedMessage({ ...ok, data: { type: "x" } }, "https://chat.example.com", frame)).toBe(false);
    expect(trustedMessage({ ...ok, data: null }, "https://chat.example.com", frame)).toBe(false);
  });
});

describe("parentOrigin", () => {
  it("takes the loader's origin parameter as an origin", () => {
    expect(parentOrigin("https://shop.example/path?q", undefined)).toBe("https://shop.example");
    expect(originOf("javascript:alert(1)")).toBe(null);
    expect(parentOrigin(null, undefined)).toBe(null);
    expect(parentOrigin(null, undefined, "https://shop.example/cart")).toBe("https://shop.example");
  });
  it("refuses a claim the browser's ancestor list contradicts", () => {
    expect(parentOrigin("https://shop.example", ["https://evil.example"])).toBe(null);
    expect(parentOrigin("https://shop.example", ["https://shop.example"])).toBe("https://shop.example");
  });
});

describe("TokenStore", () => {
  it("keeps one visitor token per website token under cx-widget:<websiteToken>", () => {
    const mem = new Memory();
    const a = new TokenStore(mem, "site-a");
    const b = new TokenStore(mem, "site-b");
    a.set("visitor-1");
    expect(mem.getItem(tokenKey("site-a"))).toBe("visitor-1");
    expect(tokenKey("site-a")).toBe("cx-widget:site-a");
    expect(b.get()).toBe(null);
    b.set("visitor-2");
    expect(a.get()).toBe("visitor-1");
    expect(new TokenStore(mem, "site-a").get()).toBe("visitor-1");
    a.clear();
    expect(a.get()).toBe(null);
    expect(b.get()).toBe("visitor-2");
  });
  it("survives a storage that throws or is missing", () => {
    const broken: KeyValue = { getItem: () => { throw new Error("denied"); }, setItem: () => { throw new Error("full"); }, removeItem: () => { throw new Error("x"); } };
    const s = new TokenStore(broken, "site");
    expect(() => s.set("t")).not.toThrow();
    expect(s.get()).toBe(null);
    expect(new TokenStore(null, "site").get()).toBe(null);
  });
});

describe("urls and bodies", () => {
  it("resumes the socket with since", () => {
    expect(socketUrl({ protocol: "https:", host: "h.example" }, "t k", null)).toBe("wss://h.example/widget/ws?visitorToken=t%20k");
    expect(socketUrl({ protocol: "http:", host: "127.0.0.1:9" }, "t", 0)).toBe("ws://127.0.0.1:9/widget/ws?visitorToken=t&since=0");
    expect(socketUrl({ protocol: "http:", host: "h" }, "t", 42)).toContain("&since=42");
  });
  it("sends the stored token and only the identity fields that are set", () => {
    expect(sessionBody("w", null, null)).toEqual({ websiteToken: "w" });
    expect(sessionBody("w", "v", { identifier: "u1", identifierHash: "ab", name: " ", email: "a@b.c" })).toEqual({
      websiteToken: "w", visitorToken: "v", identifier: "u1", identifierHash: "ab", email: "a@b.c",
    });
  });
  it("backs off to at most 15 s", () => {
    expect(backoffDelay(0, () => 0.5)).toBe(500);
    expect(backoffDelay(3, () => 0.5)).toBe(4000);
    expect(backoffDelay(30, () => 1)).toBe(15000);
  });
});

describe("mediaUrl", () => {
  it("adds the visitor token to the widget's media URLs only", () => {
    expect(mediaUrl("/widget/media/m1", "v t")).toBe("/widget/media/m1?visitorToken=v%20t");
    expect(mediaUrl("/widget/media/m1?x=1", "v")).toBe("/widget/media/m1?x=1&visitorToken=v");
    expect(mediaUrl("/widget/media/m1?visitorToken=v", "v")).toBe("/widget/media/m1?visitorToken=v");
    expect(mediaUrl("https://cdn.example/a.png", "v")).toBe("https://cdn.example/a.png");
    expect(mediaUrl("/widget/media/m1", null)).toBe("/widget/media/m1");
  });
});
