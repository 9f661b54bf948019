// Pure WhatsApp template logic shared by the template manager (settings) and the composer's
// template picker: the API's shapes, the variables of a text, Meta's example shapes, the
// editor's state to and from Meta's components, the preview, Meta's rules checked before the
// server checks them again, a send's parameters, and server field names mapped to inputs.
// No DOM, no network: tested by Vitest.

export type TemplateStatus = "DRAFT" | "PENDING" | "APPROVED" | "REJECTED" | "PAUSED" | "DISABLED" | "IN_APPEAL" | "REMOVED";
export const STATUSES: TemplateStatus[] = ["DRAFT", "PENDING", "APPROVED", "REJECTED", "PAUSED", "DISABLED", "IN_APPEAL", "REMOVED"];
export const CATEGORIES = ["MARKETING", "UTILITY", "AUTHENTICATION"] as const;

export interface TemplateButton {
  type: string;
  text?: string;
  url?: string;
  phone_number?: string;
  otp_type?: string;
  example?: string[] | string;
}

export interface TemplateComponent {
  type: string;
  format?: string;
  text?: string;
  example?: any;
  buttons?: TemplateButton[];
}

/** A value a send needs: a text header's or the body's parameter, or a button's suffix or code. */
export interface Slot {
  place: "header" | "body" | "button";
  /** `1`, `2`… or a named parameter; for a button, its kind (`url`, `copy_code`, `otp`). */
  name: string;
  /** For a button: its position among the buttons. */
  index?: number | null;
  example?: string | null;
}

