// One campaign: its state and actions, why it waits, the funnel (recipients → sent → delivered →
// read → replied, and failed) with rates, the estimated cost and, on demand, what Meta charged,
// and its recipients a page at a time with a status filter and a CSV export of the same filter.
// The figures follow `campaign.progress` events; the recipients' page is fetched again when the
// campaign starts, pauses or ends, or when asked (a notice says when it changed), so a running
// campaign costs no request a second.
import { useEffect, useRef, useState } from "preact/hooks";
import { api, qs } from "../api";
import { isAdmin } from "../auth";
import { navigate } from "../router";
import { subscribe } from "../live/socket";
import { fmtDate, useLoad, val } from "../settings/form";
import {
  RECIPIENT_STATUSES, countsDiffer, funnelSteps, isProgressEvent, money, percent, statsWith,
  type CampaignDetail, type MetaCost, type Recipient,
} from "./model";
import { CampaignActions, CampaignStatusBadge, CountsLine, ProgressBar, download, flashList } from "./parts";

const LIMIT = 25;

interface Account { id: string; displayPhoneNumber: string | null; alias: string | null; phoneNumberId: string }

const back = () => navigate("/campaigns");

export function CampaignDetailScreen({ id }: { id: string }) {
  const [page, setPage] = useState(1);
  const [status, setStatus] = useState("");
  const [notice, setNotice] = useState<{ kind: "info" | "error"; text: string } | null>(null);
  const [stale, setStale] = useState(false);
  const enc = encodeURIComponent(id);
  const detail = useLoad(() => api<CampaignDetail>(`/campaigns/${enc}` + qs({ page, limit: LIMIT, status })), [id, page, status]);
  const accounts = useLoad(() => api<Account[]>("/whatsapp-accounts"));
  const current = useRef(detail.data);
  current.current = detail.data;

  function reload() {
    setStale(false);
    void detail.reload();
  }

  useEffect(
    () =>
      subscribe((ev) => {
        const prev = current.current;
        if (!prev) return;
        // A message of a recipient on this page changed (sent, delivered, read, a reply): also
        // after the campaign ended, when no progress event says so.
        if (ev.event.startsWith("message.") && ev.conversationId && prev.recipients.some((r) => r.conversationId === ev.conversationId)) {
          setStale(true);
          return;
        }
        if (ev.event !== "campaign.progress" || !isProgressEvent(ev.data) || ev.data.campaign.id !== id) return;
        const e = ev.data;
        detail.set((d) => (d ? { ...d, ...e.campaign, stats: statsWith(d.stats, e.counts) } : d!));
        if (prev.status !== e.campaign.status) {
          // Started, paused or finished: the recipients' page, cost and send rate are worth a fetch.
          setStale(false);
          void detail.reload();
        } else if (countsDiffer(prev.stats.counts, e.counts)) {
          setStale(true);
        }
      }),
    [id, detail.reload],
  );

  const d = detail.data;
  if (!d) {
    return (
      <div class="settings-screen cmp-screen">
        <a href="/campaigns" class="tpl-back" onClick={(e) => { e.preventDefault(); back(); }}>← Campaigns</a>
        {detail.error ? <p class="error" role="alert">{detail.error.message}</p> : <p class="loading" role="status">Loading…</p>}
      </div>
    );
  }
  const account = accounts.data?.find((a) => a.id === d.accountId);
  const exportPath = `/api/v1/campaigns/${enc}/export` + qs({ status });
  const pages = d.pagination?.totalPages ?? 1;

  return (
    <div class="settings-screen cmp-screen" data-testid="campaign-detail" data-id={d.id} data-status={d.status}>
      <a href="/campaigns" class="tpl-back" onClick={(e) => { e.preventDefault(); back(); }}>← Campaigns</a>
      <div class="tpl-title">
        <h2>{d.name}</h2>
        <CampaignStatusBadge status={d.status} />
        <span class="spacer" />
        {isAdmin.value && (
          <CampaignActions
            c={d}
            onDone={(a) => {
              if (a === "delete") {
                flashList(`“${d.name}” deleted.`);
                back();
              } else {
                reload();
              }
            }}
            onError={(text) => setNotice({ kind: "error", text })}
          />
        )}
      </div>
      {notice && (
        <div class={notice.kind === "error" ? "notice s-warn" : "notice"} role={notice.kind === "error" ? "alert" : "status"}>{notice.text}</div>
      )}
      {detail.error && <p class="error" role="alert">{detail.error.message}</p>}
      {d.waitingReason && d.status === "RUNNING" && (
        <div class="notice s-warn" role="status" data-testid="campaign-waiting">Waiting: {d.waitingReason}</div>
      )}
      <dl class="s-facts">
        <dt>Template</dt>
        <dd>{d.templateName} · {d.language} · {d.category.toLowerCase()}</dd>
        <dt>From</dt>
        <dd>{account ? account.alias || account.displayPhoneNumber || account.phoneNumberId : d.accountId}</dd>
        {d.scheduledAt && (<><dt>Scheduled for</dt><dd>{fmtDate(d.scheduledAt)}</dd></>)}
        {d.startedAt && (<><dt>Started</dt><dd>{fmtDate(d.startedAt)}</dd></>)}
        {d.completedAt && (<><dt>{d.status === "CANCELLED" ? "Cancelled" : "Completed"}</dt><dd>{fmtDate(d.completedAt)}</dd></>)}
        <dt>Replies count</dt>
        <dd>within {d.attributionHours} hours of the send</dd>
        {d.stats.sendRate != null && d.stats.sendRate > 0 && (<><dt>Send rate</dt><dd>{d.stats.sendRate.toFixed(1)} messages a second</dd></>)}
      </dl>

      <section class="s-panel" aria-labelledby="cmp-progress-h">
        <h3 id="cmp-progress-h">Progress</h3>
        <ProgressBar counts={d.stats.counts} />
        <CountsLine counts={d.stats.counts} />
        <Funnel d={d} />
      </section>

      <Cost d={d} />

      <section class="s-panel" aria-labelledby="cmp-recipients-h">
        <div class="tpl-title">
          <h3 id="cmp-recipients-h">Recipients</h3>
          <span class="spacer" />
          <label class="sr-only" for="cmp-recipient-status">Status</label>
          <select id="cmp-recipient-status" value={status} data-testid="campaign-recipients-filter"
            onChange={(e) => { setStatus(val(e)); setPage(1); }}>
            <option value="">Every status</option>
            {RECIPIENT_STATUSES.map((s) => <option key={s} value={s}>{s.toLowerCase()}</option>)}
          </select>
          <a href={exportPath} class="cmp-export" data-testid="campaign-export"
            onClick={(e) => {
              e.preventDefault();
              download(exportPath, `campaign-${d.id}${status ? "-" + status.toLowerCase() : ""}.csv`).catch((err) =>
                setNotice({ kind: "error", text: err instanceof Error ? err.message : String(err) }));
            }}>
            Export CSV
          </a>
        </div>
        {stale && (
          <div class="notice" role="status">
            Recipients' statuses changed since this list was loaded. <button type="button" class="link" data-testid="campaign-recipients-refresh" onClick={reload}>Show the latest</button>
          </div>
        )}
        {d.recipients.length === 0 ? (
          <p class="empty-state">{status ? "No recipient has this status." : "No recipients."}</p>
        ) : (
          <div class="cmp-table-wrap">
            <table class="s-table cmp-table" data-testid="campaign-recipients">
              <thead>
                <tr><th>#</th><th>Phone</th><th>Name</th><th>Status</th><th>Last change</th><th>Message or error</th></tr>
              </thead>
              <tbody>
                {d.recipients.map((r) => <RecipientRow key={r.id} r={r} />)}
              </tbody>
            </table>
          </div>
        )}
        {pages > 1 && (
          <div class="s-actions" aria-label="Pages">
            <button type="button" disabled={page <= 1} onClick={() => setPage(page - 1)}>Previous</button>
            <span class="muted">Page {page} of {pages} ({d.pagination.total} recipients)</span>
            <button type="button" disabled={page >= pages} onClick={() => setPage(page + 1)}>Next</button>
          </div>
        )}
      </section>
    </div>
  );
}

