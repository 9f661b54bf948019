// WhatsApp message templates: the list with status, quality and Meta's rejection reason, kept
// current by the review webhooks (live events); filters, a sync with Meta and its report,
// selection with bulk actions. `/settings/templates/new` and `/settings/templates/<id>` open
// the editor.
import { useEffect, useRef, useState } from "preact/hooks";
import { api, apiPage, qs, type Page } from "../api";
import { navigate, path } from "../router";
import { subscribe } from "../live/socket";
import { CATEGORIES, STATUSES, type BulkResult, type MessageTemplate, type SyncReport } from "../templates/model";
import { confirmed, fmtDate, useLoad, val } from "./form";
import { TemplateEditor, takeFlash } from "./TemplateEditor";
import { QualityBadge, StatusBadge } from "../templates/Badges";

const LIMIT = 50;

export function TemplatesSettings() {
  const sub = path.value.split("/")[3] ?? "";
  if (sub) return <TemplateEditor key={sub} id={sub === "new" ? null : decodeURIComponent(sub)} />;
  return <TemplateList />;
}

const count = (n: number) => `${n} template${n === 1 ? "" : "s"}`;
const open = (id: string) => navigate("/settings/templates/" + encodeURIComponent(id));

function TemplateList() {
  const [status, setStatus] = useState("");
  const [category, setCategory] = useState("");
  const [search, setSearch] = useState("");
  const [query, setQuery] = useState("");
  const [page, setPage] = useState(1);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [busy, setBusy] = useState(false);
  const [notice, setNotice] = useState<{ text: string; details?: string[]; kind: "info" | "error" } | null>(() => {
    const f = takeFlash();
    return f ? { kind: "info", text: f } : null;
  });

  // Typing in the search waits for a pause before asking the server.
  useEffect(() => {
    const t = setTimeout(() => { setQuery(search.trim()); setPage(1); }, 250);
    return () => clearTimeout(t);
  }, [search]);

  const list = useLoad<Page<MessageTemplate>>(
    () => apiPage<MessageTemplate>("/templates" + qs({ status, category, search: query, page, limit: LIMIT })),
    [status, category, query, page],
  );
  const items = list.data?.data ?? [];
  const pages = list.data?.pagination?.totalPages ?? 1;
  const shown = useRef(items);
  shown.current = items;

  // Review outcomes, quality and category changes arrive as events: the row changes in place.
  useEffect(
    () =>
      subscribe((ev) => {
        if (!ev.event.startsWith("template.")) return;
        const t = ev.data?.template as MessageTemplate | null | undefined;
        if (!t) {
          const name = ev.data?.templateName;
          if (name) setNotice({ kind: "info", text: `Meta reported on “${name}”, which is not here yet: sync to fetch it.` });
          return;
        }
        if (shown.current.some((x) => x.id === t.id)) {
          list.set((prev) => (prev ? { ...prev, data: prev.data.map((x) => (x.id === t.id ? t : x)) } : prev!));
        } else {
          void list.reload();
        }
      }),
    [list.reload],
  );

  function toggle(id: string, on: boolean) {
    const next = new Set(selected);
    if (on) next.add(id);
    else next.delete(id);
    setSelected(next);
  }
  const allOnPage = items.length > 0 && items.every((t) => selected.has(t.id));

  async function run<T>(fn: () => Promise<T>): Promise<T | undefined> {
    setBusy(true);
    setNotice(null);
    try {
      return await fn();
    } catch (e) {
      setNotice({ kind: "error", text: e instanceof Error ? e.message : String(e) });
      return undefined;
    } finally {
      setBusy(false);
    }
  }

  async function sync() {
    const r = await run(() => api<SyncReport>("/templates/sync", { method: "POST", body: {} }));
    if (!r) return;
    const text = `Synced with Meta (${r.accounts} business account${r.accounts === 1 ? "" : "s"}): ${r.created} new, ${r.updated} updated, ${r.unchanged} unchanged, ${r.removed} removed.`;
    const details = r.failed.map((f) => `${f.wabaId ?? f.accountId ?? "An account"}: ${f.reason ?? "failed"}`);
    setNotice({ kind: r.failed.length ? "error" : "info", text, details });
    void list.reload();
  }

  async function bulk(action: "delete" | "delete_meta" | "submit") {
    const ids = [...selected];
    const what = { delete: "Remove", delete_meta: "Delete at Meta (and here)", submit: "Submit for review" }[action];
    const warn = action === "delete_meta" ? " Meta deletes them for good and does not let their names be used again for 30 days." : "";
    if (action !== "submit" && !confirmed(`${what}: ${ids.length} template${ids.length === 1 ? "" : "s"}?${warn}`)) return;
    const r = await run(() => api<BulkResult>("/templates/bulk", { body: { action, selection: { mode: "ids", ids } } }));
    if (!r) return;
    const names = new Map(items.map((t) => [t.id, t.name]));
    setNotice({
      kind: r.failed.length ? "error" : "info",
      text: `${what}: ${r.succeeded.length} done${r.failed.length ? `, ${r.failed.length} failed` : ""}.`,
      details: r.failed.map((f) => `${names.get(f.id) ?? f.id}: ${f.reason}`),
    });
    setSelected(new Set(r.failed.map((f) => f.id)));
    void list.reload();
  }

  return (
    <div class="settings-screen" data-testid="templates">
      <div class="tpl-title">
        <h2>Message templates</h2>
        <span class="spacer" />
        <button type="button" disabled={busy} onClick={() => void sync()} data-testid="templates-sync">Sync with Meta</button>
        <button type="button" class="primary" onClick={() => navigate("/settings/templates/new")} data-testid="template-new">New template</button>
      </div>
      <p class="muted">Outside the 24-hour window WhatsApp only delivers approved templates. Meta reviews each one; its verdict arrives here on its own.</p>
      <div class="tpl-filters" role="search">
        <label class="sr-only" for="tpl-search">Search templates</label>
        <input id="tpl-search" type="search" placeholder="Search by name" value={search} onInput={(e) => setSearch(val(e))} data-testid="templates-search" />
        <label class="sr-only" for="tpl-status">Status</label>
        <select id="tpl-status" value={status} onChange={(e) => { setStatus(val(e)); setPage(1); }} data-testid="templates-status-filter">
          <option value="">Any status</option>
          {STATUSES.map((s) => <option key={s} value={s}>{s.replace("_", " ").toLowerCase()}</option>)}
        </select>
        <label class="sr-only" for="tpl-category">Category</label>
        <select id="tpl-category" value={category} onChange={(e) => { setCategory(val(e)); setPage(1); }}>
          <option value="">Any category</option>
          {CATEGORIES.map((c) => <option key={c} value={c}>{c.toLowerCase()}</option>)}
        </select>
      </div>
      {notice && (
        <div class={notice.kind === "error" ? "notice s-warn" : "notice"} role={notice.kind === "error" ? "alert" : "status"} data-testid="templates-notice">
          {notice.text}
          {notice.details && notice.details.length > 0 && <ul>{notice.details.map((d, i) => <li key={i}>{d}</li>)}</ul>}
        </div>
      )}
      {selected.size > 0 && (
        <div class="tpl-bulk" role="toolbar" aria-label="Selected templates" data-testid="templates-bulk">
          <strong>{selected.size} selected</strong>
          <button type="button" disabled={busy} onClick={() => void bulk("submit")}>Submit drafts</button>
          <button type="button" class="danger" disabled={busy} onClick={() => void bulk("delete")} data-testid="templates-bulk-delete">Remove here</button>
          <button type="button" class="danger" disabled={busy} onClick={() => void bulk("delete_meta")}>Delete at Meta</button>
          <button type="button" class="link" onClick={() => setSelected(new Set())}>Clear</button>
        </div>
      )}
      {list.data === undefined && list.loading && <p class="loading" role="status">Loading…</p>}
      {list.error && <p class="error" role="alert">{list.error.message}</p>}
      {list.data && items.length === 0 && (
        <p class="empty-state">
          {status || category || query ? "No template matches." : "No templates yet. Create one, or sync the ones your business account has at Meta."}
        </p>
      )}
      {items.length > 0 && (
        <ul class="s-rows tpl-rows" data-testid="templates-list">
          <li class="s-row tpl-head">
            <label class="s-check">
              <input type="checkbox" checked={allOnPage} aria-label="Select every template on this page"
                onChange={(e) => {
                  const on = (e.currentTarget as HTMLInputElement).checked;
                  const next = new Set(selected);
                  for (const t of items) on ? next.add(t.id) : next.delete(t.id);
                  setSelected(next);
                }} />
              <span class="muted">{count(list.data?.pagination?.total ?? items.length)}</span>
            </label>
          </li>
          {items.map((t) => (
            <TemplateRow key={t.id} t={t} checked={selected.has(t.id)} onCheck={(on) => toggle(t.id, on)}
              onChanged={() => void list.reload()} onError={(text) => setNotice({ kind: "error", text })} />
          ))}
        </ul>
      )}
      {pages > 1 && (
        <div class="s-actions" aria-label="Pages">
          <button type="button" disabled={page <= 1} onClick={() => setPage(page - 1)}>Previous</button>
          <span class="muted">Page {page} of {pages}</span>
          <button type="button" disabled={page >= pages} onClick={() => setPage(page + 1)}>Next</button>
        </div>
      )}
    </div>
  );
}