export interface MessageTemplate {
  id: string;
  accountId?: string | null;
  wabaId?: string | null;
  metaId?: string | null;
  name: string;
  language: string;
  category: string;
  parameterFormat: string;
  components: TemplateComponent[];
  status: TemplateStatus | string;
  rejectedReason?: string | null;
  quality?: string | null;
  previousCategory?: string | null;
  headerMediaUrl?: string | null;
  parameters: Slot[];
  createdBy?: string | null;
  submittedAt?: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface SyncReport {
  accounts: number;
  created: number;
  updated: number;
  unchanged: number;
  removed: number;
  failed: { accountId?: string; wabaId?: string; reason?: string; [k: string]: unknown }[];
}

export interface BulkResult {
  succeeded: string[];
  failed: { id: string; reason: string }[];
}

// ---- Variables ---------------------------------------------------------------------------------

/** The parameters a text names in order of appearance, or what is malformed (Meta's syntax). */
export function paramsOf(text: string): { names: string[]; error?: string } {
  const names: string[] = [];
  let rest = text;
  for (;;) {
    const start = rest.indexOf("{{");
    if (start < 0) return { names };
    const after = rest.slice(start + 2);
    const end = after.indexOf("}}");
    if (end < 0) return { names, error: "A variable is opened with {{ and never closed with }}." };
    const name = after.slice(0, end).trim();
    if (!/^\d+$/.test(name) && !/^[a-z][a-z0-9_]*$/.test(name)) {
      return { names, error: `{{${name}}} is not a variable: use {{1}}, {{2}}… or lowercase names such as {{first_name}}.` };
    }
    names.push(name);
    rest = after.slice(end + 2);
  }
}

const numbered = (n: string) => /^\d+$/.test(n);

/** The distinct variables of a text: numbered ones in numeric order, named ones as they appear. */
export function variablesOf(text: string): string[] {
  const out: string[] = [];
  for (const n of paramsOf(text).names) if (!out.includes(n)) out.push(n);
  if (out.every(numbered)) out.sort((a, b) => Number(a) - Number(b));
  return out;
}

/** Whether a text names its variables (`{{first_name}}`) rather than numbering them. */
export function isNamed(vars: string[]): boolean {
  return vars.length > 0 && vars.every((v) => !numbered(v));
}

/**
 * The variable "add variable" inserts: the next number (`{{3}}` after `{{1}}` and `{{2}}`), or for
 * named variables a fresh `var_N` name the user then renames.
 */
export function nextVariable(texts: string[], named: boolean): string {
  const all = texts.flatMap((t) => paramsOf(t).names);
  if (!named) {
    const max = all.filter(numbered).reduce((m, n) => Math.max(m, Number(n)), 0);
    return `{{${max + 1}}}`;
  }
  let i = 1;
  while (all.includes(`var_${i}`)) i++;
  return `{{var_${i}}}`;
}

/** `text` with `{{x}}` replaced by `values[x]` where there is a non-empty value. */
export function fill(text: string, values: Record<string, string | undefined>): string {
  return text.replace(/\{\{\s*([a-z0-9_]+)\s*\}\}/g, (whole, key: string) => {
    const v = values[key];
    return v !== undefined && v !== "" ? v : whole;
  });
}

// ---- Meta's examples ----------------------------------------------------------------------------

/**
 * Meta's `example` of a text component for its variables: positional ones as `body_text: [[…]]`
 * (`header_text: […]` for a header), named ones as `*_named_params: [{param_name, example}]`;
 * nothing when the text has no variable.
 */
export function exampleFor(key: "body_text" | "header_text", vars: string[], values: Record<string, string>): any {
  if (vars.length === 0) return undefined;
  if (isNamed(vars)) {
    return { [`${key}_named_params`]: vars.map((v) => ({ param_name: v, example: values[v] ?? "" })) };
  }
  const list = vars.map((v) => values[v] ?? "");
  return { [key]: key === "body_text" ? [list] : list };
}

/** The example values a component holds, by variable name (the reverse of `exampleFor`). */
export function examplesOf(c: TemplateComponent | undefined, key: "body_text" | "header_text"): Record<string, string> {
  const out: Record<string, string> = {};
  const e = c?.example;
  if (!c || !e) return out;
  const named = e[`${key}_named_params`];
  if (Array.isArray(named)) {
    for (const p of named) if (p && typeof p.param_name === "string") out[p.param_name] = String(p.example ?? "");
    return out;
  }
  let list = e[key];
  if (!Array.isArray(list)) return out;
  if (Array.isArray(list[0])) list = list[0];
  variablesOf(c.text ?? "").forEach((v, i) => {
    if (typeof list[i] === "string") out[v] = list[i];
  });
  return out;
}

// ---- The editor's state -------------------------------------------------------------------------

export type HeaderKind = "NONE" | "TEXT" | "IMAGE" | "VIDEO" | "DOCUMENT" | "LOCATION";
export const HEADER_KINDS: HeaderKind[] = ["NONE", "TEXT", "IMAGE", "VIDEO", "DOCUMENT", "LOCATION"];
export const MEDIA_KINDS: HeaderKind[] = ["IMAGE", "VIDEO", "DOCUMENT"];
export type ButtonType = "QUICK_REPLY" | "URL" | "PHONE_NUMBER" | "COPY_CODE" | "OTP";
export const BUTTON_TYPES: ButtonType[] = ["QUICK_REPLY", "URL", "PHONE_NUMBER", "COPY_CODE", "OTP"];

export interface EditorButton {
  type: ButtonType;
  text: string;
  url: string;
  /** The value of the URL's `{{1}}` in the example (Meta gets the whole URL). */
  urlExample: string;
  phone: string;
  /** A copy-code button's example code. */
  code: string;
}

export interface Draft {
  name: string;
  language: string;
  category: string;
  accountId: string;
  header: HeaderKind;
  headerText: string;
  headerExamples: Record<string, string>;
  /** Meta's handle of the uploaded example file (media headers). */
  headerHandle: string;
  /** Our stored file from the upload, sent as `headerFile`. */
  headerFile: string;
  body: string;
  bodyExamples: Record<string, string>;
  footer: string;
  buttons: EditorButton[];
}

export const EMPTY_DRAFT: Draft = {
  name: "", language: "en_US", category: "UTILITY", accountId: "",
  header: "NONE", headerText: "", headerExamples: {}, headerHandle: "", headerFile: "",
  body: "", bodyExamples: {}, footer: "", buttons: [],
};

export function newButton(type: ButtonType): EditorButton {
  const text = type === "OTP" ? "Copy code" : type === "COPY_CODE" ? "Copy offer code" : "";
  return { type, text, url: "", urlExample: "", phone: "", code: "" };
}

/** Where each part of the draft sits among the components it becomes. */
export interface Layout {
  header?: number;
  body: number;
  footer?: number;
  buttons?: number;
}

/** The URL before its `{{1}}` (the part the example repeats). */
function urlPrefix(url: string): string {
  const i = url.indexOf("{{");
  return i < 0 ? url : url.slice(0, i);
}

/** Meta's components for a draft, in Meta's order, and where each part went. */
export function toComponents(d: Draft): { components: TemplateComponent[]; layout: Layout } {
  const components: TemplateComponent[] = [];
  const layout: Layout = { body: 0 };
  if (d.header !== "NONE") {
    layout.header = components.length;
    if (d.header === "TEXT") {
      const vars = variablesOf(d.headerText);
      const example = exampleFor("header_text", vars, d.headerExamples);
      components.push({ type: "HEADER", format: "TEXT", text: d.headerText, ...(example ? { example } : {}) });
    } else if (d.header === "LOCATION") {
      components.push({ type: "HEADER", format: "LOCATION" });
    } else {
      components.push({ type: "HEADER", format: d.header, ...(d.headerHandle ? { example: { header_handle: [d.headerHandle] } } : {}) });
    }
  }
  layout.body = components.length;
  const bodyExample = exampleFor("body_text", variablesOf(d.body), d.bodyExamples);
  components.push({ type: "BODY", text: d.body, ...(bodyExample ? { example: bodyExample } : {}) });
  if (d.footer.trim()) {
    layout.footer = components.length;
    components.push({ type: "FOOTER", text: d.footer });
  }
  if (d.buttons.length) {
    layout.buttons = components.length;
    components.push({ type: "BUTTONS", buttons: d.buttons.map(toButton) });
  }
  return { components, layout };
}

function toButton(b: EditorButton): TemplateButton {
  switch (b.type) {
    case "URL": {
      const out: TemplateButton = { type: "URL", text: b.text, url: b.url };
      if (b.url.includes("{{")) out.example = [urlPrefix(b.url) + b.urlExample];
      return out;
    }
    case "PHONE_NUMBER":
      return { type: "PHONE_NUMBER", text: b.text, phone_number: b.phone };
    case "COPY_CODE":
      return { type: "COPY_CODE", text: b.text, ...(b.code ? { example: b.code } : {}) };
    case "OTP":
      return { type: "OTP", otp_type: "COPY_CODE", text: b.text };
    default:
      return { type: "QUICK_REPLY", text: b.text };
  }
}

const find = (cs: TemplateComponent[], type: string) => cs.find((c) => c.type?.toUpperCase() === type);

/** The editor's state for a stored template. */
export function fromTemplate(t: MessageTemplate): Draft {
  const cs = t.components ?? [];
  const h = find(cs, "HEADER");
  const b = find(cs, "BODY");
  const f = find(cs, "FOOTER");
  const bs = find(cs, "BUTTONS");
  const format = (h?.format ?? "TEXT").toUpperCase() as HeaderKind;
  return {
    name: t.name,
    language: t.language,
    category: t.category,
    accountId: t.accountId ?? "",
    header: h ? (HEADER_KINDS.includes(format) ? format : "TEXT") : "NONE",
    headerText: h && format === "TEXT" ? h.text ?? "" : "",
    headerExamples: h && format === "TEXT" ? examplesOf(h, "header_text") : {},
    headerHandle: Array.isArray(h?.example?.header_handle) ? String(h!.example.header_handle[0] ?? "") : "",
    headerFile: "",
    body: b?.text ?? "",
    bodyExamples: examplesOf(b, "body_text"),
    footer: f?.text ?? "",
    buttons: (bs?.buttons ?? []).map(fromButton),
  };
}

function fromButton(b: TemplateButton): EditorButton {
  const type = (BUTTON_TYPES.includes(b.type?.toUpperCase() as ButtonType) ? b.type.toUpperCase() : "QUICK_REPLY") as ButtonType;
  const out = newButton(type);
  out.text = b.text ?? out.text;
  if (type === "URL") {
    out.url = b.url ?? "";
    const ex = Array.isArray(b.example) ? b.example[0] : b.example;
    const prefix = urlPrefix(out.url);
    if (typeof ex === "string") out.urlExample = ex.startsWith(prefix) ? ex.slice(prefix.length) : ex;
  }
  if (type === "PHONE_NUMBER") out.phone = b.phone_number ?? "";
  if (type === "COPY_CODE") out.code = Array.isArray(b.example) ? b.example[0] ?? "" : b.example ?? "";
  return out;
}

/** What a create or a change sends. */
export function toInput(d: Draft, opts: { withAccount: boolean }): Record<string, unknown> {
  const { components } = toComponents(d);
  const body: Record<string, unknown> = {
    name: d.name.trim(),
    language: d.language.trim(),
    category: d.category,
    components,
  };
  if (opts.withAccount && d.accountId) body.accountId = d.accountId;
  if (d.headerFile && MEDIA_KINDS.includes(d.header)) body.headerFile = d.headerFile;
  return body;
}

/** The files Meta takes as a header example, by header kind: MIME types and the largest size. */
export const HEADER_FILES: Record<string, { mimes: string[]; max: number; label: string }> = {
  IMAGE: { mimes: ["image/jpeg", "image/png"], max: 5 * 1024 * 1024, label: "a JPEG or PNG image up to 5 MB" },
  VIDEO: { mimes: ["video/mp4"], max: 16 * 1024 * 1024, label: "an MP4 video up to 16 MB" },
  DOCUMENT: { mimes: ["application/pdf"], max: 100 * 1024 * 1024, label: "a PDF up to 100 MB" },
};

/** Why a file cannot be a header's example, or null. */
export function checkHeaderFile(kind: HeaderKind, mime: string, size: number): string | null {
  const rule = HEADER_FILES[kind];
  if (!rule) return "This header takes no file.";
  if (!rule.mimes.includes(mime) || size > rule.max) return `The ${kind.toLowerCase()} header takes ${rule.label}.`;
  if (size === 0) return "The file is empty.";
  return null;
}

// ---- Meta's rules, before the server checks them again ---------------------------------------------

/** Errors by editor field (`name`, `body.text`, `body.example.1`, `buttons.0.url`…). */
export type FieldErrors = Record<string, string>;

function checkText(field: string, text: string, errors: FieldErrors): string[] {
  const p = paramsOf(text);
  if (p.error) {
    errors[field] = p.error;
    return [];
  }
  const vars = variablesOf(text);
  const nums = vars.filter(numbered);
  if (nums.length && nums.length !== vars.length) {
    errors[field] = "Use either numbered variables ({{1}}) or named ones ({{name}}), not both.";
    return vars;
  }
  if (nums.length) {
    const first: string[] = [];
    for (const n of p.names) if (!first.includes(n)) first.push(n);
    if (first.some((n, i) => Number(n) !== i + 1)) {
      errors[field] = "Numbered variables start at {{1}} and go up by one, in order: {{1}}, {{2}}, {{3}}…";
    }
  }
  return vars;
}

/** The obvious rules Meta applies, by editor field; empty when the draft may be submitted. */
export function checkDraft(d: Draft, opts: { draftOnly?: boolean } = {}): FieldErrors {
  const errors: FieldErrors = {};
  if (!/^[a-z0-9_]{1,512}$/.test(d.name.trim())) errors.name = "Use lowercase letters, digits and _ (e.g. order_update).";
  if (!/^[a-z]{2,3}(_[A-Z]{2})?$/.test(d.language.trim())) errors.language = "A language code such as en or en_US.";
  if (opts.draftOnly) return errors;

  if (d.header === "TEXT") {
    const len = [...d.headerText].length;
    if (len === 0 || len > 60) errors["header.text"] = "A text header is 1 to 60 characters.";
    const vars = checkText("header.text", d.headerText, errors);
    if (vars.length > 1) errors["header.text"] = "A header has at most one variable.";
    else for (const v of vars) if (!d.headerExamples[v]?.trim()) errors[`header.example.${v}`] = "Give an example.";
  }
  if (MEDIA_KINDS.includes(d.header) && !d.headerHandle) {
    errors["header.file"] = "Upload an example file: Meta reviews the header with it.";
  }

  const len = [...d.body].length;
  if (len === 0 || len > 1024) errors["body.text"] = "The body is 1 to 1,024 characters.";
  const vars = checkText("body.text", d.body, errors);
  const trimmed = d.body.trim();
  if (!errors["body.text"] && vars.length && (trimmed.startsWith("{{") || trimmed.endsWith("}}"))) {
    errors["body.text"] = "The body cannot start or end with a variable: add a word before or after it.";
  }
  for (const v of vars) if (!d.bodyExamples[v]?.trim()) errors[`body.example.${v}`] = "Give an example.";

  if (d.footer.trim()) {
    if ([...d.footer].length > 60) errors["footer.text"] = "The footer is at most 60 characters.";
    if (d.footer.includes("{{")) errors["footer.text"] = "The footer takes no variables.";
  }

  const of = (t: ButtonType) => d.buttons.filter((b) => b.type === t).length;
  if (d.buttons.length > 10) errors.buttons = "At most 10 buttons.";
  else if (of("URL") > 2) errors.buttons = "At most 2 URL buttons.";
  else if (of("PHONE_NUMBER") > 1) errors.buttons = "At most 1 phone number button.";
  else if (of("COPY_CODE") > 1) errors.buttons = "At most 1 copy code button.";
  const auth = d.category === "AUTHENTICATION";
  if (auth && of("OTP") === 0) errors.buttons = "An authentication template has a one-time password button.";
  d.buttons.forEach((b, j) => {
    const f = (x: string) => `buttons.${j}.${x}`;
    if (b.type === "OTP" && !auth) errors[f("type")] = "One-time password buttons are for AUTHENTICATION templates.";
    const n = [...b.text].length;
    if (b.type !== "OTP" && b.type !== "COPY_CODE" && (n === 0 || n > 25)) errors[f("text")] = "1 to 25 characters.";
    if (b.type === "URL") {
      const params = paramsOf(b.url).names;
      if (!/^https?:\/\/\S+$/.test(b.url.replace(/\{\{[^}]*\}\}/g, "x"))) errors[f("url")] = "An http(s) address.";
      else if (params.length > 1 || (params.length === 1 && !b.url.endsWith("}}"))) errors[f("url")] = "At most one variable, at the end: https://example.com/track/{{1}}";
      else if (params.length === 1 && !b.urlExample.trim()) errors[f("example")] = "Give an example of the variable.";
    }
    if (b.type === "PHONE_NUMBER" && !/^\+\d{6,15}$/.test(b.phone)) errors[f("phone_number")] = "In E.164, such as +4915112345678.";
  });
  return errors;
}

