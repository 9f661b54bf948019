// Pure campaign logic for the campaign screens: the API's shapes, the example CSV a template's
// recipients take, what the recipients box holds (CSV or numbers), progress and funnel figures,
// live progress applied to what is on screen, and the rendered samples as a WhatsApp bubble.
// No DOM, no network: tested by Vitest.
import { sendField, slotExample, slotKey, type MessageTemplate, type Preview, type Slot } from "../templates/model";

export type CampaignStatus = "SCHEDULED" | "RUNNING" | "PAUSED" | "COMPLETED" | "CANCELLED";
export const CAMPAIGN_STATUSES: CampaignStatus[] = ["SCHEDULED", "RUNNING", "PAUSED", "COMPLETED", "CANCELLED"];
export const RECIPIENT_STATUSES = ["PENDING", "SENT", "DELIVERED", "READ", "REPLIED", "FAILED"] as const;

/** Recipients by status. */
export interface Counts {
  total: number;
  pending: number;
  sent: number;
  delivered: number;
  read: number;
  replied: number;
  failed: number;
}

export interface Campaign {
  id: string;
  name: string;
  templateId: string;
  templateName: string;
  language: string;
  category: string;
  accountId: string;
  status: CampaignStatus | string;
  scheduledAt?: string | null;
  startedAt?: string | null;
  completedAt?: string | null;
  total: number;
  attributionHours: number;
  /** Why a running campaign waits (the number's daily limit, the template paused by Meta…). */
  waitingReason?: string | null;
  createdBy?: string | null;
  createdAt: string;
  updatedAt: string;
}

/** A row of `GET /campaigns`. */
export interface CampaignSummary extends Campaign {
  counts: Counts;
}

/** Recipients who got at least this far (a read message was delivered and sent). */
export interface Funnel {
  recipients: number;
  sent: number;
  delivered: number;
  read: number;
  replied: number;
  failed: number;
}

export interface CampaignStats {
  counts: Counts;
  funnel: Funnel;
  deliveryRate: number;
  readRate: number;
  replyRate: number;
  estimatedCost: number;
  currency: string;
  sendRate?: number | null;
}

export interface Recipient {
  id: string;
  position: number;
  phone: string;
  name?: string | null;
  status: string;
  text: string;
  conversationId?: string | null;
  messageId?: string | null;
  errorCode?: string | null;
  errorMessage?: string | null;
  sentAt?: string | null;
  deliveredAt?: string | null;
  readAt?: string | null;
  repliedAt?: string | null;
}

export interface Pagination {
  page: number;
  limit: number;
  total: number;
  totalPages: number;
}

export interface CampaignDetail extends Campaign {
  stats: CampaignStats;
  recipients: Recipient[];
  pagination: Pagination;
}

export interface GlobalStats {
  campaigns: number;
  byStatus: Record<string, number>;
  counts: Counts;
  funnel: Funnel;
  deliveryRate: number;
  readRate: number;
  replyRate: number;
}

/** A recipient row that cannot be sent, and why (`row` counts the data rows, from 1). */
export interface RowProblem {
  row: number;
  phone?: string | null;
  field: string;
  message: string;
}

export interface MarketCost {
  market: string;
  recipients: number;
  rate: number;
  cost: number;
}

export interface Estimate {
  currency: string;
  category: string;
  recipients: number;
  total: number;
  byMarket: MarketCost[];
  /** The date the rate card's rates took effect. */
  ratesEffective: string;
}

/** What checking a campaign's recipients found (a dry run). */
export interface CheckResult {
  valid: number;
  invalid: RowProblem[];
  duplicates: number;
  estimate: Estimate;
  samples: string[];
}

export interface Created {
  campaign: Campaign | null;
  preview: CheckResult;
}

/** `GET /campaigns/{id}/meta-cost`: what Meta charged for the campaign's sends. */
export interface MetaCost {
  campaignId: string;
  from: string;
  to: string;
  templateSent: number;
  templateCost: number;
  campaignSent: number;
  cost: number;
  currency: string;
  estimatedCost: number;
}

export type Action = "pause" | "resume" | "cancel" | "delete";

export interface BulkResult {
  succeeded: string[];
  failed: { id: string; reason: string }[];
}

// ---- The recipients' CSV ---------------------------------------------------------------------

/** The CSV column a slot's value is read from (the server's first choice for it). */
export function csvColumn(s: Slot): string {
  if (s.place === "header") return `header_${s.name}`;
  if (s.place === "button") return `button_${s.index ?? 0}`;
  return s.name;
}

