import { describe, expect, it } from "vitest";
import {
  apiCreateBody,
  channelLabel,
  csatBody,
  csatHeadline,
  csatValues,
  embedSnippet,
  livechatCreateBody,
  parseList,
  scheduleField,
  widgetBody,
  widgetValues,
} from "./inboxes";

describe("embedSnippet", () => {
  it("is the widget's script tag with the website token", () => {
    expect(embedSnippet("https://cx.example.com", "tok_123")).toBe(
      '<script src="https://cx.example.com/widget.js" data-token="tok_123" async></script>',
    );
  });
  it("drops a trailing slash of the origin", () => {
    expect(embedSnippet("http://localhost:8080/", "t")).toBe('<script src="http://localhost:8080/widget.js" data-token="t" async></script>');
  });
});

describe("parseList", () => {
  it("splits on lines and commas, trims, drops blanks and repeats", () => {
    expect(parseList(" https://a.example\nhttps://b.example, https://a.example,,\n ")).toEqual(["https://a.example", "https://b.example"]);
    expect(parseList("")).toEqual([]);
  });
});

describe("channelLabel", () => {
  it("names the channels", () => {
    expect(channelLabel("livechat")).toBe("Website chat");
    expect(channelLabel("api")).toBe("API");
    expect(channelLabel("whatsapp")).toBe("WhatsApp");
    expect(channelLabel("email")).toBe("email");
  });
});

describe("create bodies", () => {
  it("a website chat inbox sends its widget, origins, greeting and enforcement", () => {
    const body = livechatCreateBody({
      name: " Site ",
      websiteUrl: "https://shop.example",
      widgetColor: "#112233",
      welcomeTitle: "Hi",
      welcomeTagline: "",
      allowedOrigins: "https://shop.example\nhttps://www.shop.example",
      greetingEnabled: true,
      greetingMessage: " Welcome! ",
      hmacMandatory: false,
    });
    expect(body).toEqual({
      channel: "livechat",
      name: "Site",
      widgetSettings: { websiteUrl: "https://shop.example", widgetColor: "#112233", welcomeTitle: "Hi" },
      allowedOrigins: ["https://shop.example", "https://www.shop.example"],
      greetingEnabled: true,
      greetingMessage: "Welcome!",
      hmacMandatory: false,
    });
  });
  it("a greeting turned off sends no message", () => {
    const body = livechatCreateBody({ ...widgetValues(null), name: "x", allowedOrigins: "", greetingEnabled: false, greetingMessage: "kept", hmacMandatory: true });
    expect(body.greetingMessage).toBeNull();
    expect(body.hmacMandatory).toBe(true);
  });
  it("an API inbox sends its webhook URL, or null", () => {
    expect(apiCreateBody({ name: "Shop", webhookUrl: " https://hooks.example/cx " })).toEqual({ channel: "api", name: "Shop", webhookUrl: "https://hooks.example/cx" });
    expect(apiCreateBody({ name: "Shop", webhookUrl: "" }).webhookUrl).toBeNull();
  });
});

describe("widget look", () => {
  it("defaults the color and keeps email collection", () => {
    expect(widgetValues(null).widgetColor).toBe("#1F93FF");
    expect(widgetBody({ websiteUrl: "", widgetColor: "#000000", welcomeTitle: "", welcomeTagline: "Ask" }, { enableEmailCollect: true })).toEqual({
      enableEmailCollect: true,
      widgetColor: "#000000",
      welcomeTagline: "Ask",
    });
  });
});

describe("CSAT form ↔ API", () => {
  it("reads a config with a rule", () => {
    const v = csatValues(true, { displayType: "star", message: "How did we do?", buttonText: "Rate", surveyRule: { operator: "does_not_contain", values: ["spam"] } });
    expect(v).toEqual({ enabled: true, displayType: "star", message: "How did we do?", buttonText: "Rate", rule: "does_not_contain", tags: ["spam"] });
  });
  it("reads no config as emoji for every conversation", () => {
    expect(csatValues(false, null)).toEqual({ enabled: false, displayType: "emoji", message: "", buttonText: "", rule: "all", tags: [] });
  });
  it("writes the rule only when one is chosen, and keeps the language", () => {
    const v = csatValues(true, null);
    expect(csatBody({ ...v, rule: "contains", tags: ["vip", "billing"] }, { language: "de" })).toEqual({
      csatSurveyEnabled: true,
      csatConfig: { displayType: "emoji", language: "de", surveyRule: { operator: "contains", values: ["vip", "billing"] } },
    });
    expect(csatBody({ ...v, message: " Rate us ", tags: ["vip"] })).toEqual({ csatSurveyEnabled: true, csatConfig: { displayType: "emoji", message: "Rate us" } });
  });
  it("round-trips", () => {
    const c = { displayType: "star" as const, message: "m", buttonText: "b", surveyRule: { operator: "contains" as const, values: ["a"] } };
    expect(csatBody(csatValues(true, c)).csatConfig).toEqual(c);
  });
});

describe("csatHeadline and scheduleField", () => {
  it("summarizes", () => {
    expect(csatHeadline({ count: 0, average: null, distribution: [0, 0, 0, 0, 0], satisfied: null })).toBe("No ratings yet.");
    expect(csatHeadline({ count: 3, average: 4.333, distribution: [0, 0, 0, 2, 1], satisfied: 1 })).toBe("4.3 / 5 from 3 ratings");
  });
  it("maps working-hours fields to the editor's", () => {
    expect(scheduleField("workingHours.slots[0].start")).toBe("slots[0].start");
    expect(scheduleField("name")).toBe("name");
  });
});