// ---- Server errors at their inputs ---------------------------------------------------------------

/**
 * The problems of an error answer: the server names the first problem's field and lists every
 * problem in its message as `field: message; field: message`. A message that does not read so
 * is one problem at the field named.
 */
export function problemsOf(field: string | undefined, message: string): { field?: string; message: string }[] {
  if (!field) return [{ message }];
  const parts = message.split("; ");
  const parsed = parts.map((p) => /^([A-Za-z_][\w.[\]]*): ([\s\S]+)$/.exec(p));
  if (parsed.every(Boolean) && parsed[0]![1] === field) {
    return parsed.map((m) => ({ field: m![1], message: m![2] }));
  }
  return [{ field, message }];
}

/** The editor field a server field names (`components[1].text` → `body.text`), or null. */
export function editorField(server: string, layout: Layout, d?: Draft): string | null {
  if (["name", "language", "category", "accountId"].includes(server)) return server;
  if (server === "headerFile") return "header.file";
  const m = /^components\[(\d+)\](?:\.(.+))?$/.exec(server);
  if (!m) return null;
  const i = Number(m[1]);
  const rest = m[2] ?? "";
  if (i === layout.header) {
    if (rest === "example") {
      if (d && MEDIA_KINDS.includes(d.header)) return "header.file";
      const v = d ? variablesOf(d.headerText)[0] : undefined;
      return v ? `header.example.${v}` : "header.text";
    }
    return rest === "format" ? "header.kind" : "header.text";
  }
  if (i === layout.body) {
    if (rest === "example" && d) {
      // The first variable without an example, else the first.
      const vars = variablesOf(d.body);
      const v = vars.find((x) => !d.bodyExamples[x]?.trim()) ?? vars[0];
      return v ? `body.example.${v}` : "body.text";
    }
    return "body.text";
  }
  if (i === layout.footer) return "footer.text";
  if (i === layout.buttons) {
    const b = /^buttons\[(\d+)\]\.(\w+)$/.exec(rest);
    return b ? `buttons.${b[1]}.${b[2]}` : "buttons";
  }
  return null;
}

