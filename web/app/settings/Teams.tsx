// Teams: create, edit (name, description, assignment strategy, open conversations per agent),
// deactivate and reactivate; members with LEAD/MEMBER roles; the team's working hours.
import { useEffect, useState } from "preact/hooks";
import { api, qs } from "../api";
import { Field, ListState, confirmed, done, useForm, useLoad, val } from "./form";
import { ScheduleEditor, defaultSchedule, type WeeklySchedule } from "./ScheduleEditor";
import type { User } from "./Users";

export interface Team {
  id: string;
  name: string;
  description: string | null;
  strategy: string;
  maxOpenPerAgent: number | null;
  isActive: boolean;
  memberCount: number;
  createdAt: string;
  updatedAt: string;
}

interface Member {
  userId: string;
  name: string;
  email: string;
  role: string;
  status: string;
  openConversations: number;
  joinedAt: string;
}

interface TeamDetail extends Team {
  members: Member[];
}

const STRATEGIES = [
  { value: "LEAST_LOADED", label: "Least loaded" },
  { value: "ROUND_ROBIN", label: "Round robin" },
];

export function TeamsSettings() {
  const teams = useLoad(() => api<Team[]>("/teams" + qs({ includeInactive: true })));
  const [selected, setSelected] = useState<string | null>(null);
  return (
    <div class="settings-screen">
      <h2>Teams</h2>
      <ListState state={teams} empty="No teams yet. Create one below.">
        {(items) => (
          <ul class="s-rows" data-testid="teams-list">
            {items.map((t) => (
              <li key={t.id} class={"s-row" + (t.isActive ? "" : " s-inactive")} data-testid="team-row">
                <div class="s-row-main">
                  <strong>{t.name}</strong> {!t.isActive && <span class="s-badge">deactivated</span>}
                  <div class="muted">
                    {t.memberCount} member{t.memberCount === 1 ? "" : "s"} ·{" "}
                    {STRATEGIES.find((s) => s.value === t.strategy)?.label ?? t.strategy}
                    {t.maxOpenPerAgent != null && <> · at most {t.maxOpenPerAgent} open per agent</>}
                  </div>
                </div>
                <div class="s-row-actions">
                  <button type="button" aria-expanded={selected === t.id} onClick={() => setSelected(selected === t.id ? null : t.id)}>
                    {selected === t.id ? "Close" : "Manage"}
                  </button>
                </div>
                {selected === t.id && (
                  <TeamPanel id={t.id} onChanged={() => void teams.reload()} />
                )}
              </li>
            ))}
          </ul>
        )}
      </ListState>
      <CreateTeam onCreated={(t) => { void teams.reload(); setSelected(t.id); }} />
    </div>
  );
}

interface TeamValues {
  name: string;
  description: string;
  strategy: string;
  maxOpenPerAgent: string;
}

function TeamFields(props: { form: ReturnType<typeof useForm>; v: TeamValues; set: (v: TeamValues) => void }) {
  const { form, v, set } = props;
  return (
    <div class="s-grid2">
      <Field form={form} name="name" label="Name">
        {(p) => <input {...p} required maxLength={80} value={v.name} onInput={(e) => set({ ...v, name: val(e) })} />}
      </Field>
      <Field form={form} name="description" label="Description (optional)">
        {(p) => <input {...p} value={v.description} onInput={(e) => set({ ...v, description: val(e) })} />}
      </Field>
      <Field form={form} name="strategy" label="Assignment">
        {(p) => (
          <select {...p} value={v.strategy} onChange={(e) => set({ ...v, strategy: val(e) })}>
            {STRATEGIES.map((s) => <option key={s.value} value={s.value}>{s.label}</option>)}
          </select>
        )}
      </Field>
      <Field form={form} name="maxOpenPerAgent" label="Open conversations per agent" hint="Empty: no limit.">
        {(p) => <input {...p} type="number" min={1} max={1000} value={v.maxOpenPerAgent} onInput={(e) => set({ ...v, maxOpenPerAgent: val(e) })} />}
      </Field>
    </div>
  );
}

function capacity(s: string): number | null {
  const t = s.trim();
  return t === "" ? null : Number(t);
}

