// The conversation list: tabs with live counts, filters, and a virtualized, infinitely
// scrolling list of fixed-height rows (only the visible rows plus a few are in the DOM).
import { useEffect, useRef, useState } from "preact/hooks";
import { navigate } from "../router";
import {
  filter, setFilter, listIds, listNext, listLoading, listError, loadMore, loadList, counts, convs, convRev,
  userById, teams, tags, myId, tagById,
} from "./store";
import { type Tab, contactName, contactPhone, STATUS_LABEL, ALL_STATUSES } from "./model";

export const ROW_HEIGHT = 76;
const OVERSCAN = 6;

function when(iso?: string | null): string {
  if (!iso) return "";
  const d = new Date(iso);
  const now = new Date();
  if (d.toDateString() === now.toDateString()) return d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  const diff = (now.getTime() - d.getTime()) / 86_400_000;
  if (diff < 6) return d.toLocaleDateString([], { weekday: "short" });
  return d.toLocaleDateString([], { day: "numeric", month: "short" });
}

const TABS: { tab: Tab; label: string }[] = [
  { tab: "mine", label: "Mine" },
  { tab: "unassigned", label: "Unassigned" },
  { tab: "all", label: "All" },
];

function Tabs() {
  const f = filter.value;
  const c = counts.value;
  return (
    <div class="tabs" role="tablist" aria-label="Conversations">
      {TABS.map(({ tab, label }) => {
        const n = c[tab]?.all;
        return (
          <button
            type="button"
            role="tab"
            aria-selected={f.tab === tab}
            class={f.tab === tab ? "tab active" : "tab"}
            data-testid={`tab-${tab}`}
            data-count={n ?? 0}
            onClick={() => setFilter({ tab })}
          >
            {label} <span class="count">{n ?? "…"}</span>
          </button>
        );
      })}
    </div>
  );
}

function Filters() {
  const f = filter.value;
  const [q, setQ] = useState(f.search);
  useEffect(() => {
    if (q === filter.value.search) return;
    const t = setTimeout(() => setFilter({ search: q }), 300);
    return () => clearTimeout(t);
  }, [q]);
  return (
    <div class="filters">
      <input
        type="search"
        class="search"
        placeholder="Search name, phone, text"
        aria-label="Search conversations"
        value={q}
        onInput={(e) => setQ((e.target as HTMLInputElement).value)}
        data-testid="list-search"
      />
      <div class="filter-row">
        <select aria-label="Status" value={f.status} onChange={(e) => setFilter({ status: (e.target as HTMLSelectElement).value })} data-testid="filter-status">
          <option value="active">Active</option>
          <option value="">Any status</option>
          {ALL_STATUSES.map((s) => <option value={s}>{STATUS_LABEL[s]}</option>)}
        </select>
        <select aria-label="Sort" value={f.sort} onChange={(e) => setFilter({ sort: (e.target as HTMLSelectElement).value as any })} data-testid="filter-sort">
          <option value="newest">Newest</option>
          <option value="waiting_longest">Waiting longest</option>
        </select>
      </div>
      <div class="filter-row">
        <select aria-label="Team" value={f.teamId} onChange={(e) => setFilter({ teamId: (e.target as HTMLSelectElement).value })} data-testid="filter-team">
          <option value="">All teams</option>
          {teams.value.filter((t) => t.isActive !== false).map((t) => <option value={t.id}>{t.name}</option>)}
        </select>
        <select aria-label="Tag" value={f.tagId} onChange={(e) => setFilter({ tagId: (e.target as HTMLSelectElement).value })} data-testid="filter-tag">
          <option value="">All tags</option>
          {tags.value.map((t) => <option value={t.id}>{t.name}</option>)}
        </select>
      </div>
    </div>
  );
}

