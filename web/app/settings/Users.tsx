// Users and invitations: the organization's people (role, presence, teams), role changes and
// deletion; pending invitations with resend and revoke; and the invite form (POST /invitations,
// which emails the invitation).
import { useState } from "preact/hooks";
import { api, qs } from "../api";
import { me } from "../auth";
import { Field, ListState, confirmed, fmtDate, useForm, useLoad, val } from "./form";
import type { Team } from "./Teams";

export interface User {
  id: string;
  email: string;
  name: string;
  role: string;
  status: string;
  maxConcurrent: number | null;
  avatarUrl: string | null;
  lastSeenAt: string | null;
  invitePending: boolean;
  openConversations: number;
  teams: { id: string; name: string; role: string }[];
  createdAt: string;
  deletedAt: string | null;
}

export interface Invitation {
  id: string;
  email: string;
  name: string | null;
  role: string;
  teamId: string | null;
  userId: string | null;
  status: string;
  invitedBy: string | null;
  expiresAt: string;
  acceptedAt: string | null;
  createdAt: string;
  updatedAt: string;
}

const ROLES = ["AGENT", "ADMIN"];

export function UsersSettings() {
  const users = useLoad(() => api<User[]>("/users"));
  const invitations = useLoad(() => api<Invitation[]>("/invitations" + qs({ status: "PENDING" })));
  const teams = useLoad(() => api<Team[]>("/teams"));
  return (
    <div class="settings-screen">
      <h2>Users</h2>
      <ListState state={users} empty="No users yet.">
        {(items) => (
          <table class="s-table" data-testid="users-table">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Role</th>
                <th scope="col">Presence</th>
                <th scope="col">Teams</th>
                <th scope="col">Open</th>
                <th scope="col"><span class="sr-only">Actions</span></th>
              </tr>
            </thead>
            <tbody>
              {items.map((u) => (
                <UserRow key={u.id} user={u} onChanged={() => { void users.reload(); void invitations.reload(); }} />
              ))}
            </tbody>
          </table>
        )}
      </ListState>

      <h2>Pending invitations</h2>
      <ListState state={invitations} empty="No pending invitations.">
        {(items) => (
          <ul class="s-rows" data-testid="invitations-list">
            {items.map((i) => (
              <InvitationRow key={i.id} inv={i} teams={teams.data ?? []} onChanged={() => void invitations.reload()} />
            ))}
          </ul>
        )}
      </ListState>

      <InviteForm teams={teams.data ?? []} onInvited={() => void invitations.reload()} />
    </div>
  );
}

function UserRow(props: { user: User; onChanged: () => void }) {
  const u = props.user;
  const form = useForm();
  const self = me.value?.id === u.id;
  const superAdmin = me.value?.role === "SUPER_ADMIN";
  const roles = superAdmin || u.role === "SUPER_ADMIN" ? ["AGENT", "ADMIN", "SUPER_ADMIN"] : ROLES;

  async function changeRole(role: string) {
    if (role === u.role) return;
    if (!confirmed(`Make ${u.name} ${role}?`)) {
      props.onChanged(); // put the select back
      return;
    }
    await form.run(() => api(`/users/${u.id}`, { method: "PATCH", body: { role } }));
    props.onChanged();
  }

  async function remove() {
    if (!confirmed(`Delete ${u.name} (${u.email})? They are signed out, leave their teams, and their open conversations go back to the queue.`)) return;
    const ok = await form.run(async () => {
      await api(`/users/${u.id}`, { method: "DELETE" });
      return true;
    });
    if (ok) props.onChanged();
  }

  async function resend() {
    const ok = await form.run(async () => {
      await api(`/users/${u.id}/resend-invite`, { method: "POST" });
      return true;
    });
    if (ok) props.onChanged();
  }

  return (
    <tr data-testid="user-row">
      <td>
        <strong>{u.name}</strong> {self && <span class="s-badge">you</span>}
        {u.invitePending && <span class="s-badge s-warn">invite pending</span>}
        <div class="muted">{u.email}</div>
        {form.formError()}
      </td>
      <td>
        <label class="sr-only" for={"role-" + u.id}>Role of {u.name}</label>
        <select
          id={"role-" + u.id}
          value={u.role}
          disabled={form.busy || self}
          onChange={(e) => void changeRole(val(e))}
        >
          {roles.map((r) => <option key={r} value={r}>{r}</option>)}
        </select>
      </td>
      <td>
        <span class={"s-presence presence-" + u.status.toLowerCase()}>{u.status}</span>
        {u.lastSeenAt && <div class="muted s-small">seen {fmtDate(u.lastSeenAt)}</div>}
      </td>
      <td>{u.teams.map((t) => `${t.name}${t.role === "LEAD" ? " (lead)" : ""}`).join(", ") || <span class="muted">—</span>}</td>
      <td>{u.openConversations}</td>
      <td>
        <div class="s-row-actions">
          {u.invitePending && (
            <button type="button" disabled={form.busy} onClick={() => void resend()}>Resend invite</button>
          )}
          {!self && (
            <button type="button" class="danger" disabled={form.busy} onClick={() => void remove()}>Delete</button>
          )}
        </div>
      </td>
    </tr>
  );
}

