// The campaigns screen: `/campaigns` lists them with the organization's figures on top,
// `/campaigns/new` creates one (admins), `/campaigns/<id>` shows one. Progress arrives as
// `campaign.progress` events on the agent socket (about once a second while a campaign runs), so
// nothing here polls. Loaded on demand, so the inbox's initial JavaScript stays small. It uses
// the settings screens' look (rows, fields, tables) in a single column.
import { useEffect, useRef, useState } from "preact/hooks";
import { api, apiPage, qs, type Page } from "../api";
import { isAdmin } from "../auth";
import { navigate, path } from "../router";
import { subscribe } from "../live/socket";
import { fmtDate, useLoad, val } from "../settings/form";
import {
  CAMPAIGN_STATUSES, applyProgress, applyToGlobal, isProgressEvent, percent,
  type Action, type CampaignSummary, type Counts, type GlobalStats,
} from "./model";
import { CampaignActions, CampaignStatusBadge, CountsLine, ProgressBar, takeFlash } from "./parts";
import { CreateCampaign } from "./CreateCampaign";
import { CampaignDetailScreen } from "./CampaignDetail";

const LIMIT = 25;

export function Campaigns() {
  const sub = path.value.split("/")[2] ?? "";
  let screen;
  if (sub === "new") {
    screen = isAdmin.value ? <CreateCampaign /> : (
      <div class="empty-state"><h2>Campaigns are created by admins</h2><p>Ask an admin of your organization.</p></div>
    );
  } else if (sub) {
    screen = <CampaignDetailScreen key={sub} id={decodeURIComponent(sub)} />;
  } else {
    screen = <CampaignList />;
  }
  return (
    <main class="settings campaigns" data-testid="campaigns-screen">
      <section class="settings-body" aria-label="Campaigns">{screen}</section>
    </main>
  );
}

/** When a campaign starts, started or ended, as its row says it. */
export function whenOf(c: { status: string; scheduledAt?: string | null; startedAt?: string | null; completedAt?: string | null; createdAt: string }): string {
  if (c.status === "SCHEDULED" && c.scheduledAt) return `starts ${fmtDate(c.scheduledAt)}`;
  if (c.status === "COMPLETED" && c.completedAt) return `completed ${fmtDate(c.completedAt)}`;
  if (c.status === "CANCELLED" && c.completedAt) return `cancelled ${fmtDate(c.completedAt)}`;
  if (c.startedAt) return `started ${fmtDate(c.startedAt)}`;
  return `created ${fmtDate(c.createdAt)}`;
}

function GlobalFigures({ g }: { g: GlobalStats }) {
  const running = g.byStatus.RUNNING ?? 0;
  const tiles: [string, string, string?][] = [
    ["Campaigns", String(g.campaigns), running ? `${running} running` : undefined],
    ["Recipients", String(g.counts.total), g.counts.pending ? `${g.counts.pending} to send` : undefined],
    ["Sent", String(g.funnel.sent)],
    ["Delivered", percent(g.deliveryRate), `${g.funnel.delivered} of ${g.funnel.sent} sent`],
    ["Read", percent(g.readRate), `${g.funnel.read} of ${g.funnel.sent} sent`],
    ["Replied", percent(g.replyRate), `${g.funnel.replied} of ${g.funnel.sent} sent`],
    ["Failed", String(g.counts.failed)],
  ];
  return (
    <dl class="cmp-tiles" data-testid="campaigns-global" data-sent={g.funnel.sent}>
      {tiles.map(([label, value, sub]) => (
        <div key={label} class="cmp-tile">
          <dt>{label}</dt>
          <dd>{value}{sub && <small>{sub}</small>}</dd>
        </div>
      ))}
    </dl>
  );
}

