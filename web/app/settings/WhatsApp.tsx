// WhatsApp numbers: the connected ones with their health at Meta, Meta's alerts about them,
// connecting one with Meta's Embedded Signup (once the Meta app is configured here) or by hand
// (ids and token from Meta's console, checked with Meta by the server), renaming, replacing the
// token, disconnecting.
import { useEffect, useState } from "preact/hooks";
import { api, apiPage, qs } from "../api";
import { Field, ListState, confirmed, fmtDate, useForm, useLoad, val } from "./form";
import { onAccountAlert, refreshUnreadAlerts, unreadAlerts } from "./alerts";
import {
  dailyLimitText,
  loadFacebookSdk,
  qualityClass,
  qualityText,
  sessionInfoOf,
  signupLoginOptions,
  type AccountAlert,
  type Health,
  type MetaConfig,
  type SessionInfo,
} from "./whatsapp";

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
  const config = useLoad(() => api<MetaConfig>("/whatsapp-accounts/meta-config"));
  return (
    <div class="settings-screen">
      <h2>WhatsApp numbers</h2>
      <AlertsPanel />
      <ListState state={accounts} empty="No WhatsApp number is connected yet.">
        {(items) => (
          <ul class="s-rows" data-testid="whatsapp-list">
            {items.map((a) => (
              <AccountRow key={a.id} account={a} onChanged={() => void accounts.reload()} />
            ))}
          </ul>
        )}
      </ListState>
      {config.data?.appId && config.data.configId && (
        <EmbeddedSignup config={config.data} onConnected={() => void accounts.reload()} />
      )}
      <ConnectForm onConnected={() => void accounts.reload()} />
      <MetaConfigForm config={config.data} onSaved={(c) => config.set(c)} />
    </div>
  );
}

/** The number's health at Meta: quality, messaging limit, throughput, display-name status. */
function HealthCard(props: { accountId: string }) {
  const [refresh, setRefresh] = useState(0);
  const health = useLoad(
    () => api<Health>(`/whatsapp-accounts/${props.accountId}/health${qs({ refresh: refresh > 0 ? true : undefined })}`),
    [props.accountId, refresh],
  );
  const h = health.data;
  return (
    <div class="s-panel s-health" data-testid="whatsapp-health">
      <div class="s-actions">
        <strong>Health at Meta</strong>
        {h && <span class={"s-badge " + qualityClass(h.qualityRating)} data-testid="health-quality">Quality: {qualityText(h.qualityRating)}</span>}
        <button type="button" disabled={health.loading} onClick={() => setRefresh((n) => n + 1)}>
          {health.loading ? "Checking…" : "Refresh"}
        </button>
      </div>
      {health.error && <p class="error" role="alert">{health.error.message}</p>}
      {h && (
        <>
          {h.stale && (
            <p class="notice s-warn" role="status" data-testid="health-stale">
              Meta did not answer; these are the last figures known. {h.staleReason}
            </p>
          )}
          <dl class="s-facts">
            <dt>Messaging limit</dt>
            <dd data-testid="health-tier">{h.messagingLimitTier ?? "unknown"} ({dailyLimitText(h.pacing)})</dd>
            <dt>Throughput</dt>
            <dd data-testid="health-throughput">{h.throughputLevel ?? h.pacing.perSecond} messages / second</dd>
            <dt>Display name</dt>
            <dd>{h.verifiedName ?? "—"} {h.nameStatus && <span class="s-badge">{h.nameStatus}</span>}</dd>
            <dt>Account</dt>
            <dd>
              {h.accountReviewStatus ? `review ${h.accountReviewStatus.toLowerCase()}` : "review unknown"}
              {h.canSendMessage && h.canSendMessage !== "AVAILABLE" && <span class="s-badge s-warn"> sending {h.canSendMessage.toLowerCase()}</span>}
            </dd>
          </dl>
          <small class="s-hint">
            {h.checkedAt ? `Checked ${fmtDate(h.checkedAt)}` : "Never checked"}
            {h.cached && ` (kept for ${h.cacheSeconds} s)`}
          </small>
        </>
      )}
    </div>
  );
}

/** Meta's alerts about the numbers, newest first: unread ones, or all. */
function AlertsPanel() {
  const [all, setAll] = useState(false);
  const alerts = useLoad(
    async () => (await apiPage<AccountAlert>(`/whatsapp-accounts/alerts${qs({ acknowledged: all ? undefined : false, limit: 50 })}`)).data,
    [all],
  );
  const form = useForm();
  useEffect(() => {
    return onAccountAlert((a) => alerts.set((prev) => [a, ...(prev ?? []).filter((x) => x.id !== a.id)]));
  }, []);

  async function acknowledge(id?: string) {
    const path = id ? `/whatsapp-accounts/alerts/${id}/acknowledge` : "/whatsapp-accounts/alerts/acknowledge-all";
    const ok = await form.run(async () => {
      await api(path, { method: "POST" });
      return true;
    });
    if (ok) {
      await refreshUnreadAlerts();
      await alerts.reload();
    }
  }

  return (
    <section class="s-panel" data-testid="whatsapp-alerts">
      <div class="s-actions">
        <h3>Alerts from Meta</h3>
        {unreadAlerts.value > 0 && <span class="badge" data-testid="alerts-unread">{unreadAlerts.value}</span>}
        <label class="s-check">
          <input type="checkbox" checked={all} onChange={(e) => setAll((e.currentTarget as HTMLInputElement).checked)} />
          Show acknowledged
        </label>
        <button type="button" disabled={form.busy || unreadAlerts.value === 0} onClick={() => void acknowledge()}>
          Acknowledge all
        </button>
      </div>
      {form.formError()}
      <ListState state={alerts} empty={all ? "Meta has sent no alert." : "No unread alert."}>
        {(items) => (
          <ul class="s-rows s-compact" data-testid="alerts-list">
            {items.map((a) => (
              <li key={a.id} class={"s-row" + (a.acknowledged ? " s-inactive" : "")} data-testid="alert-row">
                <div class="s-row-main">
                  <span class={"s-badge severity-" + (a.severity ?? "INFORMATIONAL").toLowerCase()}>{a.severity ?? "INFO"}</span>{" "}
                  <strong>{a.title}</strong>
                  {a.description && <div>{a.description}</div>}
                  <div class="muted s-small">
                    {fmtDate(a.occurredAt)} · {a.source}
                    {a.acknowledgedAt && <> · acknowledged {fmtDate(a.acknowledgedAt)}</>}
                  </div>
                </div>
                {!a.acknowledged && (
                  <div class="s-row-actions">
                    <button type="button" disabled={form.busy} onClick={() => void acknowledge(a.id)}>Acknowledge</button>
                  </div>
                )}
              </li>
            ))}
          </ul>
        )}
      </ListState>
    </section>
  );
}

