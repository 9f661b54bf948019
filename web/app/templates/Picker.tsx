// The composer's template picker: the approved templates of the conversation's business account,
// searchable and keyboard navigable (↑ ↓ Enter, Esc closes); then one field per value the
// template needs (its example as the placeholder) beside a preview of what the customer gets.
// Sending goes through the inbox store like a reply (pending at once, then the stored message);
// what the server refuses shows at its field. Loaded on demand, so the inbox stays small.
import { useEffect, useId, useRef, useState } from "preact/hooks";
import { api, apiPage, qs, ApiError } from "../api";
import { sendTemplate, errorText } from "../inbox/store";
import type { Conversation } from "../inbox/model";
import {
  checkSend, headerKind, matchesSearch, needsLink, previewOfSend, problemsOf, renderSent, sendField, sendParameters,
  sendableFor, slotExample, slotKey, slotLabel, type FieldErrors, type HeaderExtra, type MessageTemplate,
} from "./model";
import { TemplatePreview } from "./Preview";

interface Account { id: string; inboxId: string; wabaId: string }

/** Most approved templates loaded at once; beyond that the search asks the server. */
const LIMIT = 100;

export function TemplatePicker({ c, onClose }: { c: Conversation; onClose: () => void }) {
  const [all, setAll] = useState<MessageTemplate[] | null>(null);
  const [more, setMore] = useState(false);
  const [account, setAccount] = useState<Account | null | undefined>(undefined);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [q, setQ] = useState("");
  const [sel, setSel] = useState(0);
  const [chosen, setChosen] = useState<MessageTemplate | null>(null);
  const uid = useId();
  const search = useRef<HTMLInputElement>(null);
  // The element that opened the picker gets the focus back when it closes.
  const opener = useRef(document.activeElement as HTMLElement | null).current;
  useEffect(() => () => {
    setTimeout(() => {
      const now = document.activeElement;
      if ((!now || now === document.body) && opener?.isConnected) opener.focus();
    }, 0);
  }, []);

  useEffect(() => {
    let live = true;
    api<Account[]>("/whatsapp-accounts").then(
      (list) => live && setAccount(list.find((a) => a.inboxId === c.inboxId) ?? null),
      () => live && setAccount(null),
    );
    return () => { live = false; };
  }, [c.inboxId]);

  // The first page at once; with more templates than that, the search asks the server.
  useEffect(() => {
    let live = true;
    const query = more ? q.trim() : "";
    const t = setTimeout(() => {
      apiPage<MessageTemplate>("/templates" + qs({ status: "APPROVED", limit: LIMIT, search: query })).then(
        (page) => {
          if (!live) return;
          setAll(page.data);
          setLoadError(null);
          if (!query) setMore((page.pagination?.total ?? 0) > page.data.length);
        },
        (e) => live && setLoadError(errorText(e)),
      );
    }, query ? 250 : 0);
    return () => { live = false; clearTimeout(t); };
  }, [more ? q.trim() : ""]);

  useEffect(() => { if (!chosen) search.current?.focus(); }, [chosen]);

  const shown = account === undefined || all === null ? [] : sendableFor(all, account).filter((t) => matchesSearch(t, q));
  const at = Math.min(sel, Math.max(0, shown.length - 1));

  useEffect(() => {
    document.getElementById(`${uid}-opt-${at}`)?.scrollIntoView({ block: "nearest" });
  }, [at]);

  if (chosen) {
    return <Fill c={c} t={chosen} onBack={() => setChosen(null)} onClose={onClose} />;
  }

  return (
    <section class="tpl-picker" role="dialog" aria-label="Send a template" data-testid="template-picker"
      onKeyDown={(e) => { if (e.key === "Escape") { e.preventDefault(); e.stopPropagation(); onClose(); } }}>
      <div class="tpl-picker-head">
        <strong>Send a template</strong>
        <span class="spacer" />
        <button type="button" class="link" onClick={onClose}>Cancel</button>
      </div>
      <input
        ref={search}
        type="search"
        class="tpl-picker-search"
        value={q}
        placeholder="Search approved templates"
        aria-label="Search approved templates"
        role="combobox"
        aria-expanded="true"
        aria-controls={`${uid}-list`}
        aria-activedescendant={shown.length ? `${uid}-opt-${at}` : undefined}
        data-testid="template-search"
        onInput={(e) => { setQ((e.target as HTMLInputElement).value); setSel(0); }}
        onKeyDown={(e) => {
          if (e.key === "ArrowDown") { e.preventDefault(); setSel((at + 1) % Math.max(1, shown.length)); }
          else if (e.key === "ArrowUp") { e.preventDefault(); setSel((at - 1 + shown.length) % Math.max(1, shown.length)); }
          else if (e.key === "Enter") { e.preventDefault(); if (shown[at]) setChosen(shown[at]); }
        }}
      />
      {loadError && <p class="error" role="alert">{loadError}</p>}
      {!loadError && (all === null || account === undefined) && <p class="muted" role="status">Loading templates…</p>}
      <ul class="tpl-options" role="listbox" id={`${uid}-list`} aria-label="Approved templates">
        {shown.map((t, i) => (
          <li key={t.id} id={`${uid}-opt-${i}`} role="option" aria-selected={i === at} class={i === at ? "sel" : ""}
            data-testid="template-option" data-name={t.name}
            onMouseEnter={() => setSel(i)} onClick={() => setChosen(t)}>
            <div class="tpl-option-line">
              <strong>{t.name}</strong>
              <span class="muted s-small">{t.language} · {t.category.toLowerCase()}</span>
            </div>
            <div class="muted ellipsis s-small">{t.components.find((x) => x.type === "BODY")?.text ?? ""}</div>
          </li>
        ))}
      </ul>
      {all !== null && account !== undefined && shown.length === 0 && !loadError && (
        <p class="muted" data-testid="template-none">
          {q ? "No approved template matches." : "This number's business account has no approved template yet. Admins create them under Settings → Templates."}
        </p>
      )}
    </section>
  );
}

