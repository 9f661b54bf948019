// Inboxes: every inbox of the organization (WhatsApp numbers, website chats, API channels);
// create a website chat or API inbox; per inbox its embed snippet or token and secrets (with
// rotation), settings, CSAT survey, working hours, satisfaction, and delete. A WhatsApp inbox is
// made by connecting its number (the WhatsApp section).
import { useEffect, useState } from "preact/hooks";
import { ApiError, api, apiPage, qs } from "../api";
import { navigate } from "../router";
import { Check, Field, ListState, confirmed, done, fmtDate, useForm, useLoad, val, type Form } from "./form";
import { ScheduleEditor, defaultSchedule, type WeeklySchedule } from "./ScheduleEditor";
import {
  apiCreateBody,
  channelLabel,
  csatBody,
  csatHeadline,
  csatValues,
  embedSnippet,
  livechatCreateBody,
  parseList,
  scheduleField,
  widgetBody,
  widgetValues,
  type CreatedInbox,
  type CsatSummary,
  type CsatValues,
  type Inbox,
  type LivechatCreateValues,
  type Rating,
  type SecretKind,
  type WidgetValues,
} from "./inboxes";

/** Every inbox, page by page (100 a page). */
async function allInboxes(): Promise<Inbox[]> {
  const out: Inbox[] = [];
  for (let page = 1; ; page++) {
    const p = await apiPage<Inbox>("/inboxes" + qs({ page, limit: 100 }));
    out.push(...p.data);
    if (!p.pagination || page >= p.pagination.totalPages || p.data.length === 0) return out;
  }
}

export function InboxesSettings() {
  const inboxes = useLoad(allInboxes);
  const [selected, setSelected] = useState<string | null>(null);
  // The answer of the last create: an API inbox's token is shown this once.
  const [created, setCreated] = useState<CreatedInbox | null>(null);
  return (
    <div class="settings-screen">
      <h2>Inboxes</h2>
      <p class="muted">
        WhatsApp inboxes are created by connecting a number in{" "}
        <a href="/settings/whatsapp" onClick={(e) => { e.preventDefault(); navigate("/settings/whatsapp"); }}>WhatsApp</a>.
        Website chat and API inboxes are created here.
      </p>
      <ListState state={inboxes} empty="No inboxes yet.">
        {(items) => (
          <ul class="s-rows" data-testid="inboxes-list">
            {items.map((i) => (
              <li key={i.id} class={"s-row" + (i.status === "active" ? "" : " s-inactive")} data-testid="inbox-row" data-id={i.id}>
                <div class="s-row-main">
                  <strong>{i.name}</strong> <span class="s-badge">{channelLabel(i.channel)}</span>{" "}
                  {i.status !== "active" && <span class="s-badge s-warn">inactive</span>}
                  <div class="muted s-small">
                    {i.status === "active" ? "active" : "inactive"}
                    {i.channel === "whatsapp" && i.phoneNumber && <> · {i.phoneNumber}</>}
                    {i.channel === "livechat" && i.widgetSettings?.websiteUrl && <> · {i.widgetSettings.websiteUrl}</>}
                    {i.channel === "api" && i.webhookUrl && <> · {i.webhookUrl}</>}
                  </div>
                </div>
                <div class="s-row-actions">
                  <button type="button" data-testid="inbox-manage" aria-expanded={selected === i.id}
                    onClick={() => { setCreated(null); setSelected(selected === i.id ? null : i.id); }}>
                    {selected === i.id ? "Close" : "Manage"}
                  </button>
                </div>
                {selected === i.id && (
                  <InboxPanel
                    id={i.id}
                    created={created?.id === i.id ? created : null}
                    onChanged={() => void inboxes.reload()}
                    onDeleted={() => { setSelected(null); setCreated(null); void inboxes.reload(); }}
                  />
                )}
              </li>
            ))}
          </ul>
        )}
      </ListState>
      <CreateInbox onCreated={(i) => { setCreated(i); setSelected(i.id); void inboxes.reload(); }} />
    </div>
  );
}

// ---- Create ----

const emptyLivechat = (): LivechatCreateValues => ({
  name: "",
  ...widgetValues(null),
  allowedOrigins: "",
  greetingEnabled: false,
  greetingMessage: "",
  hmacMandatory: false,
});