function CreateTeam(props: { onCreated: (t: Team) => void }) {
  const empty: TeamValues = { name: "", description: "", strategy: "LEAST_LOADED", maxOpenPerAgent: "" };
  const [v, setV] = useState(empty);
  const form = useForm();
  async function submit(e: Event) {
    e.preventDefault();
    const body = {
      name: v.name,
      description: v.description.trim() || undefined,
      strategy: v.strategy,
      maxOpenPerAgent: capacity(v.maxOpenPerAgent) ?? undefined,
    };
    const t = await form.run(() => api<Team>("/teams", { body }));
    if (t) {
      setV(empty);
      props.onCreated(t);
    }
  }
  return (
    <form class="s-panel" data-testid="team-create-form" noValidate onSubmit={submit}>
      <h3>New team</h3>
      <TeamFields form={form} v={v} set={setV} />
      {form.formError()}
      <div class="s-actions">
        <button type="submit" class="primary" disabled={form.busy}>Create team</button>
      </div>
    </form>
  );
}

function TeamPanel(props: { id: string; onChanged: () => void }) {
  const detail = useLoad(() => api<TeamDetail>(`/teams/${props.id}`), [props.id]);
  const changed = () => { void detail.reload(); props.onChanged(); };
  if (!detail.data) {
    return detail.error ? <p class="error" role="alert">{detail.error.message}</p> : <p class="loading" role="status">Loading…</p>;
  }
  const t = detail.data;
  return (
    <div class="s-team-panel">
      <EditTeam team={t} onChanged={changed} />
      <Members team={t} onChanged={changed} />
      <TeamSchedule id={t.id} />
    </div>
  );
}

function EditTeam(props: { team: TeamDetail; onChanged: () => void }) {
  const t = props.team;
  const initial: TeamValues = {
    name: t.name,
    description: t.description ?? "",
    strategy: t.strategy,
    maxOpenPerAgent: t.maxOpenPerAgent == null ? "" : String(t.maxOpenPerAgent),
  };
  const [v, setV] = useState(initial);
  const [saved, setSaved] = useState(false);
  const form = useForm();
  useEffect(() => setV(initial), [t.updatedAt]);

  async function submit(e: Event) {
    e.preventDefault();
    setSaved(false);
    const body = {
      name: v.name,
      description: v.description.trim() || null,
      strategy: v.strategy,
      maxOpenPerAgent: capacity(v.maxOpenPerAgent),
    };
    const ok = await form.run(() => api<Team>(`/teams/${t.id}`, { method: "PATCH", body }));
    if (ok) {
      setSaved(true);
      props.onChanged();
    }
  }
  async function setActive(active: boolean) {
    if (!active && !confirmed(`Deactivate ${t.name}? Its conversations go to everyone available.`)) return;
    const ok = await form.run(() =>
      active ? api<Team>(`/teams/${t.id}`, { method: "PATCH", body: { isActive: true } }) : api<Team>(`/teams/${t.id}`, { method: "DELETE" }),
    );
    if (ok) props.onChanged();
  }

  return (
    <form class="s-subpanel" noValidate onSubmit={submit} aria-label={`Edit ${t.name}`}>
      <h3>Team</h3>
      <TeamFields form={form} v={v} set={setV} />
      {form.formError()}
      {saved && <p class="notice" role="status">Saved.</p>}
      <div class="s-actions">
        <button type="submit" class="primary" disabled={form.busy}>Save</button>
        {t.isActive ? (
          <button type="button" class="danger" disabled={form.busy} onClick={() => void setActive(false)}>Deactivate</button>
        ) : (
          <button type="button" disabled={form.busy} onClick={() => void setActive(true)}>Reactivate</button>
        )}
      </div>
    </form>
  );
}

