// The template editor: name, language, category and number; a header (text with a variable, an
// example file, or a location), the body with its variables and one example each, a footer and
// buttons; a live preview as the customer's WhatsApp shows it. A new template or a draft is
// saved as a draft or submitted for review; an approved, rejected or paused one is changed at
// Meta (reviewed again). Meta's obvious rules are checked here first; the server's field errors
// show at their inputs.
import type { JSX } from "preact";
import { useEffect, useId, useRef, useState } from "preact/hooks";
import { api, raw, ApiError } from "../api";
import { navigate } from "../router";
import { subscribe } from "../live/socket";
import {
  BUTTON_TYPES, CATEGORIES, EMPTY_DRAFT, HEADER_FILES, HEADER_KINDS, MEDIA_KINDS, checkDraft, checkHeaderFile, fromTemplate,
  isNamed, newButton, nextVariable, previewOfDraft, serverErrors, toComponents, toInput, variablesOf,
  type ButtonType, type Draft, type EditorButton, type FieldErrors, type HeaderKind, type MessageTemplate,
} from "../templates/model";
import { TemplatePreview } from "../templates/Preview";
import { QualityBadge, StatusBadge } from "../templates/Badges";
import type { WhatsAppAccount } from "./WhatsApp";
import { confirmed, useLoad, val } from "./form";

/** A message for the next screen (the list after a submit, the draft after its first save). */
let flash: string | null = null;
export function takeFlash(): string | null {
  const f = flash;
  flash = null;
  return f;
}

const LANGUAGES = ["en", "en_US", "en_GB", "es", "es_ES", "es_MX", "pt_BR", "pt_PT", "fr", "de", "it", "nl", "pl", "tr", "ru", "ar", "hi", "id", "ja", "ko", "zh_CN"];
const HEADER_LABEL: Record<HeaderKind, string> = { NONE: "None", TEXT: "Text", IMAGE: "Image", VIDEO: "Video", DOCUMENT: "Document", LOCATION: "Location" };
const BUTTON_LABEL: Record<ButtonType, string> = {
  QUICK_REPLY: "Quick reply", URL: "Visit website", PHONE_NUMBER: "Call phone number", COPY_CODE: "Copy offer code", OTP: "One-time password",
};

type Mode = "new" | "draft" | "edit" | "view";
function modeOf(t?: MessageTemplate): Mode {
  if (!t) return "new";
  if (t.status === "DRAFT") return "draft";
  if (t.status === "APPROVED" || t.status === "REJECTED" || t.status === "PAUSED") return "edit";
  return "view";
}

const toList = (msg: string) => {
  flash = msg;
  navigate("/settings/templates");
};

export function TemplateEditor({ id }: { id: string | null }) {
  const loaded = useLoad(() => (id ? api<MessageTemplate>(`/templates/${encodeURIComponent(id)}`) : Promise.resolve(undefined)), [id]);
  const accounts = useLoad(() => api<WhatsAppAccount[]>("/whatsapp-accounts"));
  if (id && loaded.data === undefined) {
    return loaded.error
      ? <div class="settings-screen"><p class="error" role="alert">{loaded.error.message}</p><BackLink /></div>
      : <p class="loading" role="status">Loading…</p>;
  }
  if (accounts.data === undefined && accounts.loading) return <p class="loading" role="status">Loading…</p>;
  return <EditorForm template={loaded.data} accounts={accounts.data ?? []} />;
}

function BackLink() {
  return (
    <a href="/settings/templates" class="tpl-back" onClick={(e) => { e.preventDefault(); navigate("/settings/templates"); }}>← All templates</a>
  );
}

interface Ctl {
  id: string;
  name: string;
  "aria-invalid"?: "true";
  "aria-describedby"?: string;
}
interface Ctx {
  ctl: (f: string) => Ctl;
  errors: FieldErrors;
}

