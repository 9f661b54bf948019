// The bot: on/off for new conversations, and the current config's provider, model, API key
// (masked on read, sent only when typed) and system prompt. A key is checked with the provider
// before saving; the model list comes from the provider.
import { useEffect, useState } from "preact/hooks";
import { api, ApiError, qs } from "../api";
import { Field, useForm, useLoad, val } from "./form";

interface BotConfig {
  id: string;
  name: string;
  status: string;
  settings: {
    systemPrompt: string;
    provider: string;
    model: string;
    baseUrl: string | null;
    temperature: number;
    maxTokens: number;
  };
  hasApiKey: boolean;
  apiKey: string | null;
  promptVersion: number;
  updatedAt: string;
}

const PROVIDERS = ["OPENAI", "ANTHROPIC", "GOOGLE", "DEEPSEEK", "KIMI", "LOCAL"];

export function BotSettings() {
  return (
    <div class="settings-screen">
      <h2>Bot</h2>
      <BotSwitch />
      <BotConfigForm />
    </div>
  );
}

function BotSwitch() {
  const state = useLoad(() => api<{ enabled: boolean }>("/config/bot-enabled"));
  const form = useForm();
  async function toggle(on: boolean) {
    const next = await form.run(() => api<{ enabled: boolean }>("/config/bot-enabled", { method: "PUT", body: { enabled: on } }));
    if (next) state.set(next);
  }
  const on = state.data?.enabled ?? false;
  return (
    <div class="s-panel" data-testid="bot-switch">
      <label class="s-switch">
        <input
          type="checkbox"
          role="switch"
          name="enabled"
          checked={on}
          aria-checked={on}
          disabled={state.data === undefined || form.busy}
          onChange={(e) => void toggle((e.currentTarget as HTMLInputElement).checked)}
        />
        <span>The bot answers new conversations</span>
      </label>
      <p class="muted">
        {state.data === undefined
          ? state.error ? "" : "Loading…"
          : on
            ? "On: new conversations start with the bot."
            : "Off: new conversations start open for the team, and the bot stays silent."}
      </p>
      {state.error && <p class="error" role="alert">{state.error.message}</p>}
      {form.formError()}
    </div>
  );
}

