// Routing: rules in priority order (first match wins) with create/edit/delete and up/down
// reordering, the default team for conversations no rule matches, and business hours.
import { useEffect, useState } from "preact/hooks";
import { api } from "../api";
import { Check, Field, ListState, confirmed, done, useForm, useLoad, val } from "./form";
import { ScheduleEditor, type WeeklySchedule } from "./ScheduleEditor";
import type { Team } from "./Teams";

interface Condition {
  field: string;
  operator: string;
  value: string | string[];
}

interface Conflict {
  ruleId: string;
  ruleName: string;
  kind: string;
  message: string;
}

interface Rule {
  id: string;
  name: string;
  teamId: string;
  matchType: "ANY" | "ALL";
  conditions: Condition[];
  priority: number;
  isActive: boolean;
  conflicts?: Conflict[];
}

const FIELDS: { value: string; label: string }[] = [
  { value: "message", label: "Message text" },
  { value: "contact.name", label: "Contact name" },
  { value: "contact.phone", label: "Contact phone" },
  { value: "contact.category", label: "Contact category" },
  { value: "channel", label: "Channel" },
  { value: "inbox", label: "Inbox" },
  { value: "tag", label: "Tag" },
  { value: "category", label: "Conversation category" },
  { value: "time", label: "Time of day" },
  { value: "weekday", label: "Weekday" },
];

const TEXT_OPERATORS = ["contains", "not_contains", "equals", "not_equals", "starts_with", "regex", "keywords", "in", "not_in"];
const OPERATOR_LABELS: Record<string, string> = {
  contains: "contains",
  not_contains: "does not contain",
  equals: "equals",
  not_equals: "does not equal",
  starts_with: "starts with",
  regex: "matches regex",
  keywords: "has any keyword",
  in: "is one of",
  not_in: "is none of",
  between: "is between",
};

function operatorsFor(field: string): string[] {
  if (field === "time") return ["between"];
  if (field === "weekday") return ["equals", "not_equals", "in", "not_in"];
  return TEXT_OPERATORS;
}

const isList = (op: string) => op === "in" || op === "not_in";

function valueHint(field: string, op: string): string {
  if (op === "between") return "HH:MM-HH:MM, may wrap past midnight (22:00-06:00).";
  if (field === "weekday") return isList(op) ? "Days separated by commas: MON, TUE…" : "MON … SUN";
  if (isList(op)) return "Values separated by commas.";
  if (op === "keywords") return "Keywords separated by commas.";
  return "";
}

/** The condition as the API takes it: lists for in/not_in. */
function toApi(c: { field: string; operator: string; value: string }): Condition {
  if (isList(c.operator)) {
    return { ...c, value: c.value.split(",").map((s) => s.trim()).filter(Boolean) };
  }
  return c;
}

const asText = (v: Condition["value"]) => (Array.isArray(v) ? v.join(", ") : String(v ?? ""));

export function RoutingSettings() {
  const rules = useLoad(() => api<Rule[]>("/routing-rules"));
  const teams = useLoad(() => api<Team[]>("/teams"));
  const [editing, setEditing] = useState<string | "new" | null>(null);
  const form = useForm();
  const teamName = (id: string) => teams.data?.find((t) => t.id === id)?.name ?? "(inactive team)";

  async function move(index: number, by: number) {
    const list = rules.data;
    if (!list) return;
    const ids = list.map((r) => r.id);
    const j = index + by;
    if (j < 0 || j >= ids.length) return;
    [ids[index], ids[j]] = [ids[j], ids[index]];
    const ok = await form.run(() => done(api("/routing-rules/reorder", { body: { orderedIds: ids } })));
    if (ok) await rules.reload();
    // Keep the focus on the moved rule's button.
    requestAnimationFrame(() => {
      const btn = document.querySelector<HTMLButtonElement>(`[data-rule-id="${list[index].id}"] [data-move="${by < 0 ? "up" : "down"}"]`);
      if (btn && !btn.disabled) btn.focus();
    });
  }

  async function remove(r: Rule) {
    if (!confirmed(`Delete the routing rule "${r.name}"?`)) return;
    const ok = await form.run(() => done(api(`/routing-rules/${r.id}`, { method: "DELETE" })));
    if (ok) void rules.reload();
  }

  return (
    <div class="settings-screen">
      <h2>Routing rules</h2>
      <p class="muted">Checked from the top; the first rule that matches gives the conversation to its team.</p>
      {form.formError()}
      <ListState state={rules} empty="No routing rules: conversations go to the default team.">
        {(items) => (
          <ol class="s-rows" data-testid="routing-rules">
            {items.map((r, i) => (
              <li key={r.id} class={"s-row" + (r.isActive ? "" : " s-inactive")} data-rule-id={r.id} data-testid="routing-rule-row">
                <div class="s-row-main">
                  <strong>{i + 1}. {r.name}</strong> → {teamName(r.teamId)} {!r.isActive && <span class="s-badge">off</span>}
                  <div class="muted">
                    {r.conditions.length === 0
                      ? "matches every conversation"
                      : r.conditions.map((c) => `${c.field} ${OPERATOR_LABELS[c.operator] ?? c.operator} "${asText(c.value)}"`).join(r.matchType === "ALL" ? " and " : " or ")}
                  </div>
                </div>
                <div class="s-row-actions">
                  <button type="button" data-move="up" aria-label={`Move ${r.name} up`} disabled={i === 0 || form.busy} onClick={() => void move(i, -1)}>↑</button>
                  <button type="button" data-move="down" aria-label={`Move ${r.name} down`} disabled={i === items.length - 1 || form.busy} onClick={() => void move(i, 1)}>↓</button>
                  <button type="button" onClick={() => setEditing(editing === r.id ? null : r.id)}>Edit</button>
                  <button type="button" class="danger" disabled={form.busy} onClick={() => void remove(r)}>Delete</button>
                </div>
                {editing === r.id && (
                  <RuleForm rule={r} teams={teams.data ?? []} onDone={(changed) => { setEditing(null); if (changed) void rules.reload(); }} />
                )}
              </li>
            ))}
          </ol>
        )}
      </ListState>
      {editing === "new" ? (
        <RuleForm teams={teams.data ?? []} onDone={(changed) => { setEditing(null); if (changed) void rules.reload(); }} />
      ) : (
        <button type="button" class="primary" data-testid="routing-new" onClick={() => setEditing("new")}>New rule</button>
      )}

      <DefaultTeam teams={teams.data ?? []} />
      <BusinessHours />
    </div>
  );
}

