// A new campaign (admins): a name, an approved template, the number (when the template's business
// account has several), the recipients as a CSV file (read here and sent as text) or pasted (CSV
// text, or numbers that all get the same values), and now or a time in the organization's time
// zone. **Check** is a dry run: how many will get it, duplicates, every row at fault with its
// column, the cost by market from Meta's rate card, and the first messages as the customer sees
// them. **Send** is allowed once the check matches what is on the form, and leaves the rows at
// fault out only when asked to.
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { api, apiPage, qs, ApiError } from "../api";
import { navigate } from "../router";
import { Field, useForm, useLoad, val } from "../settings/form";
import {
  checkSend, headerKind, needsLink, previewOfSend, sendField, sendParameters, slotExample, slotKey, slotLabel,
  type FieldErrors, type HeaderExtra, type MessageTemplate,
} from "../templates/model";
import { TemplatePreview } from "../templates/Preview";
import {
  columnOf, csvColumn, csvRows, exampleCsv, exampleCsvName, localNow, money, previewOfSample, readPasted, type CheckResult, type Created,
} from "./model";
import { saveAs } from "./parts";

interface Account { id: string; wabaId: string; displayPhoneNumber: string | null; alias: string | null; phoneNumberId: string }

/** The largest request body the server takes (its JSON limit). */
const MAX_BODY = 1 << 20;
/** Row problems listed on screen; the count says how many more. */
const SHOWN_PROBLEMS = 200;

const plural = (n: number, one: string, many = one + "s") => `${n} ${n === 1 ? one : many}`;