function CreateInbox(props: { onCreated: (i: CreatedInbox) => void }) {
  const [channel, setChannel] = useState<"livechat" | "api">("livechat");
  const [live, setLive] = useState(emptyLivechat);
  const [apiV, setApiV] = useState({ name: "", webhookUrl: "" });
  const form = useForm();

  async function submit(e: Event) {
    e.preventDefault();
    const body = channel === "livechat" ? livechatCreateBody(live) : apiCreateBody(apiV);
    const made = await form.run(() => api<CreatedInbox>("/inboxes", { body }));
    if (made) {
      setLive(emptyLivechat());
      setApiV({ name: "", webhookUrl: "" });
      props.onCreated(made);
    }
  }

  return (
    <form class="s-panel" data-testid="inbox-create-form" noValidate onSubmit={submit}>
      <h3>New inbox</h3>
      <Field form={form} name="channel" label="Channel">
        {(p) => (
          <select {...p} data-testid="inbox-channel" value={channel} onChange={(e) => { setChannel(val(e) as "livechat" | "api"); form.clear(); }}>
            <option value="livechat">Website chat</option>
            <option value="api">API</option>
          </select>
        )}
      </Field>
      {channel === "livechat" ? (
        <>
          <div class="s-grid2">
            <Field form={form} name="name" label="Name">
              {(p) => <input {...p} required maxLength={100} value={live.name} onInput={(e) => setLive({ ...live, name: val(e) })} />}
            </Field>
          </div>
          <WidgetFields form={form} v={live} set={(w) => setLive({ ...live, ...w })} />
          <OriginsField form={form} value={live.allowedOrigins} onChange={(allowedOrigins) => setLive({ ...live, allowedOrigins })} />
          <GreetingFields form={form} enabled={live.greetingEnabled} message={live.greetingMessage}
            onChange={(greetingEnabled, greetingMessage) => setLive({ ...live, greetingEnabled, greetingMessage })} />
          <div class="s-field">
            <Check label="Require identity verification" name="hmacMandatory" checked={live.hmacMandatory} onChange={(hmacMandatory) => setLive({ ...live, hmacMandatory })} />
            <small class="s-hint">On: a visitor without a valid identifier hash is refused.</small>
          </div>
        </>
      ) : (
        <div class="s-grid2">
          <Field form={form} name="name" label="Name">
            {(p) => <input {...p} required maxLength={100} value={apiV.name} onInput={(e) => setApiV({ ...apiV, name: val(e) })} />}
          </Field>
          <Field form={form} name="webhookUrl" label="Webhook URL (optional)" hint="Where this inbox's events are posted.">
            {(p) => <input {...p} type="url" placeholder="https://" value={apiV.webhookUrl} onInput={(e) => setApiV({ ...apiV, webhookUrl: val(e) })} />}
          </Field>
        </div>
      )}
      {form.formError()}
      <div class="s-actions">
        <button type="submit" class="primary" data-testid="inbox-create-submit" disabled={form.busy}>
          {channel === "livechat" ? "Create website chat" : "Create API inbox"}
        </button>
      </div>
    </form>
  );
}

function WidgetFields(props: { form: Form; v: WidgetValues; set: (v: Partial<WidgetValues>) => void }) {
  const { form, v, set } = props;
  return (
    <div class="s-grid2">
      <Field form={form} name="widgetSettings.websiteUrl" label="Website URL">
        {(p) => <input {...p} type="url" placeholder="https://" value={v.websiteUrl} onInput={(e) => set({ websiteUrl: val(e) })} />}
      </Field>
      <Field form={form} name="widgetSettings.widgetColor" label="Widget color">
        {(p) => <input {...p} type="color" value={v.widgetColor} onInput={(e) => set({ widgetColor: val(e) })} />}
      </Field>
      <Field form={form} name="widgetSettings.welcomeTitle" label="Welcome title">
        {(p) => <input {...p} maxLength={100} value={v.welcomeTitle} onInput={(e) => set({ welcomeTitle: val(e) })} />}
      </Field>
      <Field form={form} name="widgetSettings.welcomeTagline" label="Welcome tagline">
        {(p) => <input {...p} maxLength={255} value={v.welcomeTagline} onInput={(e) => set({ welcomeTagline: val(e) })} />}
      </Field>
    </div>
  );
}