/** Errors by editor field, and whatever names no input, from an error answer. */
export function serverErrors(field: string | undefined, message: string, layout: Layout, d?: Draft): { fields: FieldErrors; rest: string[] } {
  const fields: FieldErrors = {};
  const rest: string[] = [];
  for (const p of problemsOf(field, message)) {
    const at = p.field ? editorField(p.field, layout, d) : null;
    if (at && !fields[at]) fields[at] = p.message;
    else rest.push(p.field && !at ? `${p.field}: ${p.message}` : p.message);
  }
  return { fields, rest };
}

// ---- The preview ------------------------------------------------------------------------------------

export interface Preview {
  header?: { kind: HeaderKind; text?: string };
  body: string;
  footer?: string;
  buttons: { type: string; text: string }[];
}

/** What the customer sees for a draft, with the examples filled in. */
export function previewOfDraft(d: Draft): Preview {
  const p: Preview = { body: fill(d.body, d.bodyExamples), buttons: [] };
  if (d.header !== "NONE") p.header = { kind: d.header, text: d.header === "TEXT" ? fill(d.headerText, d.headerExamples) : undefined };
  if (d.footer.trim()) p.footer = d.footer;
  p.buttons = d.buttons.map((b) => ({ type: b.type, text: b.text || (b.type === "OTP" ? "Copy code" : b.type === "COPY_CODE" ? "Copy offer code" : "") }));
  return p;
}

