// Tags: the organization's conversation labels with a palette color; create, rename/recolor,
// delete (removes the tag from every conversation).
import { useState } from "preact/hooks";
import { api } from "../api";
import { Field, ListState, confirmed, done, useForm, useLoad, val } from "./form";

interface Tag {
  id: string;
  name: string;
  color: string;
  hex: string;
}

interface TagColor {
  name: string;
  hex: string;
}

export function TagsSettings() {
  const tags = useLoad(() => api<Tag[]>("/tags"));
  const colors = useLoad(() => api<TagColor[]>("/tags/colors"));
  const palette = colors.data ?? [];
  return (
    <div class="settings-screen">
      <h2>Tags</h2>
      <ListState state={tags} empty="No tags yet.">
        {(items) => (
          <ul class="s-rows" data-testid="tags-list">
            {items.map((t) => <TagRow key={t.id} tag={t} colors={palette} onChanged={() => void tags.reload()} />)}
          </ul>
        )}
      </ListState>
      <TagForm colors={palette} onSaved={() => void tags.reload()} />
    </div>
  );
}

function ColorSelect(props: { form: ReturnType<typeof useForm>; colors: TagColor[]; value: string; onChange: (c: string) => void }) {
  const hex = props.colors.find((c) => c.name === props.value)?.hex;
  return (
    <Field form={props.form} name="color" label="Color">
      {(p) => (
        <div class="s-color-select">
          <span class="s-swatch" style={{ background: hex ?? "transparent" }} aria-hidden="true" />
          <select {...p} value={props.value} onChange={(e) => props.onChange(val(e))}>
            {props.colors.map((c) => <option key={c.name} value={c.name}>{c.name}</option>)}
          </select>
        </div>
      )}
    </Field>
  );
}

function TagForm(props: { tag?: Tag; colors: TagColor[]; onSaved: () => void; onCancel?: () => void }) {
  const t = props.tag;
  const [name, setName] = useState(t?.name ?? "");
  const [color, setColor] = useState(t?.color ?? "gray");
  const form = useForm();

  async function submit(e: Event) {
    e.preventDefault();
    const body = { name, color };
    const saved = await form.run(() => (t ? api<Tag>(`/tags/${t.id}`, { method: "PUT", body }) : api<Tag>("/tags", { body })));
    if (saved) {
      if (!t) {
        setName("");
        setColor("gray");
      }
      props.onSaved();
    }
  }

  return (
    <form class={t ? "s-inline-form" : "s-panel"} noValidate onSubmit={submit} data-testid={t ? "tag-edit-form" : "tag-create-form"}>
      {!t && <h3>New tag</h3>}
      <div class="s-inline-form">
        <Field form={form} name="name" label="Name">
          {(p) => <input {...p} required maxLength={50} value={name} onInput={(e) => setName(val(e))} />}
        </Field>
        <ColorSelect form={form} colors={props.colors} value={color} onChange={setColor} />
        <div class="s-actions">
          <button type="submit" class="primary" disabled={form.busy}>{t ? "Save" : "Create tag"}</button>
          {props.onCancel && <button type="button" onClick={props.onCancel}>Cancel</button>}
        </div>
      </div>
      {form.formError()}
    </form>
  );
}

function TagRow(props: { tag: Tag; colors: TagColor[]; onChanged: () => void }) {
  const t = props.tag;
  const [editing, setEditing] = useState(false);
  const form = useForm();

  async function remove() {
    if (!confirmed(`Delete the tag "${t.name}"? It is removed from every conversation.`)) return;
    const ok = await form.run(() => done(api(`/tags/${t.id}`, { method: "DELETE" })));
    if (ok) props.onChanged();
  }

  return (
    <li class="s-row" data-testid="tag-row">
      {editing ? (
        <TagForm tag={t} colors={props.colors} onSaved={() => { setEditing(false); props.onChanged(); }} onCancel={() => setEditing(false)} />
      ) : (
        <>
          <div class="s-row-main">
            <span class="s-tag-chip" style={{ borderColor: t.hex, background: t.hex + "22" }}>
              <span class="s-swatch" style={{ background: t.hex }} aria-hidden="true" />
              {t.name}
            </span>{" "}
            <span class="muted">{t.color}</span>
            {form.formError()}
          </div>
          <div class="s-row-actions">
            <button type="button" onClick={() => setEditing(true)}>Edit</button>
            <button type="button" class="danger" disabled={form.busy} onClick={() => void remove()}>Delete</button>
          </div>
        </>
      )}
    </li>
  );
}