function CampaignList() {
  const [status, setStatus] = useState("");
  const [page, setPage] = useState(1);
  const [notice, setNotice] = useState<{ kind: "info" | "error"; text: string } | null>(() => {
    const f = takeFlash();
    return f ? { kind: "info", text: f } : null;
  });
  const list = useLoad<Page<CampaignSummary>>(
    () => apiPage<CampaignSummary>("/campaigns" + qs({ status, page, limit: LIMIT })),
    [status, page],
  );
  const global = useLoad(() => api<GlobalStats>("/campaigns/stats/global"));
  const items = list.data?.data ?? [];
  const pages = list.data?.pagination?.totalPages ?? 1;
  const view = useRef({ status, page, items });
  view.current = { status, page, items };
  // The last status and counts seen of each campaign: the global figures move by the difference.
  // `gone`: deleted here, so its last event (if it comes after the figures were fetched again)
  // changes nothing.
  const known = useRef(new Map<string, { status: string; counts: Counts } | "gone">());
  useEffect(() => {
    for (const c of items) if (!known.current.has(c.id)) known.current.set(c.id, { status: c.status, counts: c.counts });
  }, [items]);

  useEffect(
    () =>
      subscribe((ev) => {
        if (ev.event !== "campaign.progress" || !isProgressEvent(ev.data)) return;
        const e = ev.data;
        const now = { status: e.campaign.status, counts: e.counts };
        const before = known.current.get(e.campaign.id);
        if (before === "gone") return;
        known.current.set(e.campaign.id, now);
        if (before) global.set((g) => (g ? applyToGlobal(g, before, now) : g!));
        else void global.reload();
        const v = view.current;
        if (applyProgress(v.items, e)) {
          list.set((prev) => (prev ? { ...prev, data: applyProgress(prev.data, e) ?? prev.data } : prev!));
        } else if (!before && v.page === 1 && (!v.status || v.status === e.campaign.status)) {
          // A campaign this tab has not seen (made elsewhere): it belongs at the top.
          void list.reload();
        }
      }),
    [list.reload, global.reload],
  );

  // Pause, resume and cancel come back as progress events, which move the figures; a deleted
  // campaign leaves them, so they are fetched again.
  function changed(c: CampaignSummary, a: Action) {
    setNotice({ kind: "info", text: `“${c.name}” ${DONE_TEXT[a]}.` });
    void list.reload();
    if (a === "delete") {
      known.current.set(c.id, "gone");
      void global.reload();
    }
  }

  return (
    <div class="settings-screen cmp-screen" data-testid="campaigns">
      <div class="tpl-title">
        <h2>Campaigns</h2>
        <span class="spacer" />
        {isAdmin.value && (
          <button type="button" class="primary" data-testid="campaign-new" onClick={() => navigate("/campaigns/new")}>
            New campaign
          </button>
        )}
      </div>
      <p class="muted">One approved template sent to many customers from one number, paced to the number's limits.</p>
      {global.data && <GlobalFigures g={global.data} />}
      {global.error && <p class="error" role="alert">{global.error.message}</p>}
      <div class="tpl-filters">
        <label class="sr-only" for="cmp-status">Status</label>
        <select id="cmp-status" value={status} data-testid="campaigns-status-filter" onChange={(e) => { setStatus(val(e)); setPage(1); }}>
          <option value="">Any status</option>
          {CAMPAIGN_STATUSES.map((s) => <option key={s} value={s}>{s.toLowerCase()}</option>)}
        </select>
      </div>
      {notice && (
        <div class={notice.kind === "error" ? "notice s-warn" : "notice"} role={notice.kind === "error" ? "alert" : "status"} data-testid="campaigns-notice">
          {notice.text}
        </div>
      )}
      {list.data === undefined && list.loading && <p class="loading" role="status">Loading…</p>}
      {list.error && <p class="error" role="alert">{list.error.message}</p>}
      {list.data && items.length === 0 && (
        <p class="empty-state">
          {status ? "No campaign has this status." : isAdmin.value ? "No campaigns yet. Create one from a CSV of your customers." : "No campaigns yet."}
        </p>
      )}
      {items.length > 0 && (
        <ul class="s-rows cmp-rows" data-testid="campaigns-list">
          {items.map((c) => (
            <CampaignRow key={c.id} c={c} onChanged={(a) => changed(c, a)} onError={(text) => setNotice({ kind: "error", text })} />
          ))}
        </ul>
      )}
      {pages > 1 && (
        <div class="s-actions" aria-label="Pages">
          <button type="button" disabled={page <= 1} onClick={() => setPage(page - 1)}>Previous</button>
          <span class="muted">Page {page} of {pages}</span>
          <button type="button" disabled={page >= pages} onClick={() => setPage(page + 1)}>Next</button>
        </div>
      )}
    </div>
  );
}

const DONE_TEXT = { pause: "paused", resume: "resumed", cancel: "cancelled", delete: "deleted" } as const;

function CampaignRow(props: { c: CampaignSummary; onChanged: (a: Action) => void; onError: (m: string) => void }) {
  const { c } = props;
  const href = "/campaigns/" + encodeURIComponent(c.id);
  return (
    <li class="s-row cmp-row" data-testid="campaign-row" data-id={c.id} data-name={c.name} data-status={c.status}>
      <div class="s-row-main">
        <div class="tpl-line">
          <a href={href} class="tpl-name" data-testid="campaign-open" onClick={(e) => { e.preventDefault(); navigate(href); }}>{c.name}</a>
          <CampaignStatusBadge status={c.status} />
        </div>
        <div class="muted s-small">
          {c.templateName} · {c.language} · {c.category.toLowerCase()} · {whenOf(c)}
        </div>
        <ProgressBar counts={c.counts} />
        <CountsLine counts={c.counts} />
        {c.waitingReason && c.status === "RUNNING" && <div class="cmp-waiting" data-testid="campaign-waiting">Waiting: {c.waitingReason}</div>}
      </div>
      {isAdmin.value && (
        <CampaignActions c={c} onDone={props.onChanged} onError={props.onError} />
      )}
    </li>
  );
}