function OriginsField(props: { form: Form; value: string; onChange: (v: string) => void }) {
  return (
    <Field form={props.form} name="allowedOrigins" label="Allowed origins" hint="One per line, e.g. https://www.example.com. Empty: any site may embed the widget.">
      {(p) => <textarea {...p} rows={3} value={props.value} onInput={(e) => props.onChange(val(e))} />}
    </Field>
  );
}

function GreetingFields(props: { form: Form; enabled: boolean; message: string; onChange: (enabled: boolean, message: string) => void }) {
  return (
    <>
      <div class="s-field">
        <Check label="Greet customers who open a conversation" name="greetingEnabled" checked={props.enabled} onChange={(on) => props.onChange(on, props.message)} />
      </div>
      {props.enabled && (
        <Field form={props.form} name="greetingMessage" label="Greeting message">
          {(p) => <textarea {...p} rows={2} maxLength={4096} value={props.message} onInput={(e) => props.onChange(true, val(e))} />}
        </Field>
      )}
    </>
  );
}

// ---- One inbox ----

function InboxPanel(props: { id: string; created: CreatedInbox | null; onChanged: () => void; onDeleted: () => void }) {
  const detail = useLoad(() => api<Inbox>(`/inboxes/${props.id}`), [props.id]);
  // A token shown once: right after creation, or after a rotation.
  const [apiToken, setApiToken] = useState<string | null>(props.created?.apiToken ?? null);
  const changed = (i?: Inbox) => {
    if (i) detail.set(i);
    else void detail.reload();
    props.onChanged();
  };
  if (!detail.data) {
    return detail.error ? <p class="error" role="alert">{detail.error.message}</p> : <p class="loading" role="status">Loading…</p>;
  }
  const i = detail.data;
  return (
    <div class="s-team-panel" data-testid="inbox-panel" data-id={i.id}>
      {i.channel === "livechat" && <LivechatSecrets inbox={i} onChanged={changed} />}
      {i.channel === "api" && <ApiSecrets inbox={i} token={apiToken} onToken={setApiToken} onChanged={changed} />}
      {i.channel === "whatsapp" && (
        <div class="s-subpanel">
          <h3>Number</h3>
          <p>{i.phoneNumber ?? "—"} <span class="muted s-small">(managed in the WhatsApp section)</span></p>
        </div>
      )}
      <EditInbox inbox={i} onChanged={changed} />
      <CsatSurvey inbox={i} onChanged={changed} />
      <InboxHours inbox={i} onChanged={changed} />
      <Satisfaction id={i.id} />
      <DeleteInbox inbox={i} onDeleted={props.onDeleted} />
    </div>
  );
}

function Copy(props: { text: string; label: string; testid?: string }) {
  const [copied, setCopied] = useState(false);
  async function copy() {
    try {
      await navigator.clipboard.writeText(props.text);
      setCopied(true);
      setTimeout(() => setCopied(false), 2000);
    } catch {
      window.prompt("Copy:", props.text);
    }
  }
  return (
    <button type="button" data-testid={props.testid} aria-label={props.label} onClick={() => void copy()}>
      {copied ? "Copied" : "Copy"}
    </button>
  );
}

/** A secret or code in a monospace block with a Copy button. */
function Secret(props: { value: string; label: string; testid: string }) {
  return (
    <div class="s-inline-form">
      <code class="s-code" data-testid={props.testid}>{props.value}</code>
      <Copy text={props.value} label={"Copy " + props.label} testid={props.testid + "-copy"} />
    </div>
  );
}

const ROTATE_WARNING: Record<SecretKind, string> = {
  identity: "Rotate the identity secret? Identifier hashes made with the old secret stop being accepted.",
  webhook: "Rotate the webhook signing secret? Your system must check signatures with the new one.",
  apiToken: "Rotate the API token? The old token stops working at once.",
};

