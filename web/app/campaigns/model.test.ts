import { describe, it, expect } from "vitest";
import { template } from "../templates/fixtures";
import {
  type Counts, type CampaignSummary, type GlobalStats, actionsFor, applyProgress, applyToGlobal, columnOf, countsDiffer, csvColumn,
  csvRows, exampleCsv, exampleCsvName, funnelOf, funnelSteps, localNow, money, percent, previewOfSample, progressOf, readPasted,
  statsWith,
} from "./model";


/** The `promo` template of the server's campaign tests: "Hi {{1}}, {{2}} off today." */
const PROMO = template({
  name: "promo", category: "MARKETING",
  components: [{ type: "BODY", text: "Hi {{1}}, {{2}} off today.", example: { body_text: [["Ana", "10%"]] } }],
  parameters: [{ place: "body", name: "1", example: "Ana" }, { place: "body", name: "2", example: "10%" }],
});

const counts = (p: Partial<Counts> = {}): Counts => ({ total: 0, pending: 0, sent: 0, delivered: 0, read: 0, replied: 0, failed: 0, ...p });

describe("the example CSV", () => {
  it("has phone, name and one column per slot, named as the server reads them", () => {
    const t = template();
    expect((t.parameters ?? []).map(csvColumn)).toEqual(["header_1", "1", "2", "button_1"]);
    const lines = exampleCsv(t).trimEnd().split("\n");
    expect(lines[0]).toBe("phone,name,header_1,1,2,button_1");
    // The URL button's value is the part after the fixed link.
    expect(lines[1]).toBe("+4915112345678,Ana,1042,Ana,1042,1042");
    expect(lines).toHaveLength(3);
    expect(exampleCsvName(t)).toBe("order_update-recipients.csv");
  });

  it("names named parameters by their name and quotes what needs quoting", () => {
    const t = template({
      parameterFormat: "NAMED",
      components: [{ type: "BODY", text: "Hi {{first_name}}, {{deal}}" }],
      parameters: [{ place: "body", name: "first_name", example: "Ana" }, { place: "body", name: "deal", example: 'say "10%", today' }],
    });
    expect(exampleCsv(t).split("\n")[0]).toBe("phone,name,first_name,deal");
    expect(exampleCsv(t).split("\n")[1]).toBe('+4915112345678,Ana,Ana,"say ""10%"", today"');
  });

  it("is just phone and name for a template without values", () => {
    expect(exampleCsv(template({ parameters: [] }))).toBe("phone,name\n+4915112345678,Ana\n+15551234567,Ben\n");
  });

  it("names the column a row problem's field is in", () => {
    const t = template();
    expect(columnOf("phone", t)).toBe("phone");
    expect(columnOf("parameters.body[1]", t)).toBe("2");
    expect(columnOf("parameters.header[0]", t)).toBe("header_1");
    expect(columnOf("parameters.buttons[1]", t)).toBe("button_1");
    expect(columnOf("parameters.whatever", null)).toBe("parameters.whatever");
  });

  it("counts data rows, a quoted line break inside a row included", () => {
    expect(csvRows("phone,name\n+1,A\n\n+2,\"B\nC\"\r\n")).toBe(2);
    expect(csvRows("phone\n")).toBe(0);
    expect(csvRows("")).toBe(0);
  });
});

describe("the recipients box", () => {
  it("reads CSV text when the first line names a phone column", () => {
    expect(readPasted("Phone,1,2\n+4915112345678,Ana,10%\n")).toEqual({ kind: "csv", csv: "Phone,1,2\n+4915112345678,Ana,10%\n" });
  });
  it("reads numbers separated by lines, commas, semicolons or tabs", () => {
    expect(readPasted("+4915112345678\n+4915112345679, +4915112345670;\t+15551234567\n\n")).toEqual({
      kind: "numbers", phones: ["+4915112345678", "+4915112345679", "+4915112345670", "+15551234567"],
    });
    expect(readPasted("  \n")).toEqual({ kind: "empty" });
  });
});

describe("progress and the funnel", () => {
  const c = counts({ total: 21, pending: 6, sent: 2, delivered: 3, read: 4, replied: 1, failed: 5 });

  it("the bar: what went out, what failed, what is left", () => {
    const p = progressOf(c);
    expect([p.done, p.failed, p.pending]).toEqual([10, 5, 6]);
    expect(p.donePct).toBeCloseTo((10 / 21) * 100);
    expect(p.failedPct).toBeCloseTo((5 / 21) * 100);
    expect(progressOf(counts())).toMatchObject({ donePct: 0, failedPct: 0 });
  });

  it("counts everyone who got at least so far, as the server does", () => {
    expect(funnelOf(c)).toEqual({ recipients: 21, sent: 10, delivered: 8, read: 5, replied: 1, failed: 5 });
  });

  it("rates sent and failed of the recipients, the rest of those sent", () => {
    const steps = funnelSteps(funnelOf(c));
    expect(steps.map((s) => s.key)).toEqual(["recipients", "sent", "delivered", "read", "replied", "failed"]);
    const by = Object.fromEntries(steps.map((s) => [s.key, s]));
    expect(by.recipients.width).toBe(100);
    expect(by.sent.rate).toBeCloseTo(10 / 21);
    expect(by.delivered.rate).toBeCloseTo(0.8);
    expect(by.delivered.width).toBeCloseTo((8 / 21) * 100);
    expect(by.replied.rate).toBeCloseTo(0.1);
    expect(by.failed.rate).toBeCloseTo(5 / 21);
    expect(funnelSteps(funnelOf(counts())).every((s) => s.rate === 0 && s.width === 0)).toBe(true);
  });

  it("writes percentages and money readably", () => {
    expect(percent(0.8)).toBe("80%");
    expect(percent(0.0125)).toBe("1.3%");
    expect(percent(0.05)).toBe("5%");
    expect(percent(0)).toBe("0%");
    expect(percent(NaN)).toBe("0%");
    expect(money(0.2837, "USD")).toBe("$0.2837");
    expect(money(12.5, "USD")).toBe("$12.50");
  });

  it("offers the actions the server allows", () => {
    expect(actionsFor("RUNNING")).toEqual(["pause", "cancel", "delete"]);
    expect(actionsFor("PAUSED")).toEqual(["resume", "cancel", "delete"]);
    expect(actionsFor("COMPLETED")).toEqual(["delete"]);
  });
});