/** What the customer sees for a stored template with a send's values (examples where none). */
export function previewOfSend(t: MessageTemplate, values: Record<string, string>, useExamples = true): Preview {
  const cs = t.components ?? [];
  const h = find(cs, "HEADER");
  const slotValues = (place: "header" | "body") => {
    const out: Record<string, string> = {};
    for (const s of t.parameters ?? []) {
      if (s.place !== place) continue;
      const v = values[slotKey(s)];
      out[s.name] = v?.trim() ? v : useExamples ? s.example ?? "" : "";
    }
    return out;
  };
  const p: Preview = { body: fill(find(cs, "BODY")?.text ?? "", slotValues("body")), buttons: [] };
  if (h) {
    const kind = (h.format ?? "TEXT").toUpperCase() as HeaderKind;
    p.header = { kind, text: kind === "TEXT" ? fill(h.text ?? "", slotValues("header")) : undefined };
  }
  const f = find(cs, "FOOTER");
  if (f?.text) p.footer = f.text;
  p.buttons = (find(cs, "BUTTONS")?.buttons ?? []).map((b) => ({ type: b.type, text: b.text ?? "" }));
  return p;
}

/** A piece of WhatsApp-formatted text: *bold*, _italic_, ~strike~, ```mono```. */
export interface Segment {
  text: string;
  style?: "b" | "i" | "s" | "code";
}

