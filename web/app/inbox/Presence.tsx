// The signed-in agent's presence (ONLINE / AWAY / BUSY / OFFLINE), kept live by
// `agent.presence_changed`.
import { useState } from "preact/hooks";
import { api } from "../api";
import { me } from "../auth";
import { users, say, errorText, type UserDetail } from "./store";

const STATES = ["ONLINE", "AWAY", "BUSY", "OFFLINE"];

export function PresenceToggle() {
  const user = me.value;
  const [busy, setBusy] = useState(false);
  if (!user) return null;
  const current = users.value.find((u) => u.id === user.id)?.status ?? user.status ?? "OFFLINE";
  async function set(status: string) {
    setBusy(true);
    try {
      const u = await api<UserDetail>(`/users/${encodeURIComponent(user!.id)}/status`, { method: "PATCH", body: { status } });
      users.value = users.value.some((x) => x.id === u.id) ? users.value.map((x) => (x.id === u.id ? { ...x, status: u.status } : x)) : [...users.value, u];
    } catch (e) {
      say(errorText(e), "error");
    }
    setBusy(false);
  }
  return (
    <label class="presence">
      <span class={"presence-dot p-" + current.toLowerCase()} aria-hidden="true" />
      <span class="sr-only">Your status</span>
      <select data-testid="presence" value={current} disabled={busy} onChange={(e) => void set((e.target as HTMLSelectElement).value)}>
        {STATES.map((s) => <option value={s}>{s[0] + s.slice(1).toLowerCase()}</option>)}
      </select>
    </label>
  );
}