function Fill({ c, t, onBack, onClose }: { c: Conversation; t: MessageTemplate; onBack: () => void; onClose: () => void }) {
  const [values, setValues] = useState<Record<string, string>>({});
  const [extra, setExtra] = useState<HeaderExtra>({});
  const [errors, setErrors] = useState<FieldErrors>({});
  const [formError, setFormError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const uid = useId();
  const box = useRef<HTMLElement>(null);
  const focusError = useRef(false);
  const kind = headerKind(t);

  useEffect(() => {
    box.current?.querySelector<HTMLElement>("input, button.primary")?.focus();
  }, []);
  useEffect(() => {
    if (!focusError.current) return;
    focusError.current = false;
    box.current?.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus();
  }, [errors]);

  const idOf = (k: string) => `${uid}-${k.replace(/[^\w-]/g, "_")}`;
  const input = (k: string, label: string, value: string, set: (v: string) => void, placeholder?: string | null, type = "text") => (
    <div class="tpl-slot" key={k}>
      <label for={idOf(k)}>{label}</label>
      <input id={idOf(k)} type={type} value={value} placeholder={placeholder ?? ""} data-testid="template-field" data-slot={k}
        aria-invalid={errors[k] ? "true" : undefined} aria-describedby={errors[k] ? idOf(k) + "-error" : undefined}
        onInput={(e) => {
          set((e.target as HTMLInputElement).value);
          if (errors[k]) { const next = { ...errors }; delete next[k]; setErrors(next); }
        }}
        onKeyDown={(e) => { if (e.key === "Enter") { e.preventDefault(); void send(); } }} />
      {errors[k] && <div class="field-error" id={idOf(k) + "-error"} role="alert">{errors[k]}</div>}
    </div>
  );

  async function send() {
    if (busy) return;
    const problems = checkSend(t, values, extra);
    if (Object.keys(problems).length) {
      focusError.current = true;
      setErrors(problems);
      return;
    }
    setBusy(true);
    setFormError(null);
    try {
      await sendTemplate(c.id, t.name, t.language, sendParameters(t, values, extra), renderSent(t, values));
      onClose();
    } catch (e) {
      setBusy(false);
      if (!(e instanceof ApiError)) { setFormError(errorText(e)); return; }
      const fields: FieldErrors = {};
      const rest: string[] = [];
      for (const p of problemsOf(e.field, e.message)) {
        const k = p.field ? sendField(p.field, t) : null;
        if (k && !fields[k]) fields[k] = p.message;
        else rest.push(p.field && !k ? `${p.field}: ${p.message}` : p.message);
      }
      focusError.current = Object.keys(fields).length > 0;
      setErrors(fields);
      if (rest.length) setFormError(e.status === 409 || e.status === 404 ? errorText(new ApiError(e.status, e.code, rest.join("; "))) : rest.join("; "));
    }
  }

  const slots = t.parameters ?? [];
  return (
    <section class="tpl-picker" role="dialog" aria-label={`Send the template ${t.name}`} data-testid="template-fill" ref={box}
      onKeyDown={(e) => { if (e.key === "Escape") { e.preventDefault(); e.stopPropagation(); onClose(); } }}>
      <div class="tpl-picker-head">
        <button type="button" class="link" onClick={onBack} aria-label="Choose another template">← Templates</button>
        <strong class="ellipsis">{t.name}</strong>
        <span class="muted s-small">{t.language}</span>
        <span class="spacer" />
        <button type="button" class="link" onClick={onClose}>Cancel</button>
      </div>
      <div class="tpl-fill">
        <div class="tpl-slots">
          {slots.length === 0 && kind !== "LOCATION" && !needsLink(t) && <p class="muted s-small">This template has nothing to fill in.</p>}
          {slots.map((s) => input(slotKey(s), slotLabel(s, t), values[slotKey(s)] ?? "", (v) => setValues((x) => ({ ...x, [slotKey(s)]: v })), slotExample(s, t)))}
          {needsLink(t) && input("headerLink", `Header ${kind.toLowerCase()}: a public https link`, extra.headerLink ?? "", (v) => setExtra((x) => ({ ...x, headerLink: v })), "https://", "url")}
          {kind === "LOCATION" && (
            <>
              {input("latitude", "Latitude", extra.latitude ?? "", (v) => setExtra((x) => ({ ...x, latitude: v })), "52.5200")}
              {input("longitude", "Longitude", extra.longitude ?? "", (v) => setExtra((x) => ({ ...x, longitude: v })), "13.4050")}
              {input("locationName", "Place name (optional)", extra.locationName ?? "", (v) => setExtra((x) => ({ ...x, locationName: v })))}
              {input("address", "Address (optional)", extra.address ?? "", (v) => setExtra((x) => ({ ...x, address: v })))}
            </>
          )}
          {formError && <p class="error" role="alert" data-testid="template-send-error">{formError}</p>}
          <div class="row-buttons">
            <button type="button" class="primary" disabled={busy} onClick={() => void send()} data-testid="template-send">
              {busy ? "Sending…" : "Send template"}
            </button>
          </div>
        </div>
        <TemplatePreview p={previewOfSend(t, values, false)} mediaName={kind === "DOCUMENT" ? "Document" : null} testid="template-send-preview" />
      </div>
    </section>
  );
}