/** Splits WhatsApp's inline formatting (not nested), as the customer's app shows it. */
export function formatted(text: string): Segment[] {
  const out: Segment[] = [];
  const re = /```([\s\S]+?)```|\*([^*\n]+)\*|_([^_\n]+)_|~([^~\n]+)~/g;
  let last = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    if (m.index > last) out.push({ text: text.slice(last, m.index) });
    if (m[1] !== undefined) out.push({ text: m[1], style: "code" });
    else if (m[2] !== undefined) out.push({ text: m[2], style: "b" });
    else if (m[3] !== undefined) out.push({ text: m[3], style: "i" });
    else out.push({ text: m[4], style: "s" });
    last = re.lastIndex;
  }
  if (last < text.length) out.push({ text: text.slice(last) });
  return out;
}

// ---- Sending -----------------------------------------------------------------------------------------

/** The key of a slot's input: `header.1`, `body.first_name`, `button.1`. */
export function slotKey(s: Slot): string {
  return `${s.place}.${s.place === "button" ? s.index ?? 0 : s.name}`;
}

export function headerKind(t: MessageTemplate): HeaderKind {
  const h = find(t.components ?? [], "HEADER");
  return h ? ((h.format ?? "TEXT").toUpperCase() as HeaderKind) : "NONE";
}