/** Connecting with Meta's Embedded Signup: Meta's dialog, then the server exchanges its code. */
function EmbeddedSignup(props: { config: MetaConfig; onConnected: () => void }) {
  const form = useForm();
  const [result, setResult] = useState<string | null>(null);

  async function start() {
    setResult(null);
    const { appId, configId, graphVersion } = props.config;
    if (!appId || !configId) return;
    let session: SessionInfo = {};
    const listen = (e: MessageEvent) => {
      const info = sessionInfoOf(e.origin, e.data);
      if (info) session = info;
    };
    window.addEventListener("message", listen);
    try {
      const fb = await form.run(() => loadFacebookSdk(appId, graphVersion));
      if (!fb) return;
      const code = await new Promise<string | null>((resolve) =>
        fb.login((r) => resolve(r.authResponse?.code ?? null), signupLoginOptions(configId)),
      );
      if (!code) {
        form.fail("The signup was closed before it finished; nothing was connected.");
        return;
      }
      const done = await form.run(() =>
        api<{ accounts: WhatsAppAccount[]; skipped: { phoneNumberId: string; reason: string }[]; warnings: string[] }>(
          "/whatsapp-accounts/connect",
          { body: { code, wabaId: session.wabaId, phoneNumberId: session.phoneNumberId } },
        ),
      );
      if (done) {
        const names = done.accounts.map((a) => a.displayPhoneNumber ?? a.phoneNumberId).join(", ");
        setResult([`Connected ${names}.`, ...done.warnings].join(" "));
        props.onConnected();
      }
    } finally {
      window.removeEventListener("message", listen);
    }
  }

  return (
    <div class="s-panel" data-testid="whatsapp-signup">
      <h3>Connect with Meta</h3>
      <p class="muted">Sign in with Facebook, pick or create the business account and number; the server does the rest.</p>
      {!props.config.appSecretConfigured && (
        <p class="notice s-warn">The server has no Meta app secret (CX_WHATSAPP_APP_SECRET), so it cannot finish a signup.</p>
      )}
      {form.formError()}
      {result && <p role="status">{result}</p>}
      <div class="s-actions">
        <button type="button" class="primary" disabled={form.busy} onClick={() => void start()} data-testid="whatsapp-signup-start">
          {form.busy ? "Connecting…" : "Connect with Facebook"}
        </button>
      </div>
    </div>
  );
}

/** The Meta app's id and the Embedded Signup configuration id (the secret stays on the server). */
function MetaConfigForm(props: { config: MetaConfig | undefined; onSaved: (c: MetaConfig) => void }) {
  const [v, setV] = useState({ appId: "", configId: "" });
  useEffect(() => {
    if (props.config) setV({ appId: props.config.appId ?? "", configId: props.config.configId ?? "" });
  }, [props.config?.appId, props.config?.configId]);
  const form = useForm();
  const [saved, setSaved] = useState(false);

  async function submit(e: Event) {
    e.preventDefault();
    setSaved(false);
    const c = await form.run(() => api<MetaConfig>("/whatsapp-accounts/meta-config", { method: "PUT", body: v }));
    if (c) {
      setSaved(true);
      props.onSaved(c);
    }
  }

  return (
    <form class="s-panel" noValidate data-testid="whatsapp-meta-config" onSubmit={submit}>
      <h3>Meta app for Embedded Signup</h3>
      <p class="muted">
        From your app in Meta's developer console: its App ID, and the configuration id of its Facebook Login for
        Business configuration for WhatsApp Embedded Signup.{" "}
        {props.config && (props.config.appSecretConfigured ? "The server has the app secret." : "The server has no app secret yet (CX_WHATSAPP_APP_SECRET).")}
      </p>
      <div class="s-grid2">
        <Field form={form} name="appId" label="App ID">
          {(p) => <input {...p} inputMode="numeric" value={v.appId} onInput={(e) => setV({ ...v, appId: val(e) })} />}
        </Field>
        <Field form={form} name="configId" label="Configuration id">
          {(p) => <input {...p} inputMode="numeric" value={v.configId} onInput={(e) => setV({ ...v, configId: val(e) })} />}
        </Field>
      </div>
      {form.formError()}
      <div class="s-actions">
        <button type="submit" disabled={form.busy}>Save</button>
        {saved && <span role="status">Saved.</span>}
      </div>
    </form>
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
      <HealthCard accountId={a.id} />
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