export function CreateCampaign() {
  const form = useForm();
  const templates = useLoad(async () => (await apiPage<MessageTemplate>("/templates" + qs({ status: "APPROVED", limit: 100 }))).data);
  const accounts = useLoad(() => api<Account[]>("/whatsapp-accounts"));
  const zone = useLoad(async () => (await api<{ timezone?: string }>("/routing-rules/business-hours")).timezone || "UTC");

  const [name, setName] = useState("");
  const [templateId, setTemplateId] = useState("");
  const [accountId, setAccountId] = useState("");
  const [source, setSource] = useState<"file" | "paste">("file");
  const [file, setFile] = useState<{ name: string; text: string } | null>(null);
  const [pasted, setPasted] = useState("");
  const [values, setValues] = useState<Record<string, string>>({});
  const [extra, setExtra] = useState<HeaderExtra>({});
  const [valueErrors, setValueErrors] = useState<FieldErrors>({});
  const [when, setWhen] = useState<"now" | "later">("now");
  const [at, setAt] = useState("");
  const [attribution, setAttribution] = useState("72");
  const [checked, setChecked] = useState<{ key: string; result: CheckResult } | null>(null);
  const [skip, setSkip] = useState(false);
  const report = useRef<HTMLDivElement>(null);

  const t = templates.data?.find((x) => x.id === templateId) ?? null;
  const numbers = useMemo(
    () => (t ? (accounts.data ?? []).filter((a) => (t.wabaId ? a.wabaId === t.wabaId : a.id === t.accountId)) : []),
    [t, accounts.data],
  );
  // The template's own number first.
  useEffect(() => {
    if (t && numbers.length > 1 && !numbers.some((a) => a.id === accountId)) setAccountId(numbers.find((a) => a.id === t.accountId)?.id ?? numbers[0].id);
    if (numbers.length <= 1 && accountId) setAccountId("");
  }, [t, numbers]);

  const pastedAs = readPasted(pasted);
  const forEveryone = source === "paste" && pastedAs.kind === "numbers";
  const slots = t?.parameters ?? [];
  const needsExtra = !!t && (needsLink(t) || headerKind(t) === "LOCATION");

  /** The request for what is on the form, or why there is none yet. */
  function request(): { body: Record<string, unknown> } | { error: string; field: string } {
    if (!t) return { error: "Choose a template.", field: "templateId" };
    const body: Record<string, unknown> = { name: name.trim(), templateId: t.id };
    if (accountId) body.accountId = accountId;
    if (when === "later") {
      if (!at) return { error: "Choose when to send.", field: "scheduledAt" };
      body.scheduledAt = at;
    }
    const hours = Number(attribution);
    if (attribution.trim() && !(Number.isInteger(hours) && hours >= 1 && hours <= 720)) {
      return { error: "Between 1 and 720 hours.", field: "attributionHours" };
    }
    if (attribution.trim() && hours !== 72) body.attributionHours = hours;
    if (source === "file") {
      if (!file) return { error: "Choose a CSV file.", field: "recipientsCsv" };
      body.recipientsCsv = file.text;
    } else if (pastedAs.kind === "csv") {
      body.recipientsCsv = pastedAs.csv;
    } else if (pastedAs.kind === "numbers") {
      body.recipients = pastedAs.phones.map((phone) => ({ phone }));
      if (slots.length || needsExtra) body.parameters = sendParameters(t, values, extra);
    } else {
      return { error: "Paste the numbers, or CSV text with a phone column.", field: "recipientsCsv" };
    }
    return { body };
  }
  const req = request();
  const key = "body" in req ? JSON.stringify(req.body) : "";
  const fresh = !!checked && checked.key === key;

  function ready(): Record<string, unknown> | null {
    if ("error" in req) {
      form.fail(req.error, req.field);
      return null;
    }
    if (forEveryone && t) {
      const errors = checkSend(t, values, extra);
      setValueErrors(errors);
      if (Object.keys(errors).length) {
        form.fail("Fill in the values every recipient gets.");
        return null;
      }
    }
    if (new Blob([key]).size > MAX_BODY) {
      form.fail("These recipients are more than the server takes at once (1 MB): split them into several campaigns.", "recipientsCsv");
      return null;
    }
    return req.body;
  }

  async function check(e?: Event) {
    e?.preventDefault();
    const body = ready();
    if (!body) return;
    const r = await form.run(() => api<Created>("/campaigns", { body: { ...body, dryRun: true } }));
    if (r) {
      setChecked({ key, result: r.preview });
      setSkip(false);
      setTimeout(() => report.current?.scrollIntoView({ block: "start", behavior: "smooth" }), 0);
    }
  }

  async function send() {
    const body = ready();
    if (!body || !fresh) return;
    const r = await form.run(() => api<Created>("/campaigns", { body: { ...body, skipInvalid: skip } }));
    if (r?.campaign) navigate("/campaigns/" + encodeURIComponent(r.campaign.id));
  }

  async function readFile(input: HTMLInputElement) {
    const f = input.files?.[0];
    if (!f) return setFile(null);
    if (f.size > MAX_BODY) {
      setFile(null);
      form.fail(`${f.name} is ${(f.size / 1024 / 1024).toFixed(1)} MB: the server takes up to 1 MB at once, so split it into several campaigns.`, "recipientsCsv");
      return;
    }
    form.clear();
    setFile({ name: f.name, text: await f.text() });
  }

  // A server error naming a value every recipient gets shows at that value's input.
  const serverField = form.error instanceof ApiError ? form.error.field : undefined;
  const valueField = t && serverField?.startsWith("parameters") ? sendField(serverField, t) : null;
  const result = checked?.result;
  const invalidRows = result ? new Set(result.invalid.map((p) => p.row)).size : 0;
  const canSend = fresh && !!result && result.valid > 0 && (invalidRows === 0 || skip) && !form.busy;

  return (
    <div class="settings-screen cmp-screen tpl-editor-screen" data-testid="campaign-create">
      <a href="/campaigns" class="tpl-back" onClick={(e) => { e.preventDefault(); navigate("/campaigns"); }}>← Campaigns</a>
      <h2>New campaign</h2>
      <div class="tpl-editor">
        <form class="tpl-form" onSubmit={(e) => void check(e)} noValidate>
          <fieldset class="tpl-panel">
            <legend>Campaign</legend>
            <Field form={form} name="name" label="Name" hint="For you and your team; customers do not see it.">
              {(p) => <input {...p} value={name} maxLength={200} data-testid="campaign-name" onInput={(e) => setName(val(e))} />}
            </Field>
            <Field form={form} name="templateId" label="Template" hint="Only templates Meta approved can be sent.">
              {(p) => (
                <select {...p} value={templateId} data-testid="campaign-template"
                  onChange={(e) => { setTemplateId(val(e)); setValues({}); setExtra({}); setValueErrors({}); }}>
                  <option value="">{templates.data === undefined ? "Loading…" : "Choose a template"}</option>
                  {(templates.data ?? []).map((x) => (
                    <option key={x.id} value={x.id}>{x.name} · {x.language} · {x.category.toLowerCase()}</option>
                  ))}
                </select>
              )}
            </Field>
            {templates.data?.length === 0 && (
              <p class="muted" data-testid="campaign-no-templates">
                No approved template yet: create one under <a href="/settings/templates" onClick={(e) => { e.preventDefault(); navigate("/settings/templates"); }}>Settings → Templates</a> and wait for Meta's review.
              </p>
            )}
            {templates.error && <p class="error" role="alert">{templates.error.message}</p>}
            {numbers.length > 1 && (
              <Field form={form} name="accountId" label="Send from">
                {(p) => (
                  <select {...p} value={accountId} data-testid="campaign-account" onChange={(e) => setAccountId(val(e))}>
                    {numbers.map((a) => <option key={a.id} value={a.id}>{a.alias ? `${a.alias} (${a.displayPhoneNumber ?? a.phoneNumberId})` : a.displayPhoneNumber ?? a.phoneNumberId}</option>)}
                  </select>
                )}
              </Field>
            )}
          </fieldset>

          <fieldset class="tpl-panel">
            <legend>Recipients</legend>
            <div class="tpl-kinds" role="radiogroup" aria-label="Recipients from">
              {([["file", "Upload a CSV file"], ["paste", "Paste numbers or CSV"]] as const).map(([k, label]) => (
                <label key={k} class={"tpl-kind" + (source === k ? " on" : "")}>
                  <input type="radio" name="source" value={k} checked={source === k} data-testid={"campaign-source-" + k} onChange={() => setSource(k)} />
                  {label}
                </label>
              ))}
            </div>
            {source === "file" ? (
              <div class="s-field">
                <label for="cmp-file">CSV file</label>
                <input id="cmp-file" type="file" accept=".csv,text/csv,text/plain" data-testid="campaign-csv-file"
                  aria-invalid={serverField === "recipientsCsv" ? "true" : undefined}
                  onChange={(e) => void readFile(e.currentTarget as HTMLInputElement)} />
                {file && <small class="s-hint" data-testid="campaign-csv-read">{file.name}: {plural(csvRows(file.text), "row")} read.</small>}
              </div>
            ) : (
              <div class="s-field">
                <label for="cmp-paste">Numbers, or CSV text</label>
                <textarea id="cmp-paste" rows={6} value={pasted} data-testid="campaign-recipients-text"
                  aria-invalid={serverField === "recipientsCsv" || serverField === "recipients" ? "true" : undefined}
                  placeholder={"+4915112345678\n+4915112345679"} onInput={(e) => setPasted(val(e))} />
                <small class="s-hint">
                  One number per line in international format (+ and the country code), or CSV text whose first line names the columns.
                  {pastedAs.kind === "numbers" && ` ${plural(pastedAs.phones.length, "number")}.`}
                  {pastedAs.kind === "csv" && ` CSV with ${plural(csvRows(pastedAs.csv), "row")}.`}
                </small>
              </div>
            )}
            {form.errorFor("recipientsCsv")}
            {form.errorFor("recipients")}
            {t && !forEveryone && (
              <p class="s-small muted" data-testid="campaign-columns">
                Columns: <code>phone</code>, <code>name</code> (optional){slots.map((s) => <span key={slotKey(s)}>, <code>{csvColumn(s)}</code></span>)}.{" "}
                <button type="button" class="link" data-testid="campaign-example-csv"
                  onClick={() => saveAs(new Blob([exampleCsv(t)], { type: "text/csv" }), exampleCsvName(t))}>
                  Download example CSV
                </button>
              </p>
            )}
            {t && !forEveryone && needsExtra && (
              <p class="notice s-warn">
                This template's header needs {headerKind(t) === "LOCATION" ? "a location" : "a link to its file"} for each send, which a CSV cannot give:
                paste numbers instead and give it once for everyone.
              </p>
            )}
            {t && forEveryone && (slots.length > 0 || needsExtra) && (
              <div class="tpl-examples" data-testid="campaign-values">
                <p class="s-small muted">Every recipient gets these values (for different values per recipient, use CSV).</p>
                {slots.map((s) => {
                  const k = slotKey(s);
                  const error = valueErrors[k] ?? (valueField === k ? form.error?.message : undefined);
                  return (
                    <div class="s-field" key={k}>
                      <label for={"cmp-v-" + k}>{slotLabel(s, t)}</label>
                      <input id={"cmp-v-" + k} value={values[k] ?? ""} placeholder={slotExample(s, t)} data-testid="campaign-value" data-slot={k}
                        aria-invalid={error ? "true" : undefined}
                        onInput={(e) => setValues({ ...values, [k]: val(e) })} />
                      {error && <div class="field-error" role="alert">{error}</div>}
                    </div>
                  );
                })}
                {needsLink(t) && (
                  <div class="s-field">
                    <label for="cmp-link">Link to the header's {headerKind(t).toLowerCase()}</label>
                    <input id="cmp-link" type="url" value={extra.headerLink ?? ""} placeholder="https://" aria-invalid={valueErrors.headerLink ? "true" : undefined}
                      onInput={(e) => setExtra({ ...extra, headerLink: val(e) })} />
                    {valueErrors.headerLink && <div class="field-error" role="alert">{valueErrors.headerLink}</div>}
                  </div>
                )}
                {headerKind(t) === "LOCATION" && (
                  <div class="s-grid2">
                    {(["latitude", "longitude", "locationName", "address"] as const).map((f) => (
                      <div class="s-field" key={f}>
                        <label for={"cmp-" + f}>{{ latitude: "Latitude", longitude: "Longitude", locationName: "Place name", address: "Address" }[f]}</label>
                        <input id={"cmp-" + f} value={extra[f] ?? ""} aria-invalid={valueErrors[f] ? "true" : undefined}
                          onInput={(e) => setExtra({ ...extra, [f]: val(e) })} />
                        {valueErrors[f] && <div class="field-error" role="alert">{valueErrors[f]}</div>}
                      </div>
                    ))}
                  </div>
                )}
              </div>
            )}
          </fieldset>

          <fieldset class="tpl-panel">
            <legend>When</legend>
            <div class="tpl-kinds" role="radiogroup" aria-label="When">
              {([["now", "Now"], ["later", "At a time"]] as const).map(([k, label]) => (
                <label key={k} class={"tpl-kind" + (when === k ? " on" : "")}>
                  <input type="radio" name="when" value={k} checked={when === k} data-testid={"campaign-when-" + k} onChange={() => setWhen(k)} />
                  {label}
                </label>
              ))}
            </div>
            {when === "later" && (
              <Field form={form} name="scheduledAt" label="Start at"
                hint={zone.data ? `In your organization's time zone, ${zone.data} (set with the business hours under Settings → Routing & hours).` : "In your organization's time zone."}>
                {(p) => <input {...p} type="datetime-local" value={at} min={zone.data ? localNow(zone.data) : undefined} data-testid="campaign-at" onInput={(e) => setAt(val(e))} />}
              </Field>
            )}
            <Field form={form} name="attributionHours" label="Count replies for (hours)" hint="A reply within this time after the send counts for the campaign.">
              {(p) => <input {...p} type="number" min={1} max={720} value={attribution} class="cmp-hours" onInput={(e) => setAttribution(val(e))} />}
            </Field>
          </fieldset>
          {form.formError()}
          <div class="s-actions">
            <button type="submit" class={fresh ? "" : "primary"} disabled={form.busy} data-testid="campaign-check">
              {form.busy ? "Checking…" : checked && !fresh ? "Check again" : "Check"}
            </button>
            {!checked && <span class="muted s-small">Check the recipients and the cost before sending.</span>}
          </div>
        </form>
        <aside class="tpl-side" aria-label="The template">
          <h3>Template</h3>
          {t ? <TemplatePreview p={previewOfSend(t, {})} testid="campaign-template-preview" /> : <p class="muted">Choose a template to see it.</p>}
        </aside>
      </div>

      <div ref={report} class="cmp-report">
        {result && <CheckReport r={result} t={t} stale={!fresh} invalidRows={invalidRows} />}
      </div>
      {result && (
        <div class="s-panel cmp-send" data-testid="campaign-send-panel">
          {invalidRows > 0 && (
            <label class="s-check">
              <input type="checkbox" checked={skip} data-testid="campaign-skip-invalid" onChange={(e) => setSkip((e.currentTarget as HTMLInputElement).checked)} />
              Leave the {plural(invalidRows, "row")} with problems out and send to the other {result.valid}
            </label>
          )}
          <div class="s-actions">
            <button type="button" class="primary" disabled={!canSend} data-testid="campaign-send" onClick={() => void send()}>
              {when === "later" ? "Schedule" : "Send"} to {plural(result.valid, "recipient")}
            </button>
            <span class="muted s-small" data-testid="campaign-send-note">
              {!fresh ? "The form changed since the check: check again." :
                result.valid === 0 ? "No recipient can be sent." :
                invalidRows > 0 && !skip ? "Fix the rows with problems, or choose to leave them out." :
                `Estimated ${money(result.estimate.total, result.estimate.currency)}.`}
            </span>
          </div>
        </div>
      )}
    </div>
  );
}