function Funnel({ d }: { d: CampaignDetail }) {
  return (
    <ul class="cmp-funnel" data-testid="campaign-funnel" aria-label="Funnel">
      {funnelSteps(d.stats.funnel).map((s) => (
        <li key={s.key} class={"cmp-step cmp-step-" + s.key} data-step={s.key} data-value={s.value}>
          <span class="cmp-step-label">{s.label}</span>
          <span class="cmp-step-bar" aria-hidden="true"><span style={{ width: `${s.width}%` }} /></span>
          <span class="cmp-step-value">
            <strong>{s.value}</strong>
            {s.key !== "recipients" && <small>{percent(s.rate)} of {s.of}</small>}
          </span>
        </li>
      ))}
    </ul>
  );
}

function Cost({ d }: { d: CampaignDetail }) {
  const [meta, setMeta] = useState<MetaCost | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  async function ask() {
    setBusy(true);
    setError(null);
    try {
      setMeta(await api<MetaCost>(`/campaigns/${encodeURIComponent(d.id)}/meta-cost`));
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  }
  return (
    <section class="s-panel" aria-labelledby="cmp-cost-h" data-testid="campaign-cost">
      <h3 id="cmp-cost-h">Cost</h3>
      <p>
        Estimated <strong data-testid="campaign-estimated-cost">{money(d.stats.estimatedCost, d.stats.currency)}</strong> for the messages
        sent so far, by Meta's rate card for {d.category.toLowerCase()} templates.
      </p>
      {isAdmin.value && (
        <div class="s-actions">
          <button type="button" disabled={busy} onClick={() => void ask()} data-testid="campaign-meta-cost">
            {meta ? "Ask Meta again" : "Ask Meta what it charged"}
          </button>
          {busy && <span class="muted" role="status">Asking Meta…</span>}
        </div>
      )}
      {error && <p class="error" role="alert">{error}</p>}
      {meta && (
        <p data-testid="campaign-meta-cost-result">
          Meta charged <strong>{money(meta.cost, meta.currency)}</strong> for this campaign's {meta.campaignSent} messages: its share of
          the {money(meta.templateCost, meta.currency)} the template cost for {meta.templateSent} messages from {fmtDate(meta.from)} to{" "}
          {fmtDate(meta.to)} (estimate for the same messages: {money(meta.estimatedCost, meta.currency)}).
        </p>
      )}
    </section>
  );
}

function lastChange(r: Recipient): string | null {
  return r.repliedAt ?? r.readAt ?? r.deliveredAt ?? r.sentAt ?? null;
}

function RecipientRow({ r }: { r: Recipient }) {
  const href = r.conversationId ? "/conversations/" + encodeURIComponent(r.conversationId) : null;
  return (
    <tr data-testid="campaign-recipient" data-status={r.status}>
      <td>{r.position}</td>
      <td class="cmp-nowrap">
        {href ? <a href={href} onClick={(e) => { e.preventDefault(); navigate(href); }}>{r.phone}</a> : r.phone}
      </td>
      <td>{r.name ?? ""}</td>
      <td><span class={"s-badge cmp-r-" + r.status}>{r.status.toLowerCase()}</span></td>
      <td class="cmp-nowrap">{fmtDate(lastChange(r))}</td>
      <td class="cmp-text">
        {r.status === "FAILED" ? (
          <span class="cmp-failed">{r.errorCode ? `${r.errorCode}: ` : ""}{r.errorMessage ?? "failed"}</span>
        ) : (
          <span class="muted">{r.text}</span>
        )}
      </td>
    </tr>
  );
}