describe("live progress", () => {
  const base: CampaignSummary = {
    id: "c1", name: "Winter", templateId: "t1", templateName: "promo", language: "en", category: "MARKETING", accountId: "a1",
    status: "RUNNING", total: 3, attributionHours: 72, createdAt: "2026-01-01T00:00:00Z", updatedAt: "2026-01-01T00:00:00Z",
    counts: counts({ total: 3, pending: 3 }),
  };

  it("replaces the campaign's row, or says it is not on screen", () => {
    const { counts: _, ...campaign } = base;
    const done = counts({ total: 3, sent: 2, failed: 1 });
    const next = applyProgress([base], { campaign: { ...campaign, status: "COMPLETED" }, counts: done });
    expect(next?.[0]).toMatchObject({ status: "COMPLETED", counts: done });
    expect(applyProgress([base], { campaign: { ...campaign, id: "c2" }, counts: done })).toBeNull();
    expect(countsDiffer(base.counts, done)).toBe(true);
    expect(countsDiffer(done, { ...done })).toBe(false);
  });

  it("adds a campaign's change to the global figures", () => {
    const g: GlobalStats = {
      campaigns: 2, byStatus: { RUNNING: 1, COMPLETED: 1 }, counts: counts({ total: 5, pending: 3, delivered: 2 }),
      funnel: funnelOf(counts({ total: 5, pending: 3, delivered: 2 })), deliveryRate: 1, readRate: 0, replyRate: 0,
    };
    const after = applyToGlobal(g, { status: "RUNNING", counts: counts({ total: 3, pending: 3 }) }, { status: "COMPLETED", counts: counts({ total: 3, sent: 2, failed: 1 }) });
    expect(after.counts).toEqual(counts({ total: 5, pending: 0, sent: 2, delivered: 2, failed: 1 }));
    expect(after.byStatus).toEqual({ RUNNING: 0, COMPLETED: 2 });
    expect(after.funnel.sent).toBe(4);
    expect(after.deliveryRate).toBeCloseTo(0.5);
  });

  it("recomputes a campaign's funnel and rates from the event's counts, keeping its cost", () => {
    const s = statsWith(
      { counts: counts(), funnel: funnelOf(counts()), deliveryRate: 0, readRate: 0, replyRate: 0, estimatedCost: 0.27, currency: "USD", sendRate: 2 },
      counts({ total: 4, delivered: 2, read: 1, replied: 1 }),
    );
    expect(s.funnel).toEqual({ recipients: 4, sent: 4, delivered: 4, read: 2, replied: 1, failed: 0 });
    expect([s.deliveryRate, s.readRate, s.replyRate]).toEqual([1, 0.5, 0.25]);
    expect(s.estimatedCost).toBe(0.27);
  });
});

describe("the schedule and the samples", () => {
  it("says the time now in the organization's zone as a datetime-local value", () => {
    const at = new Date("2026-12-24T08:00:00Z");
    expect(localNow("Europe/Berlin", at)).toBe("2026-12-24T09:00");
    expect(localNow("UTC", at)).toBe("2026-12-24T08:00");
    expect(localNow("America/New_York", at)).toBe("2026-12-24T03:00");
    expect(localNow("Not/AZone", at)).toBe("2026-12-24T08:00");
  });

  it("splits a rendered sample into the bubble's header, body, footer and buttons", () => {
    const p = previewOfSample(template(), "Order 77\nHi Ana,\nyour order 77 ships today.\nDemo Shop\n[Thanks] [Track]");
    expect(p).toEqual({
      header: { kind: "TEXT", text: "Order 77" },
      body: "Hi Ana,\nyour order 77 ships today.",
      footer: "Demo Shop",
      buttons: [{ type: "QUICK_REPLY", text: "Thanks" }, { type: "URL", text: "Track" }],
    });
    expect(previewOfSample(PROMO, "Hi Ana, 10% off today.")).toEqual({ body: "Hi Ana, 10% off today.", buttons: [] });
    expect(previewOfSample(null, "text")).toEqual({ body: "text", buttons: [] });
  });
});