function useRotate(inbox: Inbox, onDone: (i: CreatedInbox) => void) {
  const form = useForm();
  async function rotate(secret: SecretKind) {
    if (!confirmed(ROTATE_WARNING[secret])) return;
    const i = await form.run(() => api<CreatedInbox>(`/inboxes/${inbox.id}/rotate-secret`, { body: { secret } }));
    if (i) onDone(i);
  }
  return { form, rotate };
}

function LivechatSecrets(props: { inbox: Inbox; onChanged: (i?: Inbox) => void }) {
  const i = props.inbox;
  const [rotated, setRotated] = useState(false);
  const { form, rotate } = useRotate(i, (n) => { setRotated(true); props.onChanged(n); });
  const snippet = i.websiteToken ? embedSnippet(location.origin, i.websiteToken) : null;
  return (
    <div class="s-subpanel" data-testid="inbox-embed">
      <h3>Embed on your site</h3>
      {snippet ? (
        <>
          <p class="muted s-small">Paste this tag into every page of the site, in the head or the body:</p>
          <Secret value={snippet} label="the embed snippet" testid="inbox-snippet" />
        </>
      ) : (
        <p class="muted">No website token.</p>
      )}
      <h3>Identity verification</h3>
      <p class="muted s-small">
        To tell signed-in visitors apart, the site sets <code>{"window.cxWidget = {identifier, identifierHash}"}</code> before the
        tag, where <code>identifierHash</code> is the hex HMAC-SHA256 of the identifier with this secret, computed on your
        server (never in the page). {i.hmacMandatory ? "This inbox refuses visitors without a valid hash." : "Visitors without a hash are still let in (see the setting below)."}
      </p>
      {i.hmacSecret ? <Secret value={i.hmacSecret} label="the identity secret" testid="inbox-hmac-secret" /> : <p class="muted">Only admins see the secret.</p>}
      {rotated && <p class="notice" role="status">New secret in place: update your server.</p>}
      {form.formError()}
      <div class="s-actions">
        <button type="button" data-testid="inbox-rotate-identity" disabled={form.busy} onClick={() => void rotate("identity")}>Rotate secret</button>
      </div>
    </div>
  );
}

function ApiSecrets(props: { inbox: Inbox; token: string | null; onToken: (t: string | null) => void; onChanged: (i?: Inbox) => void }) {
  const i = props.inbox;
  const [rotated, setRotated] = useState<SecretKind | null>(null);
  const { form, rotate } = useRotate(i, (n) => {
    if (n.apiToken) props.onToken(n.apiToken);
    setRotated(n.apiToken ? "apiToken" : "webhook");
    props.onChanged(n);
  });
  return (
    <div class="s-subpanel" data-testid="inbox-api-secrets">
      <h3>API token</h3>
      {props.token ? (
        <>
          <p class="notice s-warn" role="status">Store this token now: it cannot be shown again.</p>
          <Secret value={props.token} label="the API token" testid="inbox-api-token" />
          <div class="s-actions"><button type="button" onClick={() => props.onToken(null)}>I stored it</button></div>
        </>
      ) : (
        <p class="muted">{i.apiTokenPrefix ? <>Starts with <code>{i.apiTokenPrefix}</code>; it cannot be shown again.</> : "It cannot be shown again."}</p>
      )}
      <h3>Webhook</h3>
      <dl class="s-facts">
        <dt>URL</dt>
        <dd>{i.webhookUrl ?? <span class="muted">none: events are not posted</span>}</dd>
      </dl>
      <p class="muted s-small">Each post is signed with this secret (HMAC-SHA256 of the body).</p>
      {i.webhookSecret ? <Secret value={i.webhookSecret} label="the webhook signing secret" testid="inbox-webhook-secret" /> : <p class="muted">Only admins see the secret.</p>}
      {rotated === "webhook" && <p class="notice" role="status">New signing secret in place.</p>}
      {form.formError()}
      <div class="s-actions">
        <button type="button" data-testid="inbox-rotate-webhook" disabled={form.busy} onClick={() => void rotate("webhook")}>Rotate signing secret</button>
        <button type="button" class="danger" data-testid="inbox-rotate-token" disabled={form.busy} onClick={() => void rotate("apiToken")}>Rotate API token</button>
      </div>
    </div>
  );
}

