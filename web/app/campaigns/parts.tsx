// Pieces the campaign list and detail share: the status badge, the progress bar, the actions
// (through the bulk endpoint with one id, destructive ones confirmed), the counts under a bar,
// a CSV download, and a message the list shows once (after a delete on the detail page).
import { useState } from "preact/hooks";
import { api, raw } from "../api";
import { confirmed } from "../settings/form";
import { actionsFor, funnelOf, progressOf, type Action, type BulkResult, type Campaign, type Counts } from "./model";

const STATUS_LABEL: Record<string, string> = {
  SCHEDULED: "Scheduled", RUNNING: "Running", PAUSED: "Paused", COMPLETED: "Completed", CANCELLED: "Cancelled",
};

export function CampaignStatusBadge({ status }: { status: string }) {
  return <span class={"s-badge cmp-status cmp-" + status} data-testid="campaign-status">{STATUS_LABEL[status] ?? status}</span>;
}

/** Sent (and beyond) in the accent color, failed in red, the rest still to send. */
export function ProgressBar({ counts }: { counts: Counts }) {
  const p = progressOf(counts);
  const label = `${p.done} of ${p.total} sent${p.failed ? `, ${p.failed} failed` : ""}`;
  return (
    <div class="cmp-bar" role="img" aria-label={label} title={label} data-testid="campaign-progress" data-done={p.done} data-failed={p.failed} data-total={p.total}>
      <span class="cmp-bar-done" style={{ width: `${p.donePct}%` }} />
      <span class="cmp-bar-failed" style={{ width: `${p.failedPct}%` }} />
    </div>
  );
}

const ACTION_LABEL: Record<Action, string> = { pause: "Pause", resume: "Resume", cancel: "Cancel", delete: "Delete" };

function confirmText(a: Action, c: Campaign): string | null {
  if (a === "cancel") return `Cancel “${c.name}”? It stops for good; recipients not sent yet are not sent.`;
  if (a === "delete") {
    const live = c.status === "RUNNING" || c.status === "SCHEDULED" || c.status === "PAUSED";
    return `Delete “${c.name}”?${live ? " It is cancelled first." : ""} The messages already sent stay in their conversations.`;
  }
  return null;
}

/** Runs one action on one campaign; the reason when the server refused it. */
export async function act(c: Campaign, a: Action): Promise<string | null> {
  const r = await api<BulkResult>("/campaigns/bulk", { body: { action: a, selection: { mode: "ids", ids: [c.id] } } });
  return r.failed[0]?.reason ?? null;
}

/** The buttons of the actions a campaign takes now. */
export function CampaignActions(props: { c: Campaign; onDone: (a: Action) => void; onError: (m: string) => void }) {
  const [busy, setBusy] = useState(false);
  async function run(a: Action) {
    const ask = confirmText(a, props.c);
    if (ask && !confirmed(ask)) return;
    setBusy(true);
    try {
      const refused = await act(props.c, a);
      if (refused) props.onError(`${ACTION_LABEL[a]}: ${refused}`);
      else props.onDone(a);
    } catch (e) {
      props.onError(e instanceof Error ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  }
  return (
    <div class="s-row-actions">
      {actionsFor(props.c.status).map((a) => (
        <button type="button" key={a} class={a === "cancel" || a === "delete" ? "danger" : ""} disabled={busy}
          data-testid={"campaign-" + a} onClick={() => void run(a)}>
          {ACTION_LABEL[a]}
        </button>
      ))}
    </div>
  );
}

/** Saves text or an authenticated download as a file. */
export function saveAs(blob: Blob, name: string) {
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** Downloads an API path (with the session's token) as a file. */
export async function download(path: string, name: string) {
  const res = await raw(path);
  saveAs(await res.blob(), name);
}

/** The counts under a progress bar. */
export function CountsLine({ counts }: { counts: Counts }) {
  const p = progressOf(counts);
  const f = funnelOf(counts);
  return (
    <div class="s-small cmp-counts" data-testid="campaign-counts">
      <span><strong>{p.done}</strong> of {p.total} sent</span>
      <span>{f.delivered} delivered</span>
      <span>{f.read} read</span>
      <span>{f.replied} replied</span>
      {p.failed > 0 && <span class="cmp-failed">{p.failed} failed</span>}
      {p.pending > 0 && <span>{p.pending} to send</span>}
    </div>
  );
}

let flash: string | null = null;
/** A message for the list's next showing (e.g. after a campaign was deleted from its page). */
export function flashList(text: string) {
  flash = text;
}

/** The flash message, once. */
export function takeFlash(): string | null {
  const f = flash;
  flash = null;
  return f;
}
