// The customer: name (editable), phone, category, the conversation's tags and category, earlier
// conversations, and the bot's hand-off summary.
import { useEffect, useState } from "preact/hooks";
import { api } from "../api";
import { navigate } from "../router";
import type { Conversation, Contact } from "./model";
import { contactKey, contactName, contactPhone, STATUS_LABEL } from "./model";
import { tags, teams, tagById, addTag, removeTag, actions, categories, say, errorText, convs, convRev, getConv } from "./store";
import { IconX } from "./icons";

function NameEditor({ contact }: { contact: Contact }) {
  const [editing, setEditing] = useState(false);
  const [name, setName] = useState(contact.name ?? "");
  const [category, setCategory] = useState(contact.category ?? "");
  const [busy, setBusy] = useState(false);
  useEffect(() => { setName(contact.name ?? ""); setCategory(contact.category ?? ""); setEditing(false); }, [contact.id]);
  async function save(e: Event) {
    e.preventDefault();
    setBusy(true);
    try {
      const d = await api<{ contact: Contact }>(`/contacts/${encodeURIComponent(contactKey(contact))}`, {
        method: "PATCH",
        body: { name: name.trim(), category: category.trim() },
      });
      const next = d?.contact ?? { ...contact, name: name.trim(), category: category.trim() };
      for (const [id, c] of convs) if (c.contact?.id === contact.id) convs.set(id, { ...c, contact: { ...c.contact, ...next } });
      convRev.value++;
      setEditing(false);
    } catch (err) {
      say(errorText(err), "error");
    }
    setBusy(false);
  }
  if (!editing) {
    return (
      <div class="contact-id">
        <h3 data-testid="contact-name">{contact.name || contact.profileName || (contact.waId ? "+" + contact.waId : contact.email || "Visitor")}</h3>
        {contact.profileName && contact.profileName !== contact.name && <div class="muted">WhatsApp name: {contact.profileName}</div>}
        {contact.category && <div class="muted">Category: {contact.category}</div>}
        <button type="button" class="link" data-testid="edit-contact" onClick={() => setEditing(true)}>Edit</button>
      </div>
    );
  }
  return (
    <form class="contact-edit" onSubmit={save} onKeyDown={(e) => e.key === "Escape" && (e.stopPropagation(), setEditing(false))}>
      <label>Name<input value={name} maxLength={200} onInput={(e) => setName((e.target as HTMLInputElement).value)} data-testid="contact-name-input" autoFocus /></label>
      <label>Customer category<input value={category} maxLength={100} onInput={(e) => setCategory((e.target as HTMLInputElement).value)} /></label>
      <div class="row-buttons">
        <button type="button" onClick={() => setEditing(false)}>Cancel</button>
        <button type="submit" class="primary" disabled={busy}>Save</button>
      </div>
    </form>
  );
}

function Tags({ c }: { c: Conversation }) {
  const have = new Set((c.tags ?? []).map((t) => t.id));
  const free = tags.value.filter((t) => !have.has(t.id));
  return (
    <section class="panel-section" aria-label="Tags">
      <h4>Tags</h4>
      <ul class="tag-list">
        {(c.tags ?? []).map((t) => (
          <li class="tag-chip" style={{ "--tag": tagById.value.get(t.id)?.hex ?? "#888" }}>
            {t.name}
            <button type="button" class="chip-x" aria-label={`Remove tag ${t.name}`} onClick={() => void removeTag(c.id, t.id)}><IconX size={12} /></button>
          </li>
        ))}
        {(c.tags ?? []).length === 0 && <li class="muted">No tags</li>}
      </ul>
      {free.length > 0 && (
        <select aria-label="Add a tag" value="" data-testid="add-tag" onChange={(e) => {
          const v = (e.target as HTMLSelectElement).value;
          if (v) void addTag(c.id, v);
          (e.target as HTMLSelectElement).value = "";
        }}>
          <option value="">Add a tag…</option>
          {free.map((t) => <option value={t.id}>{t.name}</option>)}
        </select>
      )}
    </section>
  );
}

