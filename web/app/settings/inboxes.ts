// Pure logic of the Inboxes settings screen: the shapes of `/inboxes` and `/csat`, the widget's
// embed snippet, and the form values ↔ API body mappings (create, widget look, CSAT survey).
import type { WeeklySchedule } from "./ScheduleEditor";

export type Channel = "livechat" | "api" | "whatsapp";

export interface SurveyRule {
  operator: "contains" | "does_not_contain";
  values: string[];
}

export interface CsatConfig {
  displayType?: "emoji" | "star" | null;
  message?: string | null;
  buttonText?: string | null;
  language?: string | null;
  surveyRule?: SurveyRule | null;
}

export interface WidgetSettings {
  websiteUrl?: string | null;
  widgetColor?: string | null;
  welcomeTitle?: string | null;
  welcomeTagline?: string | null;
  enableEmailCollect?: boolean | null;
}

export interface Inbox {
  id: string;
  name: string;
  channel: Channel | string;
  status: "active" | "inactive" | string;
  greetingEnabled: boolean;
  greetingMessage: string | null;
  enableAutoAssignment: boolean;
  workingHours: WeeklySchedule | null;
  csatSurveyEnabled: boolean;
  csatConfig: CsatConfig | null;
  botConfigId: string | null;
  whatsappAccountId: string | null;
  phoneNumber: string | null;
  websiteToken: string | null;
  widgetSettings: WidgetSettings | null;
  hmacSecret: string | null;
  hmacMandatory: boolean;
  allowedOrigins: string[];
  webhookUrl: string | null;
  webhookSecret: string | null;
  apiTokenPrefix: string | null;
  createdAt: string;
  updatedAt: string;
}

/** The create answer: an API inbox's token comes this once. */
export interface CreatedInbox extends Inbox {
  apiToken?: string | null;
}

export interface Rating {
  conversationId: string;
  rating: number;
  comment?: string | null;
  ratedAt: string;
}

export interface CsatSummary {
  count: number;
  average: number | null;
  distribution: number[];
  satisfied: number | null;
}

export type SecretKind = "identity" | "webhook" | "apiToken";

export const CHANNEL_LABELS: Record<string, string> = {
  whatsapp: "WhatsApp",
  livechat: "Website chat",
  api: "API",
};

export function channelLabel(channel: string): string {
  return CHANNEL_LABELS[channel] ?? channel;
}

/** The script tag a site embeds for a website chat inbox. */
export function embedSnippet(origin: string, websiteToken: string): string {
  return `<script src="${origin.replace(/\/+$/, "")}/widget.js" data-token="${websiteToken}" async></script>`;
}

/** Items of a list typed one per line or separated by commas: trimmed, without blanks or repeats. */
export function parseList(text: string): string[] {
  const out: string[] = [];
  for (const part of text.split(/[\n,]/)) {
    const t = part.trim();
    if (t && !out.includes(t)) out.push(t);
  }
  return out;
}

const blankToNull = (s: string): string | null => (s.trim() === "" ? null : s.trim());

// ---- Widget look ----

export interface WidgetValues {
  websiteUrl: string;
  widgetColor: string;
  welcomeTitle: string;
  welcomeTagline: string;
}

export const DEFAULT_WIDGET_COLOR = "#1F93FF";

export function widgetValues(w: WidgetSettings | null | undefined): WidgetValues {
  return {
    websiteUrl: w?.websiteUrl ?? "",
    widgetColor: w?.widgetColor ?? DEFAULT_WIDGET_COLOR,
    welcomeTitle: w?.welcomeTitle ?? "",
    welcomeTagline: w?.welcomeTagline ?? "",
  };
}

/** The widget settings to send; `prev` keeps what this form does not edit (email collection). */
export function widgetBody(v: WidgetValues, prev?: WidgetSettings | null): WidgetSettings {
  const out: WidgetSettings = {};
  if (prev?.enableEmailCollect != null) out.enableEmailCollect = prev.enableEmailCollect;
  const url = blankToNull(v.websiteUrl);
  const color = blankToNull(v.widgetColor);
  const title = blankToNull(v.welcomeTitle);
  const tagline = blankToNull(v.welcomeTagline);
  if (url) out.websiteUrl = url;
  if (color) out.widgetColor = color;
  if (title) out.welcomeTitle = title;
  if (tagline) out.welcomeTagline = tagline;
  return out;
}

// ---- Create ----

export interface LivechatCreateValues extends WidgetValues {
  name: string;
  allowedOrigins: string;
  greetingEnabled: boolean;
  greetingMessage: string;
  hmacMandatory: boolean;
}

export function livechatCreateBody(v: LivechatCreateValues) {
  return {
    channel: "livechat" as const,
    name: v.name.trim(),
    widgetSettings: widgetBody(v),
    allowedOrigins: parseList(v.allowedOrigins),
    greetingEnabled: v.greetingEnabled,
    greetingMessage: v.greetingEnabled ? blankToNull(v.greetingMessage) : null,
    hmacMandatory: v.hmacMandatory,
  };
}

export function apiCreateBody(v: { name: string; webhookUrl: string }) {
  return { channel: "api" as const, name: v.name.trim(), webhookUrl: blankToNull(v.webhookUrl) };
}

// ---- CSAT survey ----

export interface CsatValues {
  enabled: boolean;
  displayType: "emoji" | "star";
  message: string;
  buttonText: string;
  /** "all": every resolved conversation; otherwise the rule's operator. */
  rule: "all" | "contains" | "does_not_contain";
  tags: string[];
}

export function csatValues(enabled: boolean, c: CsatConfig | null | undefined): CsatValues {
  return {
    enabled,
    displayType: c?.displayType === "star" ? "star" : "emoji",
    message: c?.message ?? "",
    buttonText: c?.buttonText ?? "",
    rule: c?.surveyRule ? c.surveyRule.operator : "all",
    tags: c?.surveyRule ? [...c.surveyRule.values] : [],
  };
}

/** The PATCH fields of the survey; `prev` keeps its language. A rule without tags is sent as is, so
 * the server names `csatConfig.surveyRule.values`. */
export function csatBody(v: CsatValues, prev?: CsatConfig | null): { csatSurveyEnabled: boolean; csatConfig: CsatConfig } {
  const config: CsatConfig = { displayType: v.displayType };
  const message = blankToNull(v.message);
  const button = blankToNull(v.buttonText);
  if (message) config.message = message;
  if (button) config.buttonText = button;
  if (prev?.language) config.language = prev.language;
  if (v.rule !== "all") config.surveyRule = { operator: v.rule, values: v.tags };
  return { csatSurveyEnabled: v.enabled, csatConfig: config };
}

/** "4.3 / 5 from 12 ratings", or a sentence saying there is none. */
export function csatHeadline(s: CsatSummary): string {
  if (!s.count || s.average == null) return "No ratings yet.";
  return `${s.average.toFixed(1)} / 5 from ${s.count} rating${s.count === 1 ? "" : "s"}`;
}

/** The field of a working-hours error, as the schedule editor names it (`workingHours.slots[0].start` → `slots[0].start`). */
export function scheduleField(field: string | undefined): string | undefined {
  return field?.startsWith("workingHours.") ? field.slice("workingHours.".length) : field;
}