function CheckReport(props: { r: CheckResult; t: MessageTemplate | null; stale: boolean; invalidRows: number }) {
  const { r, t } = props;
  const e = r.estimate;
  return (
    <section class="s-panel" aria-labelledby="cmp-check-h" data-testid="campaign-check-report"
      data-valid={r.valid} data-invalid={props.invalidRows} data-duplicates={r.duplicates}>
      <h3 id="cmp-check-h">Check</h3>
      {props.stale && <div class="notice s-warn" role="status">You changed the campaign after this check: check again before sending.</div>}
      <ul class="cmp-summary">
        <li data-testid="campaign-check-valid"><strong>{r.valid}</strong> {r.valid === 1 ? "recipient gets" : "recipients get"} the message.</li>
        {r.duplicates > 0 && <li>{plural(r.duplicates, "number")} appeared again and {r.duplicates === 1 ? "is" : "are"} left out: each number gets the message once.</li>}
        {props.invalidRows > 0 && <li class="cmp-failed">{plural(props.invalidRows, "row")} cannot be sent:</li>}
      </ul>
      {r.invalid.length > 0 && (
        <div class="cmp-table-wrap">
          <table class="s-table cmp-table" data-testid="campaign-invalid">
            <thead><tr><th>Row</th><th>Phone</th><th>Column</th><th>Problem</th></tr></thead>
            <tbody>
              {r.invalid.slice(0, SHOWN_PROBLEMS).map((p, i) => (
                <tr key={i} data-testid="campaign-invalid-row" data-row={p.row} data-field={p.field}>
                  <td>{p.row}</td>
                  <td class="cmp-nowrap">{p.phone ?? ""}</td>
                  <td><code title={p.field}>{columnOf(p.field, t)}</code></td>
                  <td>{p.message}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {r.invalid.length > SHOWN_PROBLEMS && <p class="muted s-small">And {r.invalid.length - SHOWN_PROBLEMS} more problems.</p>}
          <p class="muted s-small">Rows count the recipients from the first one after the header line.</p>
        </div>
      )}
      <h3>Estimated cost</h3>
      <p data-testid="campaign-estimate">
        <strong>{money(e.total, e.currency)}</strong> for {plural(e.recipients, "message")}, by Meta's rate card for {e.category.toLowerCase()} templates
        (rates from {e.ratesEffective}).
      </p>
      {e.byMarket.length > 0 && (
        <div class="cmp-table-wrap">
          <table class="s-table cmp-table" data-testid="campaign-estimate-markets">
            <thead><tr><th>Market</th><th>Recipients</th><th>Rate</th><th>Cost</th></tr></thead>
            <tbody>
              {e.byMarket.map((m) => (
                <tr key={m.market}><td>{m.market}</td><td>{m.recipients}</td><td>{money(m.rate, e.currency)}</td><td>{money(m.cost, e.currency)}</td></tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {r.samples.length > 0 && (
        <>
          <h3>How the first {r.samples.length === 1 ? "message reads" : `${r.samples.length} messages read`}</h3>
          <div class="cmp-samples" data-testid="campaign-samples">
            {r.samples.map((s, i) => <TemplatePreview key={i} p={previewOfSample(t, s)} testid="campaign-sample" />)}
          </div>
        </>
      )}
    </section>
  );
}