interface EditCondition {
  field: string;
  operator: string;
  value: string;
}

function RuleForm(props: { rule?: Rule; teams: Team[]; onDone: (changed: boolean) => void }) {
  const r = props.rule;
  const [name, setName] = useState(r?.name ?? "");
  const [teamId, setTeamId] = useState(r?.teamId ?? "");
  const [matchType, setMatchType] = useState<string>(r?.matchType ?? "ANY");
  const [isActive, setIsActive] = useState(r?.isActive ?? true);
  const [conditions, setConditions] = useState<EditCondition[]>(
    r ? r.conditions.map((c) => ({ field: c.field, operator: c.operator, value: asText(c.value) })) : [{ field: "message", operator: "contains", value: "" }],
  );
  const [conflicts, setConflicts] = useState<Conflict[] | null>(null);
  const form = useForm();

  const setCond = (i: number, patch: Partial<EditCondition>) =>
    setConditions(conditions.map((c, j) => {
      if (j !== i) return c;
      const next = { ...c, ...patch };
      if (!operatorsFor(next.field).includes(next.operator)) next.operator = operatorsFor(next.field)[0];
      return next;
    }));

  async function submit(e: Event) {
    e.preventDefault();
    const body = { name, teamId, matchType, isActive, conditions: conditions.map(toApi) };
    const saved = await form.run(() =>
      r ? api<Rule>(`/routing-rules/${r.id}`, { method: "PATCH", body }) : api<Rule>("/routing-rules", { body }),
    );
    if (!saved) return;
    if (saved.conflicts && saved.conflicts.length > 0) {
      setConflicts(saved.conflicts); // saved; show the conflicts before closing
    } else {
      props.onDone(true);
    }
  }

  return (
    <form class="s-panel s-rule-form" noValidate onSubmit={submit} data-testid="routing-rule-form" aria-label={r ? `Edit ${r.name}` : "New routing rule"}>
      <h3>{r ? "Edit rule" : "New rule"}</h3>
      <div class="s-grid2">
        <Field form={form} name="name" label="Name">
          {(p) => <input {...p} required maxLength={120} value={name} onInput={(e) => setName(val(e))} />}
        </Field>
        <Field form={form} name="teamId" label="Team">
          {(p) => (
            <select {...p} value={teamId} onChange={(e) => setTeamId(val(e))}>
              <option value="">Choose a team…</option>
              {props.teams.map((t) => <option key={t.id} value={t.id}>{t.name}</option>)}
            </select>
          )}
        </Field>
        <Field form={form} name="matchType" label="Match">
          {(p) => (
            <select {...p} value={matchType} onChange={(e) => setMatchType(val(e))}>
              <option value="ANY">Any condition</option>
              <option value="ALL">All conditions</option>
            </select>
          )}
        </Field>
        <div class="s-field">
          <Check label="Active" checked={isActive} onChange={setIsActive} />
        </div>
      </div>
      <fieldset>
        <legend>Conditions</legend>
        {conditions.map((c, i) => (
          <div class="s-condition" key={i} data-testid="condition-row">
            <Field form={form} name={`conditions[${i}].field`} label="Field">
              {(p) => (
                <select {...p} value={c.field} onChange={(e) => setCond(i, { field: val(e) })}>
                  {FIELDS.map((f) => <option key={f.value} value={f.value}>{f.label}</option>)}
                </select>
              )}
            </Field>
            <Field form={form} name={`conditions[${i}].operator`} label="Operator">
              {(p) => (
                <select {...p} value={c.operator} onChange={(e) => setCond(i, { operator: val(e) })}>
                  {operatorsFor(c.field).map((o) => <option key={o} value={o}>{OPERATOR_LABELS[o]}</option>)}
                </select>
              )}
            </Field>
            <Field form={form} name={`conditions[${i}].value`} label="Value" hint={valueHint(c.field, c.operator)}>
              {(p) =>
                c.field === "weekday" && !isList(c.operator) ? (
                  <select {...p} value={c.value} onChange={(e) => setCond(i, { value: val(e) })}>
                    <option value="">Choose…</option>
                    {["MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"].map((d) => <option key={d} value={d}>{d}</option>)}
                  </select>
                ) : (
                  <input {...p} value={c.value} onInput={(e) => setCond(i, { value: val(e) })} />
                )
              }
            </Field>
            <button type="button" class="link danger" aria-label={`Remove condition ${i + 1}`}
              onClick={() => setConditions(conditions.filter((_, j) => j !== i))}>
              Remove
            </button>
          </div>
        ))}
        <button type="button" onClick={() => setConditions([...conditions, { field: "message", operator: "contains", value: "" }])}>
          Add condition
        </button>
        {form.errorFor("conditions")}
      </fieldset>
      {form.formError()}
      {conflicts && (
        <div class="notice s-warn" role="status">
          Saved, with conflicts:
          <ul>{conflicts.map((c) => <li key={c.ruleId + c.kind}>{c.message}</li>)}</ul>
          <button type="button" onClick={() => props.onDone(true)}>OK</button>
        </div>
      )}
      <div class="s-actions">
        <button type="submit" class="primary" disabled={form.busy}>{r ? "Save rule" : "Create rule"}</button>
        <button type="button" onClick={() => props.onDone(conflicts !== null)}>Cancel</button>
      </div>
    </form>
  );
}