interface EditValues extends WidgetValues {
  name: string;
  enabled: boolean;
  greetingEnabled: boolean;
  greetingMessage: string;
  enableAutoAssignment: boolean;
  allowedOrigins: string;
  hmacMandatory: boolean;
  webhookUrl: string;
}

function editValues(i: Inbox): EditValues {
  return {
    name: i.name,
    enabled: i.status === "active",
    greetingEnabled: i.greetingEnabled,
    greetingMessage: i.greetingMessage ?? "",
    enableAutoAssignment: i.enableAutoAssignment,
    allowedOrigins: i.allowedOrigins.join("\n"),
    hmacMandatory: i.hmacMandatory,
    webhookUrl: i.webhookUrl ?? "",
    ...widgetValues(i.widgetSettings),
  };
}

function EditInbox(props: { inbox: Inbox; onChanged: (i?: Inbox) => void }) {
  const i = props.inbox;
  const [v, setV] = useState(() => editValues(i));
  const [saved, setSaved] = useState(false);
  const form = useForm();
  useEffect(() => setV(editValues(i)), [i.updatedAt]);

  async function submit(e: Event) {
    e.preventDefault();
    setSaved(false);
    const body: Record<string, unknown> = {
      name: v.name.trim(),
      enabled: v.enabled,
      greetingEnabled: v.greetingEnabled,
      greetingMessage: v.greetingMessage.trim() || null,
      enableAutoAssignment: v.enableAutoAssignment,
    };
    if (i.channel === "livechat") {
      body.allowedOrigins = parseList(v.allowedOrigins);
      body.hmacMandatory = v.hmacMandatory;
      body.widgetSettings = widgetBody(v, i.widgetSettings);
    }
    if (i.channel === "api") body.webhookUrl = v.webhookUrl.trim() || null;
    const n = await form.run(() => api<Inbox>(`/inboxes/${i.id}`, { method: "PATCH", body }));
    if (n) {
      setSaved(true);
      props.onChanged(n);
    }
  }

  return (
    <form class="s-subpanel" noValidate onSubmit={submit} aria-label={`Edit ${i.name}`} data-testid="inbox-edit-form">
      <h3>Settings</h3>
      <div class="s-grid2">
        <Field form={form} name="name" label="Name">
          {(p) => <input {...p} required maxLength={100} value={v.name} onInput={(e) => setV({ ...v, name: val(e) })} />}
        </Field>
        <div class="s-field">
          <Check label="Enabled" name="enabled" checked={v.enabled} onChange={(enabled) => setV({ ...v, enabled })} />
          <small class="s-hint">Off: the inbox takes no new conversations.</small>
        </div>
      </div>
      <div class="s-field">
        <Check label="Assign conversations automatically" name="enableAutoAssignment" checked={v.enableAutoAssignment}
          onChange={(enableAutoAssignment) => setV({ ...v, enableAutoAssignment })} />
        <small class="s-hint">Off: conversations wait in the queue for an agent to take them.</small>
      </div>
      <GreetingFields form={form} enabled={v.greetingEnabled} message={v.greetingMessage}
        onChange={(greetingEnabled, greetingMessage) => setV({ ...v, greetingEnabled, greetingMessage })} />
      {i.channel === "livechat" && (
        <>
          <OriginsField form={form} value={v.allowedOrigins} onChange={(allowedOrigins) => setV({ ...v, allowedOrigins })} />
          <div class="s-field">
            <Check label="Require identity verification" name="hmacMandatory" checked={v.hmacMandatory} onChange={(hmacMandatory) => setV({ ...v, hmacMandatory })} />
            <small class="s-hint">On: a visitor without a valid identifier hash is refused.</small>
          </div>
          <h3>Widget look</h3>
          <WidgetFields form={form} v={v} set={(w) => setV({ ...v, ...w })} />
        </>
      )}
      {i.channel === "api" && (
        <Field form={form} name="webhookUrl" label="Webhook URL" hint="Empty: events are not posted.">
          {(p) => <input {...p} type="url" placeholder="https://" value={v.webhookUrl} onInput={(e) => setV({ ...v, webhookUrl: val(e) })} />}
        </Field>
      )}
      {form.formError()}
      {saved && <p class="notice" role="status">Saved.</p>}
      <div class="s-actions">
        <button type="submit" class="primary" disabled={form.busy}>Save</button>
      </div>
    </form>
  );
}