/** A CSV field, quoted when it holds a comma, a quote or a line break. */
export function csvCell(v: string): string {
  return /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

/** A CSV line of fields. */
export function csvLine(cells: string[]): string {
  return cells.map(csvCell).join(",");
}

/**
 * An example CSV for a template's recipients: `phone`, `name`, one column per value the template
 * needs, and two rows filled with the template's examples.
 */
export function exampleCsv(t: MessageTemplate): string {
  const slots = t.parameters ?? [];
  const head = ["phone", "name", ...slots.map(csvColumn)];
  const value = (s: Slot) => slotExample(s, t) || "value";
  const rows = [
    ["+4915112345678", "Ana", ...slots.map(value)],
    ["+15551234567", "Ben", ...slots.map(value)],
  ];
  return [head, ...rows].map(csvLine).join("\n") + "\n";
}

/** The example file's name. */
export function exampleCsvName(t: MessageTemplate): string {
  return `${t.name}-recipients.csv`;
}

/**
 * What the server's field of a row problem is in the recipient's CSV: `phone`, or the column of a
 * parameter (`parameters.body[1]` → `2`); the field itself when it names no column.
 */
export function columnOf(field: string, t: MessageTemplate | null | undefined): string {
  if (field === "phone" || field === "name" || !t) return field;
  const key = sendField(field, t);
  const slot = key ? (t.parameters ?? []).find((s) => slotKey(s) === key) : undefined;
  return slot ? csvColumn(slot) : field;
}

/** What the recipients box holds: CSV text (a header row naming `phone`) or phone numbers. */
export type Pasted = { kind: "csv"; csv: string } | { kind: "numbers"; phones: string[] } | { kind: "empty" };

/** Reads the recipients box: CSV when its first line names a phone column, else numbers
 *  separated by new lines, commas, semicolons or tabs. */
export function readPasted(text: string): Pasted {
  const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/).filter((l) => l.trim());
  if (!lines.length) return { kind: "empty" };
  const head = lines[0].toLowerCase().split(",").map((h) => h.trim().replace(/^"|"$/g, ""));
  if (head.some((h) => ["phone", "phone_number", "wa_id", "number"].includes(h))) {
    return { kind: "csv", csv: lines.join("\n") + "\n" };
  }
  const phones = lines.join("\n").split(/[\n,;\t]+/).map((p) => p.trim()).filter(Boolean);
  return { kind: "numbers", phones };
}

/** How many data rows a CSV text has (a quoted field may span lines). */
export function csvRows(text: string): number {
  let rows = 0;
  let quoted = false;
  let content = false;
  for (const ch of text.replace(/^\uFEFF/, "")) {
    if (ch === '"') quoted = !quoted;
    if (!quoted && ch === "\n") {
      if (content) rows++;
      content = false;
    } else if (ch !== "\r" && ch.trim()) {
      content = true;
    }
  }
  if (content) rows++;
  return Math.max(0, rows - 1);
}

// ---- Progress and the funnel -------------------------------------------------------------------

export interface Progress {
  total: number;
  /** Recipients whose message went out (sent, delivered, read or replied). */
  done: number;
  failed: number;
  pending: number;
  /** Shares of the bar, 0..100. */
  donePct: number;
  failedPct: number;
}

const share = (a: number, b: number) => (b > 0 ? Math.min(100, (a / b) * 100) : 0);

/** A campaign's progress bar: what went out, what failed, what is still to send. */
export function progressOf(c: Counts): Progress {
  const done = c.sent + c.delivered + c.read + c.replied;
  return { total: c.total, done, failed: c.failed, pending: c.pending, donePct: share(done, c.total), failedPct: share(c.failed, c.total) };
}

/** The funnel from the counts, as the server computes it. */
export function funnelOf(c: Counts): Funnel {
  const read = c.read + c.replied;
  const delivered = c.delivered + read;
  const sent = c.sent + delivered;
  return { recipients: c.total, sent, delivered, read, replied: c.replied, failed: c.failed };
}

export interface FunnelStep {
  key: keyof Funnel;
  label: string;
  value: number;
  /** Bar length: share of the recipients, 0..100. */
  width: number;
  /** The step's rate, 0..1: sent and failed of the recipients, the rest of those sent. */
  rate: number;
  /** What the rate is of. */
  of: "recipients" | "sent";
}

/** The funnel's bars: recipients → sent → delivered → read → replied, and failed. */
export function funnelSteps(f: Funnel): FunnelStep[] {
  const ratio = (a: number, b: number) => (b > 0 ? a / b : 0);
  const step = (key: keyof Funnel, label: string, of: "recipients" | "sent"): FunnelStep => ({
    key,
    label,
    value: f[key],
    width: share(f[key], f.recipients),
    rate: ratio(f[key], of === "sent" ? f.sent : f.recipients),
    of,
  });
  return [
    step("recipients", "Recipients", "recipients"),
    step("sent", "Sent", "recipients"),
    step("delivered", "Delivered", "sent"),
    step("read", "Read", "sent"),
    step("replied", "Replied", "sent"),
    step("failed", "Failed", "recipients"),
  ];
}

/** A rate (0..1) as a percentage: whole numbers, one decimal under 10 %. */
export function percent(rate: number): string {
  if (!Number.isFinite(rate) || rate <= 0) return "0%";
  const p = rate * 100;
  if (p >= 10 || Number.isInteger(p)) return `${Math.round(p)}%`;
  return `${Math.round(p * 10) / 10}%`;
}