function Row({ id, top, selected }: { id: string; top: number; selected: boolean }) {
  void convRev.value; // its own subscription: same props, changed conversation
  const c = convs.get(id);
  if (!c) return null;
  const assignee = c.assignedTo ? (c.assignedTo === myId.value ? "You" : userById.value.get(c.assignedTo)?.name ?? "Agent") : c.status === "BOT_HANDLING" ? "Bot" : "Unassigned";
  const name = contactName(c);
  return (
    <a
      href={`/conversations/${c.id}`}
      class={"row" + (selected ? " selected" : "") + (c.unreadCount > 0 ? " unread" : "")}
      style={{ top: `${top}px`, height: `${ROW_HEIGHT}px` }}
      data-testid="conversation-row"
      data-id={c.id}
      aria-current={selected ? "page" : undefined}
      onClick={(e) => {
        if (e.ctrlKey || e.metaKey || e.shiftKey) return;
        e.preventDefault();
        navigate(`/conversations/${c.id}`);
      }}
    >
      <div class="row-top">
        <span class="row-name" title={contactPhone(c)}>{name}</span>
        <time class="row-time" dateTime={c.lastMessageAt ?? undefined}>{when(c.lastMessageAt)}</time>
      </div>
      <div class="row-mid">
        <span class="row-preview">{c.lastMessagePreview ?? ""}</span>
        {c.unreadCount > 0 && (
          <span class="badge" data-testid="unread-badge" aria-label={`${c.unreadCount} unread`}>{c.unreadCount}</span>
        )}
      </div>
      <div class="row-bottom">
        <span class={"status s-" + c.status}>{STATUS_LABEL[c.status] ?? c.status}</span>
        <span class="row-assignee">{assignee}</span>
        {c.followUpAt && <span class="flag" title="Follow-up">⚑</span>}
        {(c.tags ?? []).slice(0, 2).map((t) => (
          <span class="tag-chip" style={{ "--tag": tagById.value.get(t.id)?.hex ?? "#888" }}>{t.name}</span>
        ))}
      </div>
    </a>
  );
}

export function ConversationList({ openId }: { openId: string | null }) {
  const ids = listIds.value;
  void convRev.value; // re-render rows when a conversation changes
  const scroller = useRef<HTMLDivElement>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const [height, setHeight] = useState(600);

  useEffect(() => {
    const el = scroller.current;
    if (!el) return;
    const ro = new ResizeObserver(() => setHeight(el.clientHeight));
    ro.observe(el);
    setHeight(el.clientHeight);
    return () => ro.disconnect();
  }, []);

  // Back to the top when the filter changes.
  const f = filter.value;
  useEffect(() => {
    if (scroller.current) scroller.current.scrollTop = 0;
    setScrollTop(0);
  }, [f.tab, f.status, f.teamId, f.tagId, f.search, f.sort]);

  const first = Math.max(0, Math.floor(scrollTop / ROW_HEIGHT) - OVERSCAN);
  const last = Math.min(ids.length, Math.ceil((scrollTop + height) / ROW_HEIGHT) + OVERSCAN);

  useEffect(() => {
    if (listNext.value && !listLoading.value && last >= ids.length - OVERSCAN) void loadMore();
  }, [last, ids.length, listNext.value, listLoading.value]);

  // Keep the open conversation visible when Alt+J/K moves the selection.
  useEffect(() => {
    const el = scroller.current;
    if (!el || !openId) return;
    const i = ids.indexOf(openId);
    if (i < 0) return;
    const top = i * ROW_HEIGHT;
    if (top < el.scrollTop) el.scrollTop = top;
    else if (top + ROW_HEIGHT > el.scrollTop + el.clientHeight) el.scrollTop = top + ROW_HEIGHT - el.clientHeight;
  }, [openId]);

  const rows = [];
  for (let i = first; i < last; i++) rows.push(<Row key={ids[i]} id={ids[i]} top={i * ROW_HEIGHT} selected={ids[i] === openId} />);

  return (
    <section class="pane list-pane" aria-label="Conversation list">
      <Tabs />
      <Filters />
      <div
        class="list-scroll"
        ref={scroller}
        onScroll={(e) => setScrollTop((e.target as HTMLDivElement).scrollTop)}
        data-testid="conversation-list"
        data-total={ids.length}
      >
        <div class="list-spacer" style={{ height: `${ids.length * ROW_HEIGHT}px` }}>{rows}</div>
        {listLoading.value && <div class="list-status" role="status">Loading…</div>}
        {!listLoading.value && ids.length === 0 && !listError.value && <div class="list-status">No conversations here.</div>}
        {listError.value && (
          <div class="list-status error" role="alert">
            {listError.value} <button type="button" class="link" onClick={() => void loadList()}>Retry</button>
          </div>
        )}
      </div>
    </section>
  );
}