function CsatSurvey(props: { inbox: Inbox; onChanged: (i?: Inbox) => void }) {
  const i = props.inbox;
  const [v, setV] = useState<CsatValues>(() => csatValues(i.csatSurveyEnabled, i.csatConfig));
  const [tagsText, setTagsText] = useState(v.tags.join(", "));
  const [saved, setSaved] = useState(false);
  const tags = useLoad(() => api<{ name: string }[]>("/tags"));
  const form = useForm();
  useEffect(() => {
    const n = csatValues(i.csatSurveyEnabled, i.csatConfig);
    setV(n);
    setTagsText(n.tags.join(", "));
  }, [i.updatedAt]);

  async function submit(e: Event) {
    e.preventDefault();
    setSaved(false);
    const body = csatBody({ ...v, tags: parseList(tagsText) }, i.csatConfig);
    const n = await form.run(() => api<Inbox>(`/inboxes/${i.id}`, { method: "PATCH", body }));
    if (n) {
      setSaved(true);
      props.onChanged(n);
    }
  }

  return (
    <form class="s-subpanel" noValidate onSubmit={submit} aria-label="Satisfaction survey" data-testid="inbox-csat-form">
      <h3>Satisfaction survey</h3>
      <div class="s-field">
        <Check label="Ask for a rating when a conversation is resolved" name="csatSurveyEnabled" checked={v.enabled} onChange={(enabled) => setV({ ...v, enabled })} />
      </div>
      {v.enabled && (
        <>
          <div class="s-grid2">
            <Field form={form} name="csatConfig.displayType" label="Rating as">
              {(p) => (
                <select {...p} value={v.displayType} onChange={(e) => setV({ ...v, displayType: val(e) as CsatValues["displayType"] })}>
                  <option value="emoji">Emoji</option>
                  <option value="star">Stars</option>
                </select>
              )}
            </Field>
            <Field form={form} name="csatConfig.buttonText" label="Button text (widget)">
              {(p) => <input {...p} maxLength={50} placeholder="Rate the conversation" value={v.buttonText} onInput={(e) => setV({ ...v, buttonText: val(e) })} />}
            </Field>
          </div>
          <Field form={form} name="csatConfig.message" label="Question">
            {(p) => <textarea {...p} rows={2} maxLength={500} placeholder="How did we do?" value={v.message} onInput={(e) => setV({ ...v, message: val(e) })} />}
          </Field>
          <div class="s-grid2">
            <Field form={form} name="csatConfig.surveyRule.operator" label="Send to">
              {(p) => (
                <select {...p} data-testid="inbox-csat-rule" value={v.rule} onChange={(e) => setV({ ...v, rule: val(e) as CsatValues["rule"] })}>
                  <option value="all">Every resolved conversation</option>
                  <option value="contains">Conversations with one of these tags</option>
                  <option value="does_not_contain">Conversations with none of these tags</option>
                </select>
              )}
            </Field>
            {v.rule !== "all" && (
              <Field form={form} name="csatConfig.surveyRule.values" label="Tags" hint="Tag names, separated by commas.">
                {(p) => (
                  <>
                    <input {...p} list={p.id + "-tags"} value={tagsText} onInput={(e) => setTagsText(val(e))} />
                    <datalist id={p.id + "-tags"}>
                      {(tags.data ?? []).map((t) => <option key={t.name} value={t.name} />)}
                    </datalist>
                  </>
                )}
              </Field>
            )}
          </div>
        </>
      )}
      {form.formError()}
      {saved && <p class="notice" role="status">Saved.</p>}
      <div class="s-actions">
        <button type="submit" class="primary" data-testid="inbox-csat-save" disabled={form.busy}>Save survey</button>
      </div>
    </form>
  );
}