function Category({ c }: { c: Conversation }) {
  const [v, setV] = useState(c.category ?? "");
  useEffect(() => setV(c.category ?? ""), [c.id, c.category]);
  return (
    <section class="panel-section" aria-label="Conversation category">
      <h4>Category</h4>
      <form class="inline-form" onSubmit={(e) => { e.preventDefault(); void actions.category(c.id, v.trim() || null); }}>
        <input list="cx-categories" value={v} maxLength={100} aria-label="Conversation category" placeholder="None"
          onInput={(e) => setV((e.target as HTMLInputElement).value)} data-testid="conversation-category" />
        <datalist id="cx-categories">{categories.value.map((x) => <option value={x} />)}</datalist>
        <button type="submit" disabled={(c.category ?? "") === v.trim()}>Save</button>
      </form>
    </section>
  );
}

function History({ c }: { c: Conversation }) {
  const [rows, setRows] = useState<Conversation[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    setRows(null);
    setError(null);
    api<Conversation[]>(`/conversations/${encodeURIComponent(c.id)}/contact-history`).then(
      (r) => live && setRows(r),
      (e) => live && setError(errorText(e)),
    );
    return () => { live = false; };
  }, [c.id]);
  return (
    <section class="panel-section" aria-label="Previous conversations">
      <h4>Previous conversations</h4>
      {error && <div class="error">{error}</div>}
      {!rows && !error && <div class="muted">Loading…</div>}
      {rows && rows.length === 0 && <div class="muted">None.</div>}
      {rows && rows.length > 0 && (
        <ul class="history" data-testid="contact-history">
          {rows.map((h) => (
            <li>
              <a href={`/conversations/${h.id}`} onClick={(e) => { e.preventDefault(); if (!convs.has(h.id)) convs.set(h.id, h); navigate(`/conversations/${h.id}`); }}>
                <span>{new Date(h.createdAt).toLocaleDateString()}</span> <span class={"status s-" + h.status}>{STATUS_LABEL[h.status] ?? h.status}</span>
                <div class="muted ellipsis">{h.lastMessagePreview ?? ""}</div>
              </a>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

export function ContactPanel({ id, onClose }: { id: string; onClose: () => void }) {
  void convRev.value;
  const c = getConv(id);
  if (!c) return null;
  return (
    <aside class="pane contact-pane" aria-label="Contact" data-testid="contact-panel">
      <div class="panel-head">
        <h3 class="sr-only">Contact</h3>
        <button type="button" class="icon-btn close-panel" aria-label="Close the contact panel" onClick={onClose}><IconX /></button>
      </div>
      {c.contact ? <NameEditor contact={c.contact} /> : <h3>{contactName(c)}</h3>}
      <dl class="facts">
        <dt>Phone</dt><dd>{contactPhone(c)}</dd>
        <dt>Status</dt><dd>{STATUS_LABEL[c.status] ?? c.status}</dd>
        {c.teamId && (<><dt>Team</dt><dd>{teams.value.find((t) => t.id === c.teamId)?.name ?? "—"}</dd></>)}
        <dt>Started</dt><dd>{new Date(c.createdAt).toLocaleString()}</dd>
        {c.windowClosesAt && (<><dt>Window</dt><dd>{Date.parse(c.windowClosesAt) > Date.now() ? "open until " : "closed "}{new Date(c.windowClosesAt).toLocaleString()}</dd></>)}
      </dl>
      <Category c={c} />
      <Tags c={c} />
      {c.handoffSummary && (
        <section class="panel-section" aria-label="Hand-off summary">
          <h4>Hand-off summary</h4>
          <p class="handoff-text">{c.handoffSummary}</p>
        </section>
      )}
      <History c={c} />
    </aside>
  );
}
