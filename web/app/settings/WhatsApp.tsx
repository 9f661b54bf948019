// WhatsApp numbers: the connected ones, connecting one by hand (ids and token from Meta's
// console, checked with Meta by the server), renaming, replacing the token, disconnecting.
import { useState } from "preact/hooks";
import { api } from "../api";
import { Field, ListState, confirmed, fmtDate, useForm, useLoad, val } from "./form";

export interface WhatsAppAccount {
  id: string;
  inboxId: string;
  wabaId: string;
  phoneNumberId: string;
  displayPhoneNumber: string | null;
  alias: string | null;
  status: string;
  createdAt: string;
  updatedAt: string;
}

export function WhatsAppSettings() {
  const accounts = useLoad(() => api<WhatsAppAccount[]>("/whatsapp-accounts"));
  return (
    <div class="settings-screen">
      <h2>WhatsApp numbers</h2>
      <ListState state={accounts} empty="No WhatsApp number is connected yet.">
        {(items) => (
          <ul class="s-rows" data-testid="whatsapp-list">
            {items.map((a) => (
              <AccountRow key={a.id} account={a} onChanged={() => void accounts.reload()} />
            ))}
          </ul>
        )}
      </ListState>
      <ConnectForm onConnected={() => void accounts.reload()} />
    </div>
  );
}

function AccountRow(props: { account: WhatsAppAccount; onChanged: () => void }) {
  const a = props.account;
  const [editing, setEditing] = useState(false);
  const [alias, setAlias] = useState(a.alias ?? "");
  const [token, setToken] = useState("");
  const form = useForm();

  async function save(e: Event) {
    e.preventDefault();
    const body: Record<string, string> = { alias };
    if (token.trim()) body.accessToken = token;
    const ok = await form.run(() => api(`/whatsapp-accounts/${a.id}`, { method: "PATCH", body }));
    if (ok !== undefined) {
      setEditing(false);
      setToken("");
      props.onChanged();
    }
  }

  async function disconnect() {
    if (!confirmed(`Disconnect ${a.alias || a.displayPhoneNumber || a.phoneNumberId}? Its messages stop arriving.`)) return;
    const ok = await form.run(async () => {
      await api(`/whatsapp-accounts/${a.id}`, { method: "DELETE" });
      return true;
    });
    if (ok) props.onChanged();
  }

  return (
    <li class="s-row" data-testid="whatsapp-row">
      <div class="s-row-main">
        <strong>{a.alias || a.displayPhoneNumber || a.phoneNumberId}</strong>
        <span class={"s-badge status-" + a.status}>{a.status}</span>
        <div class="muted">
          {a.displayPhoneNumber && <>Number {a.displayPhoneNumber} · </>}
          Phone number id {a.phoneNumberId} · WABA {a.wabaId} · connected {fmtDate(a.createdAt)}
        </div>
      </div>
      {!editing ? (
        <div class="s-row-actions">
          <button type="button" onClick={() => setEditing(true)}>Edit</button>
          <button type="button" class="danger" disabled={form.busy} onClick={() => void disconnect()}>
            Disconnect
          </button>
        </div>
      ) : (
        <form class="s-inline-form" noValidate onSubmit={save}>
          <Field form={form} name="alias" label="Name">
            {(p) => <input {...p} value={alias} maxLength={100} onInput={(e) => setAlias(val(e))} />}
          </Field>
          <Field form={form} name="accessToken" label="New access token" hint="Leave empty to keep the current one.">
            {(p) => <input {...p} type="password" autoComplete="off" value={token} onInput={(e) => setToken(val(e))} />}
          </Field>
          <div class="s-actions">
            <button type="submit" class="primary" disabled={form.busy}>Save</button>
            <button type="button" onClick={() => { setEditing(false); form.clear(); }}>Cancel</button>
          </div>
        </form>
      )}
      {form.formError()}
    </li>
  );
}

function ConnectForm(props: { onConnected: () => void }) {
  const empty = { wabaId: "", phoneNumberId: "", accessToken: "", alias: "" };
  const [v, setV] = useState(empty);
  const form = useForm();
  const set = (k: keyof typeof empty) => (e: Event) => setV({ ...v, [k]: val(e) });

  async function submit(e: Event) {
    e.preventDefault();
    const body = { ...v, alias: v.alias.trim() || undefined };
    const created = await form.run(() => api<WhatsAppAccount>("/whatsapp-accounts/connect-manual", { body }));
    if (created) {
      setV(empty);
      props.onConnected();
    }
  }

  return (
    <form class="s-panel" noValidate data-testid="whatsapp-connect-form" onSubmit={submit}>
      <h3>Connect a number</h3>
      <p class="muted">The ids are on the WhatsApp page of Meta's developer console; the token is checked with Meta.</p>
      <div class="s-grid2">
        <Field form={form} name="wabaId" label="WhatsApp Business Account id">
          {(p) => <input {...p} required value={v.wabaId} onInput={set("wabaId")} />}
        </Field>
        <Field form={form} name="phoneNumberId" label="Phone number id">
          {(p) => <input {...p} required value={v.phoneNumberId} onInput={set("phoneNumberId")} />}
        </Field>
        <Field form={form} name="accessToken" label="Access token">
          {(p) => <input {...p} required type="password" autoComplete="off" value={v.accessToken} onInput={set("accessToken")} />}
        </Field>
        <Field form={form} name="alias" label="Name (optional)">
          {(p) => <input {...p} maxLength={100} value={v.alias} onInput={set("alias")} />}
        </Field>
      </div>
      {form.formError()}
      <div class="s-actions">
        <button type="submit" class="primary" disabled={form.busy}>
          {form.busy ? "Connecting…" : "Connect"}
        </button>
      </div>
    </form>
  );
}