function DefaultTeam(props: { teams: Team[] }) {
  const current = useLoad(() => api<{ teamId: string | null }>("/routing-rules/default-team"));
  const [teamId, setTeamId] = useState("");
  const [saved, setSaved] = useState(false);
  const form = useForm();
  useEffect(() => { if (current.data) setTeamId(current.data.teamId ?? ""); }, [current.data]);

  async function submit(e: Event) {
    e.preventDefault();
    setSaved(false);
    const ok = await form.run(() => api<{ teamId: string | null }>("/routing-rules/default-team", { method: "PUT", body: { teamId: teamId || null } }));
    if (ok) setSaved(true);
  }
  return (
    <form class="s-panel" noValidate onSubmit={submit} data-testid="default-team-form">
      <h3>Default team</h3>
      <p class="muted">Gets the conversations no rule matches.</p>
      <div class="s-inline-form">
        <Field form={form} name="teamId" label="Team">
          {(p) => (
            <select {...p} value={teamId} disabled={current.loading} onChange={(e) => { setTeamId(val(e)); setSaved(false); }}>
              <option value="">None: everyone available</option>
              {props.teams.map((t) => <option key={t.id} value={t.id}>{t.name}</option>)}
            </select>
          )}
        </Field>
        <div class="s-actions">
          <button type="submit" class="primary" disabled={form.busy}>Save</button>
        </div>
      </div>
      {current.error && <p class="error" role="alert">{current.error.message}</p>}
      {form.formError()}
      {saved && <p class="notice" role="status">Saved.</p>}
    </form>
  );
}

function BusinessHours() {
  const loaded = useLoad(() => api<WeeklySchedule>("/routing-rules/business-hours"));
  const [draft, setDraft] = useState<WeeklySchedule | null>(null);
  const [saved, setSaved] = useState(false);
  const form = useForm();
  useEffect(() => { if (loaded.data) setDraft({ ...loaded.data, holidays: loaded.data.holidays ?? [], slots: loaded.data.slots ?? [] }); }, [loaded.data]);

  async function submit(e: Event) {
    e.preventDefault();
    if (!draft) return;
    setSaved(false);
    const ok = await form.run(() => api<WeeklySchedule>("/routing-rules/business-hours", { method: "PUT", body: draft }));
    if (ok) {
      setSaved(true);
      loaded.set(ok);
    }
  }
  return (
    <form class="s-panel" noValidate onSubmit={submit} data-testid="business-hours-form">
      <h3>Business hours</h3>
      {!draft ? (
        loaded.error ? <p class="error" role="alert">{loaded.error.message}</p> : <p class="loading" role="status">Loading…</p>
      ) : (
        <>
          <ScheduleEditor form={form} value={draft} onChange={(s) => { setDraft(s); setSaved(false); }} idPrefix="business-hours" />
          {form.formError()}
          {saved && <p class="notice" role="status">Saved.</p>}
          <div class="s-actions">
            <button type="submit" class="primary" disabled={form.busy}>Save business hours</button>
          </div>
        </>
      )}
    </form>
  );
}
