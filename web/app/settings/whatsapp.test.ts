// Embedded Signup's session info and the health figures' words.
import { describe, it, expect, vi, afterEach } from "vitest";
import { dailyLimitText, loadFacebookSdk, qualityClass, qualityText, sessionInfoOf, signupLoginOptions } from "./whatsapp";

describe("Embedded Signup session info", () => {
  it("reads the business account and number Meta's dialog posts", () => {
    const data = JSON.stringify({ type: "WA_EMBEDDED_SIGNUP", event: "FINISH", data: { waba_id: "123", phone_number_id: 456 } });
    expect(sessionInfoOf("https://www.facebook.com", data)).toEqual({ wabaId: "123", phoneNumberId: "456" });
    expect(sessionInfoOf("https://business.facebook.com", { type: "WA_EMBEDDED_SIGNUP", event: "FINISH_ONLY_WABA", data: { waba_id: "9" } })).toEqual({ wabaId: "9" });
  });

  it("ignores other origins, cancellations and noise", () => {
    const data = JSON.stringify({ type: "WA_EMBEDDED_SIGNUP", event: "FINISH", data: { waba_id: "1" } });
    expect(sessionInfoOf("https://evil.example", data)).toBeNull();
    expect(sessionInfoOf("https://notfacebook.com", data)).toBeNull();
    expect(sessionInfoOf("https://www.facebook.com", JSON.stringify({ type: "WA_EMBEDDED_SIGNUP", event: "CANCEL" }))).toBeNull();
    expect(sessionInfoOf("https://www.facebook.com", "not json")).toBeNull();
    expect(sessionInfoOf("garbage", data)).toBeNull();
  });

  it("opens the dialog with the organization's configuration and asks for a code", () => {
    expect(signupLoginOptions("777")).toMatchObject({ config_id: "777", response_type: "code", override_default_response_type: true });
  });
});

describe("Meta's SDK", () => {
  afterEach(() => vi.unstubAllGlobals());

  it("says so when the script cannot load", async () => {
    const appended: { onerror?: () => void }[] = [];
    const doc = {
      createElement: () => ({}) as HTMLScriptElement,
      body: { appendChild: (s: { onerror?: () => void }) => appended.push(s) },
    } as unknown as Document;
    vi.stubGlobal("window", {});
    const loading = loadFacebookSdk("1", "v21.0", 10_000, doc);
    appended[0].onerror?.();
    await expect(loading).rejects.toThrow(/could not be loaded/);
  });
});

describe("health words", () => {
  it("reads quality ratings and limits", () => {
    expect([qualityText("GREEN"), qualityText("YELLOW"), qualityText("RED"), qualityText(null)]).toEqual(["High", "Medium", "Low", "Unknown"]);
    expect(qualityClass("RED")).toBe("quality-low");
    expect(dailyLimitText({ perSecond: 80, dailyUniqueLimit: 1000 })).toBe("1,000 customers / 24 h");
    expect(dailyLimitText({ perSecond: 80, dailyUniqueLimit: null })).toBe("unlimited");
  });
});