/** A labelled input of the editor with its error under it. */
function Field(p: { x: Ctx; f: string; label: string; hint?: string; class?: string; children: (c: Ctl) => JSX.Element }) {
  const c = p.x.ctl(p.f);
  const e = p.x.errors[p.f];
  return (
    <div class={"s-field " + (p.class ?? "")}>
      <label for={c.id}>{p.label}</label>
      {p.children(c)}
      {p.hint && <small class="s-hint">{p.hint}</small>}
      {e && <div class="field-error" id={c.id + "-error"} role="alert" data-field={p.f}>{e}</div>}
    </div>
  );
}

function EditorForm(props: { template?: MessageTemplate; accounts: WhatsAppAccount[] }) {
  const [t, setT] = useState(props.template);
  const [d, setD] = useState<Draft>(() => (props.template ? fromTemplate(props.template) : { ...EMPTY_DRAFT }));
  const [errors, setErrors] = useState<FieldErrors>({});
  const [formErrors, setFormErrors] = useState<string[]>([]);
  const [busy, setBusy] = useState<string | null>(null);
  const [notice, setNotice] = useState(takeFlash);
  const [named, setNamed] = useState(() => isNamed(variablesOf(d.body + " " + d.headerText)));
  const [media, setMedia] = useState<{ url: string | null; name: string | null }>({ url: null, name: null });
  const [uploading, setUploading] = useState(false);
  const focusError = useRef(false);
  const formRef = useRef<HTMLFormElement>(null);
  const bodyRef = useRef<HTMLTextAreaElement>(null);
  const headerRef = useRef<HTMLInputElement>(null);
  const uid = useId();
  const mode = modeOf(t);
  const locked = mode === "view";
  const submitted = mode === "edit" || mode === "view";

  // The template changes at Meta while it is open (review, quality, category): shown at once.
  useEffect(() => subscribe((ev) => {
    const x = ev.data?.template as MessageTemplate | null | undefined;
    if (ev.event.startsWith("template.") && x && t && x.id === t.id) setT(x);
  }), [t?.id]);

  // A stored header file is fetched with the session (it is behind the API) for the preview.
  useEffect(() => {
    const url = t?.headerMediaUrl;
    if (!url || !MEDIA_KINDS.includes(d.header)) return;
    let live = true;
    let made: string | null = null;
    raw(url).then(async (r) => {
      made = URL.createObjectURL(await r.blob());
      if (live) setMedia((m) => (m.url ? m : { url: made, name: `${t!.name} header` }));
    }, () => {});
    return () => { live = false; if (made) URL.revokeObjectURL(made); };
  }, [t?.headerMediaUrl]);
  useEffect(() => () => { if (media.url?.startsWith("blob:")) URL.revokeObjectURL(media.url); }, [media.url]);

  useEffect(() => {
    if (!focusError.current) return;
    focusError.current = false;
    formRef.current?.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus();
  }, [errors]);

  const idOf = (f: string) => `${uid}-${f.replace(/[^\w-]/g, "_")}`;
  const ctl = (f: string): Ctl => ({
    id: idOf(f),
    name: f,
    "aria-invalid": errors[f] ? ("true" as const) : undefined,
    "aria-describedby": errors[f] ? idOf(f) + "-error" : undefined,
  });
  const err = (f: string) =>
    errors[f] ? <div class="field-error" id={idOf(f) + "-error"} role="alert" data-field={f}>{errors[f]}</div> : null;
  const x: Ctx = { ctl, errors };

  const bodyVars = variablesOf(d.body);
  const headerVars = variablesOf(d.headerText);
  // The style of the variables: the text's own once it has some, else the one chosen.
  const namedNow = bodyVars.length + headerVars.length > 0 ? isNamed([...bodyVars, ...headerVars]) : named;

  function change(patch: Partial<Draft>, ...fields: string[]) {
    setD((x) => ({ ...x, ...patch }));
    if (fields.some((f) => errors[f])) {
      const next = { ...errors };
      for (const f of fields) delete next[f];
      setErrors(next);
    }
  }
  const setButton = (j: number, patch: Partial<EditorButton>, field: string) =>
    change({ buttons: d.buttons.map((b, i) => (i === j ? { ...b, ...patch } : b)) }, `buttons.${j}.${field}`, "buttons");

  /** Inserts the next variable at the cursor; a named one is selected so typing renames it. */
  function addVariable(target: "body" | "header") {
    const el = target === "body" ? bodyRef.current : headerRef.current;
    const text = target === "body" ? d.body : d.headerText;
    // The header's variables and the body's are numbered (or named) each on their own.
    const v = nextVariable([text], namedNow);
    const at = el?.selectionStart ?? text.length;
    const end = el?.selectionEnd ?? at;
    const next = text.slice(0, at) + v + text.slice(end);
    change(target === "body" ? { body: next } : { headerText: next }, `${target}.text`);
    setTimeout(() => {
      if (!el) return;
      el.focus();
      if (namedNow) el.setSelectionRange(at + 2, at + v.length - 2);
      else el.setSelectionRange(at + v.length, at + v.length);
    }, 0);
  }

  async function upload(f: File | null) {
    if (!f) return;
    const problem = checkHeaderFile(d.header, f.type, f.size);
    if (problem) {
      setErrors({ ...errors, "header.file": problem });
      return;
    }
    setUploading(true);
    const form = new FormData();
    form.append("file", f, f.name);
    try {
      const r = await api<{ file: string; handle: string; mime: string; size: number }>("/templates/upload-media", { method: "POST", form });
      change({ headerFile: r.file, headerHandle: r.handle }, "header.file");
      setMedia({ url: f.type === "application/pdf" ? null : URL.createObjectURL(f), name: f.name });
    } catch (e) {
      setErrors({ ...errors, "header.file": e instanceof Error ? e.message : String(e) });
    } finally {
      setUploading(false);
    }
  }

  function setHeader(kind: HeaderKind) {
    const keepFile = kind === d.header;
    change({ header: kind, ...(keepFile ? {} : { headerHandle: "", headerFile: "" }) }, "header.file", "header.text");
    if (!keepFile) setMedia({ url: null, name: null });
  }

  function fail(fields: FieldErrors, rest: string[] = []) {
    focusError.current = true;
    setErrors(fields);
    setFormErrors(rest);
  }

  async function save(kind: "draft" | "submit" | "edit") {
    const client = checkDraft(d, { draftOnly: kind === "draft" });
    if (mode === "new" && props.accounts.length > 1 && !d.accountId) client.accountId = "Choose the number whose business account holds the template.";
    if (Object.keys(client).length) return fail(client);
    const { components, layout } = toComponents(d);
    setBusy(kind);
    setNotice(null);
    setFormErrors([]);
    setErrors({});
    const path = t ? `/templates/${encodeURIComponent(t.id)}` : "";
    try {
      const input = toInput(d, { withAccount: !submitted });
      let saved: MessageTemplate;
      if (mode === "new") {
        saved = await api<MessageTemplate>(kind === "submit" ? "/templates" : "/templates/draft", { body: input });
      } else if (mode === "draft") {
        saved = await api<MessageTemplate>(`${path}/draft`, { method: "PUT", body: input });
        setT(saved);
        if (kind === "submit") saved = await api<MessageTemplate>(`${path}/submit`, { method: "POST" });
      } else {
        saved = await api<MessageTemplate>(path, { method: "PUT", body: { category: d.category, components } });
      }
      if (kind === "draft") {
        if (mode === "new") {
          flash = "Draft saved.";
          navigate("/settings/templates/" + encodeURIComponent(saved.id), true);
        } else {
          setT(saved);
          setNotice("Draft saved.");
          setBusy(null);
        }
        return;
      }
      toList(kind === "edit"
        ? `Changes to “${saved.name}” sent: Meta reviews it again (${saved.status}).`
        : `“${saved.name}” submitted for review (${saved.status}). Meta's verdict shows here when it comes.`);
    } catch (e) {
      setBusy(null);
      if (e instanceof ApiError) {
        const { fields, rest } = serverErrors(e.field, e.message, layout, d);
        fail(fields, rest);
      } else {
        fail({}, [e instanceof TypeError ? "The server could not be reached. Check the connection." : String(e)]);
      }
    }
  }

  async function other(what: "duplicate" | "remove" | "meta") {
    if (!t) return;
    const path = `/templates/${encodeURIComponent(t.id)}`;
    if (what === "remove" && !confirmed(`Remove “${t.name}” here? Meta keeps its copy.`)) return;
    if (what === "meta" && !confirmed(`Delete “${t.name}” at Meta? Meta deletes it for good and does not let the name be used again for 30 days.`)) return;
    setBusy(what);
    try {
      if (what === "duplicate") {
        const copy = await api<MessageTemplate>(`${path}/duplicate`, { method: "POST" });
        flash = `Copied as the draft “${copy.name}”.`;
        navigate("/settings/templates/" + encodeURIComponent(copy.id));
        return;
      }
      await api(what === "meta" ? `${path}/meta` : path, { method: "DELETE" });
      toList(what === "meta" ? `“${t.name}” deleted at Meta and removed here.` : `“${t.name}” removed.`);
    } catch (e) {
      setBusy(null);
      setFormErrors([e instanceof Error ? e.message : String(e)]);
    }
  }

  const auth = d.category === "AUTHENTICATION";
  const accountName = (a: WhatsAppAccount) => a.alias || a.displayPhoneNumber || a.phoneNumberId;
  const counter = (s: string, max: number) => {
    const n = [...s].length;
    return <small class={"tpl-count" + (n > max ? " over" : "")} aria-live="polite">{n}/{max}</small>;
  };

  return (
    <div class="settings-screen tpl-editor-screen" data-testid="template-editor">
      <BackLink />
      <div class="tpl-title">
        <h2>{t ? t.name : "New template"}</h2>
        {t && <StatusBadge status={t.status} />}
        {t && <QualityBadge quality={t.quality} />}
      </div>
      {notice && <div class="notice" role="status">{notice}</div>}
      {t?.status === "REJECTED" && (
        <div class="notice s-warn" role="status" data-testid="editor-rejected">
          Meta rejected it: {t.rejectedReason ?? "no reason given"}. Change it and save to send it for review again.
        </div>
      )}
      {locked && t && (
        <p class="notice">
          {t.status === "PENDING" || t.status === "IN_APPEAL" ? "Meta is reviewing it: it can be changed once Meta has decided."
            : t.status === "DISABLED" ? "Meta disabled it: duplicate it to start again."
            : "It is removed: duplicate it to use it again."}
        </p>
      )}
      {mode === "edit" && <p class="muted">Saving sends the changes to Meta, which reviews the template again; it cannot be sent until approved. Name and language stay.</p>}
      <div class="tpl-editor">
        <form class="tpl-form" ref={formRef} noValidate onSubmit={(e) => { e.preventDefault(); void save(mode === "edit" ? "edit" : "submit"); }}>
          <fieldset class="s-panel tpl-panel" disabled={locked}>
            <legend>Basics</legend>
            <div class="s-grid2">
              <Field x={x} f="name" label="Name" hint="Lowercase letters, digits and _; it cannot change once submitted.">
                {(c) => <input {...c} value={d.name} disabled={submitted} maxLength={512} autoComplete="off" spellcheck={false}
                  onInput={(e) => change({ name: val(e) }, "name")} data-testid="template-name" />}
              </Field>
              <Field x={x} f="language" label="Language" hint="A code such as en or en_US.">
                {(c) => (
                  <>
                    <input {...c} value={d.language} disabled={submitted} list={idOf("langs")} autoComplete="off" spellcheck={false}
                      onInput={(e) => change({ language: val(e) }, "language")} />
                    <datalist id={idOf("langs")}>{LANGUAGES.map((l) => <option key={l} value={l} />)}</datalist>
                  </>
                )}
              </Field>
              <Field x={x} f="category" label="Category" hint={t?.status === "APPROVED" ? "Meta keeps an approved template's category." : "Marketing, utility (about an order or account) or authentication (codes)."}>
                {(c) => (
                  <select {...c} value={d.category} disabled={t?.status === "APPROVED"} onChange={(e) => change({ category: val(e) }, "category", "buttons")}>
                    {CATEGORIES.map((x) => <option key={x} value={x}>{x.charAt(0) + x.slice(1).toLowerCase()}</option>)}
                  </select>
                )}
              </Field>
              {props.accounts.length > 1 && (
                <Field x={x} f="accountId" label="WhatsApp number" hint="Its business account holds the template.">
                  {(c) => (
                    <select {...c} value={d.accountId} disabled={submitted} onChange={(e) => change({ accountId: val(e) }, "accountId")}>
                      <option value="">Choose a number</option>
                      {props.accounts.map((a) => <option key={a.id} value={a.id}>{accountName(a)}</option>)}
                    </select>
                  )}
                </Field>
              )}
            </div>
          </fieldset>

          <fieldset class="s-panel tpl-panel" disabled={locked}>
            <legend>Header <small class="muted">optional</small></legend>
            <div class="tpl-kinds" role="radiogroup" aria-label="Header type" id={idOf("header.kind")}>
              {HEADER_KINDS.map((k) => (
                <label key={k} class={"tpl-kind" + (d.header === k ? " on" : "")}>
                  <input type="radio" name={idOf("header-kind")} value={k} checked={d.header === k} onChange={() => setHeader(k)} />
                  {HEADER_LABEL[k]}
                </label>
              ))}
            </div>
            {err("header.kind")}
            {d.header === "TEXT" && (
              <>
                <Field x={x} f="header.text" label="Header text">
                  {(c) => (
                    <div class="tpl-with-tools">
                      <input {...c} ref={headerRef} value={d.headerText} onInput={(e) => change({ headerText: val(e) }, "header.text")} />
                      <button type="button" class="tpl-addvar" disabled={headerVars.length >= 1} onClick={() => addVariable("header")}>+ Variable</button>
                      {counter(d.headerText, 60)}
                    </div>
                  )}
                </Field>
                {headerVars.map((v) => (
                  <Field key={v} x={x} f={`header.example.${v}`} label={`Example for {{${v}}}`} class="tpl-example">
                    {(c) => <input {...c} value={d.headerExamples[v] ?? ""} onInput={(e) => change({ headerExamples: { ...d.headerExamples, [v]: val(e) } }, `header.example.${v}`)} />}
                  </Field>
                ))}
              </>
            )}
            {MEDIA_KINDS.includes(d.header) && (
              <Field x={x} f="header.file" label={`Example ${d.header.toLowerCase()}`}
                hint={mode === "edit"
                  ? "A submitted template keeps its file: duplicate it to use another."
                  : `Meta reviews the template with it: ${HEADER_FILES[d.header].label}. Each send can use this file or give another.`}>
                {(c) => (
                  <div class="tpl-file">
                    <input {...c} type="file" accept={HEADER_FILES[d.header].mimes.join(",")} disabled={uploading || mode === "edit"}
                      onChange={(e) => void upload((e.currentTarget as HTMLInputElement).files?.[0] ?? null)} data-testid="template-header-file" />
                    <span class="muted s-small" role="status">
                      {uploading ? "Uploading…" : d.headerHandle ? `Uploaded${media.name ? `: ${media.name}` : ""}` : ""}
                    </span>
                  </div>
                )}
              </Field>
            )}
            {d.header === "LOCATION" && <p class="muted s-small">The location (latitude, longitude, name, address) is given with each send.</p>}
          </fieldset>

          <fieldset class="s-panel tpl-panel" disabled={locked}>
            <legend>Body</legend>
            <Field x={x} f="body.text" label="Message text" hint="*bold*, _italic_, ~strikethrough~ as in WhatsApp. Variables are filled in for each customer.">
              {(c) => (
                <>
                  <textarea {...c} ref={bodyRef} rows={6} value={d.body} onInput={(e) => change({ body: val(e) }, "body.text")} data-testid="template-body" />
                  <div class="tpl-tools">
                    <button type="button" class="tpl-addvar" onClick={() => addVariable("body")} data-testid="template-add-variable">+ Add variable</button>
                    <label class="s-small">
                      Variables{" "}
                      <select value={namedNow ? "named" : "numbered"} disabled={bodyVars.length + headerVars.length > 0}
                        onChange={(e) => setNamed(val(e) === "named")} aria-label="Variable style">
                        <option value="numbered">numbered {"{{1}}"}</option>
                        <option value="named">named {"{{first_name}}"}</option>
                      </select>
                    </label>
                    <span class="spacer" />
                    {counter(d.body, 1024)}
                  </div>
                </>
              )}
            </Field>
            {bodyVars.length > 0 && (
              <div class="tpl-examples" role="group" aria-label="Examples for Meta's review">
                <p class="s-small muted">Meta reviews the template with these examples; customers get the values given at each send.</p>
                <div class="s-grid2">
                  {bodyVars.map((v) => (
                    <Field key={v} x={x} f={`body.example.${v}`} label={`Example for {{${v}}}`} class="tpl-example">
                      {(c) => <input {...c} value={d.bodyExamples[v] ?? ""} data-testid="template-body-example" data-var={v}
                        onInput={(e) => change({ bodyExamples: { ...d.bodyExamples, [v]: val(e) } }, `body.example.${v}`)} />}
                    </Field>
                  ))}
                </div>
              </div>
            )}
          </fieldset>

          <fieldset class="s-panel tpl-panel" disabled={locked}>
            <legend>Footer <small class="muted">optional</small></legend>
            <Field x={x} f="footer.text" label="Footer text" hint="Small grey text under the message, without variables.">
              {(c) => (
                <div class="tpl-with-tools">
                  <input {...c} value={d.footer} onInput={(e) => change({ footer: val(e) }, "footer.text")} />
                  {counter(d.footer, 60)}
                </div>
              )}
            </Field>
          </fieldset>

          <fieldset class="s-panel tpl-panel" disabled={locked}>
            <legend>Buttons <small class="muted">optional, up to 10</small></legend>
            {err("buttons")}
            {d.buttons.length > 0 && (
              <ol class="tpl-buttons">
                {d.buttons.map((b, j) => (
                  <li key={j} class="tpl-button">
                    <Field x={x} f={`buttons.${j}.type`} label="Type">
                      {(c) => (
                        <select {...c} value={b.type} onChange={(e) => setButton(j, { ...newButton(val(e) as ButtonType), text: b.text }, "type")}>
                          {BUTTON_TYPES.filter((x) => x !== "OTP" || auth || b.type === "OTP").map((x) => <option key={x} value={x}>{BUTTON_LABEL[x]}</option>)}
                        </select>
                      )}
                    </Field>
                    <Field x={x} f={`buttons.${j}.text`} label={b.type === "OTP" || b.type === "COPY_CODE" ? "Button text (optional)" : "Button text"}>
                      {(c) => <input {...c} value={b.text} maxLength={40} onInput={(e) => setButton(j, { text: val(e) }, "text")} />}
                    </Field>
                    {b.type === "URL" && (
                      <>
                        <Field x={x} f={`buttons.${j}.url`} label="Website" hint="May end with {{1}}, filled in at each send.">
                          {(c) => <input {...c} type="url" value={b.url} placeholder="https://example.com/track/{{1}}" onInput={(e) => setButton(j, { url: val(e) }, "url")} />}
                        </Field>
                        {b.url.includes("{{") && (
                          <Field x={x} f={`buttons.${j}.example`} label="Example for {{1}}">
                            {(c) => <input {...c} value={b.urlExample} onInput={(e) => setButton(j, { urlExample: val(e) }, "example")} />}
                          </Field>
                        )}
                      </>
                    )}
                    {b.type === "PHONE_NUMBER" && (
                      <Field x={x} f={`buttons.${j}.phone_number`} label="Phone number">
                        {(c) => <input {...c} type="tel" value={b.phone} placeholder="+4915112345678" onInput={(e) => setButton(j, { phone: val(e) }, "phone_number")} />}
                      </Field>
                    )}
                    {b.type === "COPY_CODE" && (
                      <Field x={x} f={`buttons.${j}.example`} label="Example code">
                        {(c) => <input {...c} value={b.code} maxLength={15} onInput={(e) => setButton(j, { code: val(e) }, "example")} />}
                      </Field>
                    )}
                    {b.type === "OTP" && <p class="muted s-small">The customer copies the code given at each send.</p>}
                    <button type="button" class="link danger tpl-remove" aria-label={`Remove button ${j + 1}`}
                      onClick={() => change({ buttons: d.buttons.filter((_, i) => i !== j) }, "buttons")}>Remove</button>
                  </li>
                ))}
              </ol>
            )}
            <div class="s-actions">
              <label class="s-small" for={idOf("add-button")}>Add a button</label>
              <select id={idOf("add-button")} value="" disabled={d.buttons.length >= 10} data-testid="template-add-button"
                onChange={(e) => {
                  const type = val(e) as ButtonType;
                  (e.currentTarget as HTMLSelectElement).value = "";
                  if (type) change({ buttons: [...d.buttons, newButton(type)] }, "buttons");
                }}>
                <option value="">Choose a type…</option>
                {BUTTON_TYPES.filter((x) => x !== "OTP" || auth).map((x) => <option key={x} value={x}>{BUTTON_LABEL[x]}</option>)}
              </select>
            </div>
          </fieldset>

          {formErrors.length > 0 && (
            <div class="error" role="alert" data-testid="template-form-error">
              {formErrors.length === 1 ? formErrors[0] : <ul>{formErrors.map((m, i) => <li key={i}>{m}</li>)}</ul>}
            </div>
          )}
          <div class="s-actions tpl-actions">
            {(mode === "new" || mode === "draft") && (
              <>
                <button type="submit" class="primary" disabled={!!busy || uploading} data-testid="template-submit">
                  {busy === "submit" ? "Submitting…" : "Submit for review"}
                </button>
                <button type="button" disabled={!!busy || uploading} onClick={() => void save("draft")} data-testid="template-save-draft">
                  {busy === "draft" ? "Saving…" : "Save draft"}
                </button>
              </>
            )}
            {mode === "edit" && (
              <button type="submit" class="primary" disabled={!!busy} data-testid="template-save-changes">
                {busy === "edit" ? "Sending…" : "Save changes"}
              </button>
            )}
            <span class="spacer" />
            {t && <button type="button" disabled={!!busy} onClick={() => void other("duplicate")}>Duplicate</button>}
            {t && <button type="button" class="danger" disabled={!!busy} onClick={() => void other("remove")}>Remove</button>}
            {t?.metaId && <button type="button" class="danger" disabled={!!busy} onClick={() => void other("meta")}>Delete at Meta</button>}
          </div>
        </form>
        <aside class="tpl-side" aria-label="Preview">
          <h3>Preview</h3>
          <TemplatePreview p={previewOfDraft(d)} mediaUrl={media.url} mediaName={media.name} />
          {bodyVars.some((v) => !d.bodyExamples[v]) && <p class="muted s-small">Variables without an example show as {"{{…}}"}.</p>}
        </aside>
      </div>
    </div>
  );
}