/** Extra header values a send may need: a media link (no stored file) or a location. */
export interface HeaderExtra {
  headerLink?: string;
  latitude?: string;
  longitude?: string;
  locationName?: string;
  address?: string;
}

/** Whether a send of `t` must give a media link (its media header has no stored file). */
export function needsLink(t: MessageTemplate): boolean {
  return MEDIA_KINDS.includes(headerKind(t)) && !t.headerMediaUrl;
}

/** The `parameters` of `POST /templates/{name}/send` for the values typed per slot. */
export function sendParameters(t: MessageTemplate, values: Record<string, string>, extra: HeaderExtra = {}): Record<string, unknown> {
  const named = t.parameterFormat === "NAMED";
  const out: Record<string, unknown> = {};
  for (const place of ["header", "body"] as const) {
    const slots = (t.parameters ?? []).filter((s) => s.place === place);
    if (!slots.length) continue;
    out[place] = named
      ? Object.fromEntries(slots.map((s) => [s.name, values[slotKey(s)] ?? ""]))
      : slots.map((s) => values[slotKey(s)] ?? "");
  }
  const buttons = (t.parameters ?? []).filter((s) => s.place === "button");
  if (buttons.length) {
    const n = Math.max(...buttons.map((s) => (s.index ?? 0) + 1));
    const list: (string | null)[] = Array.from({ length: n }, () => null);
    for (const s of buttons) list[s.index ?? 0] = values[slotKey(s)] ?? "";
    out.buttons = list;
  }
  if (needsLink(t)) out.headerLink = extra.headerLink?.trim() ?? "";
  if (headerKind(t) === "LOCATION") {
    const loc: Record<string, unknown> = { latitude: Number(extra.latitude), longitude: Number(extra.longitude) };
    if (extra.locationName?.trim()) loc.name = extra.locationName.trim();
    if (extra.address?.trim()) loc.address = extra.address.trim();
    out.headerLocation = loc;
  }
  return out;
}

/** The text the thread shows for a send (the server renders the same). */
export function renderSent(t: MessageTemplate, values: Record<string, string>): string {
  const p = previewOfSend(t, values, false);
  const lines: string[] = [];
  if (p.header) lines.push(p.header.kind === "TEXT" ? p.header.text ?? "" : `[${p.header.kind.toLowerCase()}]`);
  lines.push(p.body);
  if (p.footer) lines.push(p.footer);
  const labels = p.buttons.map((b) => b.text).filter(Boolean);
  if (labels.length) lines.push(labels.map((l) => `[${l}]`).join(" "));
  return lines.join("\n");
}

/** Meta's rule for a value: not empty, no new lines or tabs, at most four spaces in a row. */
export function checkValue(v: string): string | null {
  if (!v.trim()) return "Fill this in.";
  if (/[\n\t]/.test(v) || v.includes("     ")) return "No new lines, tabs or more than four spaces in a row.";
  if ([...v].length > 1024) return "At most 1,024 characters.";
  return null;
}