/** An amount of money: two decimals, up to four for the fractions of a cent Meta's rates have. */
export function money(amount: number, currency: string): string {
  try {
    return new Intl.NumberFormat("en-US", { style: "currency", currency, minimumFractionDigits: 2, maximumFractionDigits: 4 }).format(amount);
  } catch {
    return `${amount.toFixed(2)} ${currency}`;
  }
}

/** Which actions a campaign in `status` takes (the server's rules). */
export function actionsFor(status: string): Action[] {
  switch (status) {
    case "RUNNING":
    case "SCHEDULED":
      return ["pause", "cancel", "delete"];
    case "PAUSED":
      return ["resume", "cancel", "delete"];
    default:
      return ["delete"];
  }
}

// ---- Live progress ----------------------------------------------------------------------------

/** The data of a `campaign.progress` event. */
export interface ProgressEvent {
  campaign: Campaign;
  counts: Counts;
}

export function isProgressEvent(v: unknown): v is ProgressEvent {
  const e = v as ProgressEvent | null;
  return !!e && typeof e === "object" && !!e.campaign && typeof e.campaign.id === "string" && !!e.counts;
}

/** The list with the event's campaign brought up to date, or `null` when it is not in the list. */
export function applyProgress(list: CampaignSummary[], e: ProgressEvent): CampaignSummary[] | null {
  const i = list.findIndex((c) => c.id === e.campaign.id);
  if (i < 0) return null;
  const next = list.slice();
  next[i] = { ...e.campaign, counts: e.counts };
  return next;
}

const COUNT_KEYS: (keyof Counts)[] = ["total", "pending", "sent", "delivered", "read", "replied", "failed"];

/** Whether two counts differ. */
export function countsDiffer(a: Counts, b: Counts): boolean {
  return COUNT_KEYS.some((k) => a[k] !== b[k]);
}

const rates = (f: Funnel) => ({
  deliveryRate: f.sent ? f.delivered / f.sent : 0,
  readRate: f.sent ? f.read / f.sent : 0,
  replyRate: f.sent ? f.replied / f.sent : 0,
});

/**
 * The global figures after one campaign moved from `before` (status and counts) to `after`:
 * the difference added, so the figures follow live events without asking the server again.
 */
export function applyToGlobal(
  g: GlobalStats,
  before: { status: string; counts: Counts },
  after: { status: string; counts: Counts },
): GlobalStats {
  const counts = { ...g.counts };
  for (const k of COUNT_KEYS) counts[k] = Math.max(0, counts[k] + after.counts[k] - before.counts[k]);
  const byStatus = { ...g.byStatus };
  if (before.status !== after.status) {
    byStatus[before.status] = Math.max(0, (byStatus[before.status] ?? 0) - 1);
    byStatus[after.status] = (byStatus[after.status] ?? 0) + 1;
  }
  const funnel = funnelOf(counts);
  return { ...g, byStatus, counts, funnel, ...rates(funnel) };
}

/** A campaign's figures after a progress event (the cost and send rate stay as last fetched). */
export function statsWith(s: CampaignStats, counts: Counts): CampaignStats {
  const funnel = funnelOf(counts);
  return { ...s, counts, funnel, ...rates(funnel) };
}

// ---- The schedule --------------------------------------------------------------------------------

/** The time now in `zone` as a `datetime-local` value (`2026-12-24T09:00`). */
export function localNow(zone: string, now: Date = new Date()): string {
  try {
    const parts = new Intl.DateTimeFormat("en-CA", {
      timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hourCycle: "h23",
    }).formatToParts(now);
    const get = (t: string) => parts.find((p) => p.type === t)?.value ?? "00";
    return `${get("year")}-${get("month")}-${get("day")}T${get("hour")}:${get("minute")}`;
  } catch {
    return now.toISOString().slice(0, 16);
  }
}

// ---- Samples -----------------------------------------------------------------------------------

/**
 * A rendered sample (as the server renders a send: the header line, the body, the footer, the
 * buttons as `[Label] [Label]`) split back into the bubble's parts by the template's layout.
 */
export function previewOfSample(t: MessageTemplate | null | undefined, text: string): Preview {
  if (!t) return { body: text, buttons: [] };
  const cs = t.components ?? [];
  const of = (type: string) => cs.find((c) => c.type?.toUpperCase() === type);
  let lines = text.split("\n");
  const p: Preview = { body: "", buttons: [] };
  const h = of("HEADER");
  if (h && lines.length > 1) {
    const kind = (h.format ?? "TEXT").toUpperCase() as NonNullable<Preview["header"]>["kind"];
    p.header = { kind, text: kind === "TEXT" ? lines[0] : undefined };
    lines = lines.slice(1);
  }
  const buttons = of("BUTTONS")?.buttons ?? [];
  if (buttons.some((b) => b.text) && lines.length > 1) lines = lines.slice(0, -1);
  p.buttons = buttons.map((b) => ({ type: b.type, text: b.text ?? "" }));
  const f = of("FOOTER");
  if (f?.text && lines.length > 1 && lines[lines.length - 1] === f.text) {
    p.footer = f.text;
    lines = lines.slice(0, -1);
  }
  p.body = lines.join("\n");
  return p;
}