function Members(props: { team: TeamDetail; onChanged: () => void }) {
  const t = props.team;
  const users = useLoad(() => api<User[]>("/users"));
  const form = useForm();
  const [userId, setUserId] = useState("");
  const [role, setRole] = useState("MEMBER");
  const candidates = (users.data ?? []).filter((u) => !t.members.some((m) => m.userId === u.id));

  async function add(e: Event) {
    e.preventDefault();
    const ok = await form.run(() => done(api(`/teams/${t.id}/members`, { body: { userId, role } })));
    if (ok) {
      setUserId("");
      props.onChanged();
    }
  }
  async function setMemberRole(m: Member, r: string) {
    await form.run(() => api(`/teams/${t.id}/members/${m.userId}`, { method: "PATCH", body: { role: r } }));
    props.onChanged();
  }
  async function remove(m: Member) {
    if (!confirmed(`Remove ${m.name} from ${t.name}?`)) return;
    const ok = await form.run(async () => {
      await api(`/teams/${t.id}/members/${m.userId}`, { method: "DELETE" });
      return true;
    });
    if (ok) props.onChanged();
  }

  return (
    <div class="s-subpanel">
      <h3>Members</h3>
      {t.members.length === 0 ? (
        <p class="empty-state">No members yet.</p>
      ) : (
        <ul class="s-rows s-compact" data-testid="team-members">
          {t.members.map((m) => (
            <li key={m.userId} class="s-row" data-testid="member-row">
              <div class="s-row-main">
                <strong>{m.name}</strong> <span class="muted">{m.email}</span>{" "}
                <span class={"s-presence presence-" + m.status.toLowerCase()}>{m.status}</span>
              </div>
              <div class="s-row-actions">
                <label class="sr-only" for={`mrole-${t.id}-${m.userId}`}>Role of {m.name} in {t.name}</label>
                <select id={`mrole-${t.id}-${m.userId}`} value={m.role} disabled={form.busy} onChange={(e) => void setMemberRole(m, val(e))}>
                  <option value="MEMBER">Member</option>
                  <option value="LEAD">Lead</option>
                </select>
                <button type="button" class="danger" disabled={form.busy} onClick={() => void remove(m)}>Remove</button>
              </div>
            </li>
          ))}
        </ul>
      )}
      <form class="s-inline-form" noValidate onSubmit={add} aria-label={`Add a member to ${t.name}`}>
        <Field form={form} name="userId" label="Add user">
          {(p) => (
            <select {...p} value={userId} onChange={(e) => setUserId(val(e))}>
              <option value="">Choose…</option>
              {candidates.map((u) => <option key={u.id} value={u.id}>{u.name} ({u.email})</option>)}
            </select>
          )}
        </Field>
        <Field form={form} name="role" label="As">
          {(p) => (
            <select {...p} value={role} onChange={(e) => setRole(val(e))}>
              <option value="MEMBER">Member</option>
              <option value="LEAD">Lead</option>
            </select>
          )}
        </Field>
        <div class="s-actions">
          <button type="submit" disabled={form.busy || !userId}>Add</button>
        </div>
      </form>
      {form.formError()}
    </div>
  );
}

interface ScheduleStatus {
  isOpen: boolean;
  reason: string;
  nextChangeAt: string | null;
}

function TeamSchedule(props: { id: string }) {
  const loaded = useLoad(() => api<WeeklySchedule | null>(`/teams/${props.id}/schedule`), [props.id]);
  const status = useLoad(() => api<ScheduleStatus>(`/teams/${props.id}/schedule/status`), [props.id]);
  const [draft, setDraft] = useState<WeeklySchedule | null>(null);
  const [saved, setSaved] = useState(false);
  const form = useForm();
  useEffect(() => {
    if (loaded.data !== undefined) setDraft(loaded.data ? { ...loaded.data, holidays: loaded.data.holidays ?? [] } : null);
  }, [loaded.data]);

  async function submit(e: Event) {
    e.preventDefault();
    if (!draft) return;
    setSaved(false);
    const ok = await form.run(() => api<WeeklySchedule>(`/teams/${props.id}/schedule`, { method: "PUT", body: draft }));
    if (ok) {
      setSaved(true);
      loaded.set(ok);
      void status.reload();
    }
  }

  return (
    <form class="s-subpanel" noValidate onSubmit={submit} aria-label="Working hours">
      <h3>Working hours</h3>
      {status.data && (
        <p class="muted" role="status">
          Now: <strong>{status.data.isOpen ? "open" : "closed"}</strong> ({status.data.reason})
        </p>
      )}
      {loaded.loading && loaded.data === undefined ? (
        <p class="loading" role="status">Loading…</p>
      ) : draft === null ? (
        <>
          <p class="empty-state">No team hours: the team follows the organization's business hours.</p>
          <button type="button" onClick={() => setDraft(defaultSchedule())}>Set team hours</button>
        </>
      ) : (
        <>
          <ScheduleEditor form={form} value={draft} onChange={setDraft} idPrefix={"team-" + props.id} />
          {form.formError()}
          {saved && <p class="notice" role="status">Saved.</p>}
          <div class="s-actions">
            <button type="submit" class="primary" disabled={form.busy}>Save hours</button>
          </div>
        </>
      )}
    </form>
  );
}