function BotConfigForm() {
  // 404: no config yet; PUT creates and activates one.
  const current = useLoad(async () => {
    try {
      return await api<BotConfig>("/bot-config");
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) return null;
      throw e;
    }
  });
  const [provider, setProvider] = useState("OPENAI");
  const [model, setModel] = useState("");
  const [baseUrl, setBaseUrl] = useState("");
  const [apiKey, setApiKey] = useState("");
  const [clearKey, setClearKey] = useState(false);
  const [prompt, setPrompt] = useState("");
  const [saved, setSaved] = useState(false);
  const [models, setModels] = useState<string[] | null>(null);
  const [check, setCheck] = useState<{ valid: boolean; message: string; modelAvailable?: boolean | null } | null>(null);
  const form = useForm();
  const tools = useForm();

  const c = current.data;
  useEffect(() => {
    if (c === undefined) return;
    setProvider(c?.settings.provider ?? "OPENAI");
    setModel(c?.settings.model ?? "gpt-4o-mini");
    setBaseUrl(c?.settings.baseUrl ?? "");
    setPrompt(c?.settings.systemPrompt ?? "");
    setApiKey("");
    setClearKey(false);
  }, [c]);

  async function submit(e: Event) {
    e.preventDefault();
    setSaved(false);
    const body: Record<string, unknown> = {
      provider,
      model,
      baseUrl: baseUrl.trim() || null,
      systemPrompt: prompt,
    };
    if (apiKey.trim()) body.apiKey = apiKey.trim();
    else if (clearKey) body.apiKey = null;
    const next = await form.run(() => api<BotConfig>("/bot-config", { method: "PUT", body }));
    if (next) {
      setSaved(true);
      current.set(next);
    }
  }

  async function loadModels() {
    setModels(null);
    const m = await tools.run(() => api<{ models: string[] }>("/bot-config/models" + qs({ provider })));
    if (m) setModels(m.models);
  }

  async function validateKey() {
    setCheck(null);
    if (!apiKey.trim()) {
      tools.fail("Type the key to check it (the saved key is not shown).", "apiKey");
      return;
    }
    const r = await tools.run(() =>
      api<{ valid: boolean; message: string; modelAvailable?: boolean | null }>("/bot-config/validate-key", {
        body: { provider, apiKey: apiKey.trim(), model: model || undefined, baseUrl: baseUrl.trim() || undefined },
      }),
    );
    if (r) setCheck(r);
  }

  if (c === undefined) {
    return current.error ? <p class="error" role="alert">{current.error.message}</p> : <p class="loading" role="status">Loading…</p>;
  }

  return (
    <form class="s-panel" noValidate onSubmit={submit} data-testid="bot-config-form">
      <h3>Model {c && <span class="muted">({c.name}, {c.status.toLowerCase()}, prompt v{c.promptVersion})</span>}</h3>
      {c === null && <p class="notice">No bot configuration yet: saving creates one and makes it active.</p>}
      <div class="s-grid2">
        <Field form={form} name="provider" label="Provider">
          {(p) => (
            <select {...p} value={provider} onChange={(e) => { setProvider(val(e)); setModels(null); setCheck(null); }}>
              {PROVIDERS.map((x) => <option key={x} value={x}>{x}</option>)}
            </select>
          )}
        </Field>
        <Field form={form} name="model" label="Model">
          {(p) => <input {...p} list="bot-models" value={model} onInput={(e) => setModel(val(e))} />}
        </Field>
        <Field form={form} name="apiKey" label="API key"
          hint={c?.hasApiKey ? `Saved key ${c.apiKey ?? ""}. Type a new one to replace it.` : "No key saved."}>
          {(p) => {
            // The key check's error about the key shows here too.
            const t = tools.control("apiKey");
            return (
              <>
                <input {...p} aria-invalid={p["aria-invalid"] ?? t["aria-invalid"]} aria-describedby={p["aria-describedby"] ?? t["aria-describedby"]}
                  type="password" autoComplete="off" placeholder={c?.hasApiKey ? (c.apiKey ?? "••••") : ""}
                  value={apiKey} onInput={(e) => { setApiKey(val(e)); setCheck(null); }} />
                {tools.errorFor("apiKey")}
              </>
            );
          }}
        </Field>
        <Field form={form} name="baseUrl" label="Base URL (optional)" hint="For LOCAL or self-hosted endpoints.">
          {(p) => <input {...p} type="url" value={baseUrl} onInput={(e) => setBaseUrl(val(e))} />}
        </Field>
      </div>
      <datalist id="bot-models">{(models ?? []).map((m) => <option key={m} value={m} />)}</datalist>
      <div class="s-actions">
        <button type="button" disabled={tools.busy} onClick={() => void validateKey()}>Check key</button>
        <button type="button" disabled={tools.busy} onClick={() => void loadModels()}>Load models</button>
        {c?.hasApiKey && (
          <label class="s-check">
            <input type="checkbox" checked={clearKey} onChange={(e) => setClearKey((e.currentTarget as HTMLInputElement).checked)} />
            Remove the saved key
          </label>
        )}
      </div>
      {tools.formError()}
      {check && (
        <p class={check.valid ? "notice" : "error"} role="status" data-testid="key-check">
          {check.valid ? "Key accepted" : "Key refused"}: {check.message}
          {check.modelAvailable === false && " The model is not among the provider's models."}
        </p>
      )}
      {models && <p class="muted" role="status">{models.length} models available; pick one in the Model field.</p>}
      <Field form={form} name="systemPrompt" label="System prompt">
        {(p) => <textarea {...p} rows={10} maxLength={20000} value={prompt} onInput={(e) => setPrompt(val(e))} />}
      </Field>
      {form.formError()}
      {saved && <p class="notice" role="status">Saved.</p>}
      <div class="s-actions">
        <button type="submit" class="primary" disabled={form.busy}>Save</button>
      </div>
    </form>
  );
}