function InvitationRow(props: { inv: Invitation; teams: Team[]; onChanged: () => void }) {
  const i = props.inv;
  const form = useForm();
  const team = props.teams.find((t) => t.id === i.teamId);
  const [note, setNote] = useState<string | null>(null);

  async function resend() {
    const ok = await form.run(() => api<Invitation>(`/invitations/${i.id}/resend`, { method: "POST" }));
    if (ok) {
      setNote("Sent again.");
      props.onChanged();
    }
  }
  async function revoke() {
    if (!confirmed(`Revoke the invitation of ${i.email}? The emailed link stops working.`)) return;
    const ok = await form.run(() => api<Invitation>(`/invitations/${i.id}`, { method: "DELETE" }));
    if (ok) props.onChanged();
  }

  return (
    <li class="s-row" data-testid="invitation-row">
      <div class="s-row-main">
        <strong>{i.email}</strong> <span class="s-badge">{i.role}</span>
        <div class="muted">
          {i.name && <>{i.name} · </>}
          {team && <>team {team.name} · </>}
          expires {fmtDate(i.expiresAt)}
          {note && <> · {note}</>}
        </div>
        {form.formError()}
      </div>
      <div class="s-row-actions">
        <button type="button" disabled={form.busy} onClick={() => void resend()}>Resend</button>
        <button type="button" class="danger" disabled={form.busy} onClick={() => void revoke()}>Revoke</button>
      </div>
    </li>
  );
}

function InviteForm(props: { teams: Team[]; onInvited: () => void }) {
  const empty = { email: "", role: "AGENT", name: "", teamId: "" };
  const [v, setV] = useState(empty);
  const [sent, setSent] = useState<string | null>(null);
  const form = useForm();
  const set = (k: keyof typeof empty) => (e: Event) => setV({ ...v, [k]: val(e) });

  async function submit(e: Event) {
    e.preventDefault();
    setSent(null);
    const body = {
      email: v.email.trim(),
      role: v.role,
      name: v.name.trim() || undefined,
      teamId: v.teamId || undefined,
    };
    const inv = await form.run(() => api<Invitation>("/invitations", { body }));
    if (inv) {
      setSent(`Invitation sent to ${inv.email}.`);
      setV(empty);
      props.onInvited();
    }
  }

  return (
    <form class="s-panel" data-testid="invite-form" noValidate onSubmit={submit}>
      <h3>Invite someone</h3>
      <div class="s-grid2">
        <Field form={form} name="email" label="Email">
          {(p) => <input {...p} type="email" autoComplete="off" required value={v.email} onInput={set("email")} />}
        </Field>
        <Field form={form} name="role" label="Role">
          {(p) => (
            <select {...p} value={v.role} onChange={set("role")}>
              <option value="AGENT">Agent</option>
              <option value="ADMIN">Admin</option>
            </select>
          )}
        </Field>
        <Field form={form} name="name" label="Name (optional)">
          {(p) => <input {...p} value={v.name} onInput={set("name")} />}
        </Field>
        <Field form={form} name="teamId" label="Team (optional)">
          {(p) => (
            <select {...p} value={v.teamId} onChange={set("teamId")}>
              <option value="">No team</option>
              {props.teams.filter((t) => t.isActive).map((t) => <option key={t.id} value={t.id}>{t.name}</option>)}
            </select>
          )}
        </Field>
      </div>
      {form.formError()}
      {sent && <p class="notice" role="status">{sent}</p>}
      <div class="s-actions">
        <button type="submit" class="primary" data-testid="invite-submit" disabled={form.busy}>
          {form.busy ? "Sending…" : "Send invitation"}
        </button>
      </div>
    </form>
  );
}