/** The problems of a send's values before it is sent, by input key. */
export function checkSend(t: MessageTemplate, values: Record<string, string>, extra: HeaderExtra = {}): FieldErrors {
  const errors: FieldErrors = {};
  for (const s of t.parameters ?? []) {
    const e = checkValue(values[slotKey(s)] ?? "");
    if (e) errors[slotKey(s)] = e;
  }
  if (needsLink(t) && !/^https:\/\/\S+$/.test(extra.headerLink?.trim() ?? "")) errors.headerLink = "A public https:// link to the file.";
  if (headerKind(t) === "LOCATION") {
    const lat = Number(extra.latitude);
    const lng = Number(extra.longitude);
    if (!extra.latitude?.trim() || !Number.isFinite(lat) || Math.abs(lat) > 90) errors.latitude = "A latitude, -90 to 90.";
    if (!extra.longitude?.trim() || !Number.isFinite(lng) || Math.abs(lng) > 180) errors.longitude = "A longitude, -180 to 180.";
  }
  return errors;
}

/** The input a send's server field names (`parameters.body[1]` → the body's second slot), or null. */
export function sendField(server: string, t: MessageTemplate): string | null {
  if (server === "parameters.headerLink") return "headerLink";
  if (server === "parameters.headerLocation") return "latitude";
  const m = /^parameters\.(header|body|buttons)(?:\[(\d+)\]|\.(\w+))?$/.exec(server);
  if (!m) return null;
  const place = m[1] === "buttons" ? "button" : m[1];
  const slots = (t.parameters ?? []).filter((s) => s.place === place);
  if (!slots.length) return null;
  if (place === "button") {
    const s = m[2] !== undefined ? slots.find((x) => (x.index ?? 0) === Number(m[2])) : slots[0];
    return s ? slotKey(s) : null;
  }
  if (m[2] !== undefined) return slots[Number(m[2])] ? slotKey(slots[Number(m[2])]) : slotKey(slots[0]);
  if (m[3] !== undefined) return slots.find((s) => s.name === m[3]) ? `${place}.${m[3]}` : slotKey(slots[0]);
  return slotKey(slots[0]);
}

/** A slot's label for its input. */
export function slotLabel(s: Slot, t: MessageTemplate): string {
  if (s.place === "button") {
    const b = find(t.components ?? [], "BUTTONS")?.buttons?.[s.index ?? 0];
    if (s.name === "url") return `Button “${b?.text ?? "link"}”: ${urlPrefix(b?.url ?? "")}…`;
    if (s.name === "copy_code") return "Offer code to copy";
    return "One-time password";
  }
  return `${s.place === "header" ? "Header" : "Body"} {{${s.name}}}`;
}

/** A slot's example as its input shows it: a URL button's only the part after the fixed link. */
export function slotExample(s: Slot, t: MessageTemplate): string {
  const e = s.example ?? "";
  if (s.place !== "button" || s.name !== "url") return e;
  const prefix = urlPrefix(find(t.components ?? [], "BUTTONS")?.buttons?.[s.index ?? 0]?.url ?? "");
  return prefix && e.startsWith(prefix) ? e.slice(prefix.length) : e;
}

/** The approved templates a conversation's business account may send. */
export function sendableFor(ts: MessageTemplate[], account: { id: string; wabaId: string } | null | undefined): MessageTemplate[] {
  return ts.filter((t) => {
    if (t.status !== "APPROVED") return false;
    if (!account) return true;
    return t.wabaId ? t.wabaId === account.wabaId : t.accountId === account.id;
  });
}

/** Matches a template to words typed in the picker (name, language, category or body). */
export function matchesSearch(t: MessageTemplate, q: string): boolean {
  const words = q.toLowerCase().split(/\s+/).filter(Boolean);
  if (!words.length) return true;
  const hay = [t.name, t.language, t.category, find(t.components ?? [], "BODY")?.text ?? ""].join(" ").toLowerCase();
  return words.every((w) => hay.includes(w));
}