function bodyText(t: MessageTemplate): string {
  return t.components?.find((c) => c.type?.toUpperCase() === "BODY")?.text ?? "";
}

function TemplateRow(props: { t: MessageTemplate; checked: boolean; onCheck: (on: boolean) => void; onChanged: () => void; onError: (m: string) => void }) {
  const { t } = props;
  const [busy, setBusy] = useState(false);
  async function act(fn: () => Promise<unknown>) {
    setBusy(true);
    try {
      await fn();
      props.onChanged();
    } catch (e) {
      props.onError(e instanceof Error ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  }
  const id = encodeURIComponent(t.id);
  return (
    <li class="s-row tpl-row" data-testid="template-row" data-id={t.id} data-name={t.name} data-status={t.status}>
      <input type="checkbox" checked={props.checked} aria-label={`Select ${t.name}`}
        onChange={(e) => props.onCheck((e.currentTarget as HTMLInputElement).checked)} />
      <div class="s-row-main tpl-main">
        <div class="tpl-line">
          <a href={"/settings/templates/" + id} class="tpl-name" onClick={(e) => { e.preventDefault(); open(t.id); }}>{t.name}</a>
          <StatusBadge status={t.status} />
          <QualityBadge quality={t.quality} />
        </div>
        <div class="muted s-small">
          {t.language} · {t.category.toLowerCase()}
          {t.previousCategory && t.previousCategory !== t.category && <> (Meta changed it from {t.previousCategory.toLowerCase()})</>}
          {" · "}updated {fmtDate(t.updatedAt)}
        </div>
        {t.status === "REJECTED" && (
          <div class="tpl-reason" data-testid="template-rejected-reason">Rejected: {t.rejectedReason ?? "Meta gave no reason"}</div>
        )}
        {(t.status === "PAUSED" || t.status === "DISABLED") && (
          <div class="tpl-reason">{t.status === "PAUSED" ? "Paused by Meta after poor feedback: it cannot be sent for now." : "Disabled by Meta: it cannot be sent."}</div>
        )}
        <div class="tpl-body ellipsis">{bodyText(t)}</div>
      </div>
      <div class="s-row-actions">
        <button type="button" onClick={() => open(t.id)}>{["DRAFT", "APPROVED", "REJECTED", "PAUSED"].includes(t.status) ? "Edit" : "View"}</button>
        <button type="button" disabled={busy} onClick={() => void act(() => api(`/templates/${id}/duplicate`, { method: "POST" }))}>Duplicate</button>
        <button type="button" class="danger" disabled={busy} data-testid="template-remove"
          onClick={() => {
            if (!confirmed(`Remove “${t.name}” here? Meta keeps its copy${t.metaId ? " (use Delete at Meta to delete it there)" : ""}.`)) return;
            void act(() => api(`/templates/${id}`, { method: "DELETE" }));
          }}>Remove</button>
        {t.metaId && (
          <button type="button" class="danger" disabled={busy}
            onClick={() => {
              if (!confirmed(`Delete “${t.name}” at Meta? Meta deletes it for good and does not let the name be used again for 30 days.`)) return;
              void act(() => api(`/templates/${id}/meta`, { method: "DELETE" }));
            }}>Delete at Meta</button>
        )}
      </div>
    </li>
  );
}