function InboxHours(props: { inbox: Inbox; onChanged: (i?: Inbox) => void }) {
  const i = props.inbox;
  const [draft, setDraft] = useState<WeeklySchedule | null>(i.workingHours ? { ...i.workingHours, holidays: i.workingHours.holidays ?? [] } : null);
  const [saved, setSaved] = useState(false);
  const form = useForm();

  async function save(schedule: WeeklySchedule | null) {
    setSaved(false);
    const n = await form.run(async () => {
      try {
        return await api<Inbox>(`/inboxes/${i.id}`, { method: "PATCH", body: { workingHours: schedule } });
      } catch (e) {
        // The server names `workingHours.slots[0].start`; the editor's control is `slots[0].start`.
        if (e instanceof ApiError) throw new ApiError(e.status, e.code, e.message, scheduleField(e.field), e.retryAfter);
        throw e;
      }
    });
    if (n) {
      setSaved(true);
      setDraft(n.workingHours ? { ...n.workingHours, holidays: n.workingHours.holidays ?? [] } : null);
      props.onChanged(n);
    }
  }

  return (
    <form class="s-subpanel" noValidate aria-label="Working hours" onSubmit={(e) => { e.preventDefault(); if (draft) void save(draft); }}>
      <h3>Working hours</h3>
      {draft === null ? (
        <>
          <p class="empty-state">No inbox hours: the inbox follows the organization's business hours.</p>
          <button type="button" onClick={() => setDraft(defaultSchedule())}>Set inbox hours</button>
        </>
      ) : (
        <>
          <ScheduleEditor form={form} value={draft} onChange={setDraft} idPrefix={"inbox-" + i.id} />
          {form.formError()}
          {saved && <p class="notice" role="status">Saved.</p>}
          <div class="s-actions">
            <button type="submit" class="primary" disabled={form.busy}>Save hours</button>
            {i.workingHours && (
              <button type="button" disabled={form.busy} onClick={() => void save(null)}>Use business hours</button>
            )}
          </div>
        </>
      )}
      {draft === null && form.formError()}
    </form>
  );
}

interface CsatReport {
  data: Rating[];
  summary: CsatSummary;
}

const STARS = ["", "😞 1", "🙁 2", "😐 3", "🙂 4", "😀 5"];

function Satisfaction(props: { id: string }) {
  const report = useLoad(async () => {
    const res = await apiPage<Rating>("/csat" + qs({ inboxId: props.id, limit: 5 }));
    return res as unknown as CsatReport;
  }, [props.id]);
  const r = report.data;
  return (
    <div class="s-subpanel" data-testid="inbox-satisfaction">
      <h3>Satisfaction</h3>
      {!r ? (
        report.error ? <p class="error" role="alert">{report.error.message}</p> : <p class="loading" role="status">Loading…</p>
      ) : (
        <>
          <p><strong>{csatHeadline(r.summary)}</strong>
            {r.summary.satisfied != null && <span class="muted"> · {Math.round(r.summary.satisfied * 100)}% satisfied (4 or 5)</span>}
          </p>
          {r.data.length > 0 && (
            <ul class="s-rows s-compact">
              {r.data.map((x) => (
                <li key={x.conversationId + x.ratedAt} class="s-row">
                  <div class="s-row-main">
                    <strong>{STARS[x.rating] ?? x.rating}</strong> {x.comment && <span>“{x.comment}”</span>}
                    <div class="muted s-small">
                      {fmtDate(x.ratedAt)} ·{" "}
                      <a href={"/conversations/" + x.conversationId} onClick={(e) => { e.preventDefault(); navigate("/conversations/" + x.conversationId); }}>conversation</a>
                    </div>
                  </div>
                </li>
              ))}
            </ul>
          )}
        </>
      )}
    </div>
  );
}

function DeleteInbox(props: { inbox: Inbox; onDeleted: () => void }) {
  const i = props.inbox;
  const form = useForm();
  async function remove() {
    const also = i.channel === "whatsapp" ? " Its number is disconnected." : i.channel === "livechat" ? " The widget stops working on your site." : " Its token stops working.";
    if (!confirmed(`Delete the inbox "${i.name}"? Its conversations and messages stay.${also}`)) return;
    const ok = await form.run(() => done(api(`/inboxes/${i.id}`, { method: "DELETE" })));
    if (ok) props.onDeleted();
  }
  return (
    <div class="s-subpanel">
      {form.formError()}
      <div class="s-actions">
        <button type="button" class="danger" data-testid="inbox-delete" disabled={form.busy} onClick={() => void remove()}>Delete inbox</button>
      </div>
    </div>
  );
}
