// The open conversation: header with the controls, the message window (older pages on scroll
// up, at most ~300 message nodes, fetched back when scrolled to), and the composer.
import { useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";
import { isAdmin } from "../auth";
import { navigate } from "../router";
import { api } from "../api";
import { thread, getConv, convRev, loadOlder, loadNewer, actions, users, teams, myId, userById, jumpToLatest, say, errorText, visitorTyping, isVisitorTyping } from "./store";
import { contactName, contactPhone, STATUS_LABEL, atLatest, type Conversation } from "./model";
import { MessageItem } from "./Message";
import { Composer } from "./Composer";
import { IconBack, IconInfo, IconFlag, IconBot } from "./icons";

function presenceClass(s: string) {
  return "presence-dot p-" + (s || "OFFLINE").toLowerCase();
}

export function AssignMenu({ c, onClose }: { c: Conversation; onClose: () => void }) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    ref.current?.querySelector<HTMLButtonElement>("button:not([disabled])")?.focus();
  }, []);
  const admin = isAdmin.value;
  const list = users.value.filter((u) => !u.deletedAt);
  return (
    <div class="menu" role="menu" ref={ref} data-testid="assign-menu"
      onKeyDown={(e) => {
        if (e.key === "Escape") { e.stopPropagation(); onClose(); }
        if (e.key === "ArrowDown" || e.key === "ArrowUp") {
          e.preventDefault();
          const items = [...(ref.current?.querySelectorAll<HTMLButtonElement>("button:not([disabled])") ?? [])];
          const i = items.indexOf(document.activeElement as HTMLButtonElement);
          items[(i + (e.key === "ArrowDown" ? 1 : -1) + items.length) % items.length]?.focus();
        }
      }}>
      {list.length === 0 && <div class="menu-note">No agents loaded.</div>}
      {list.map((u) => {
        const allowed = admin || u.id === myId.value;
        return (
          <button type="button" role="menuitem" disabled={!allowed || c.assignedTo === u.id} data-testid="assign-option" data-user-id={u.id}
            title={allowed ? undefined : "Agents can assign conversations only to themselves"}
            onClick={() => { onClose(); void actions.assign(c.id, u.id); }}>
            <span class={presenceClass(u.status)} aria-hidden="true" />
            <span class="menu-label">{u.id === myId.value ? `${u.name} (you)` : u.name}</span>
            <small>{(u.status || "OFFLINE").toLowerCase()}</small>
          </button>
        );
      })}
      <hr />
      <div class="menu-note" id="assign-teams">Team</div>
      {teams.value.filter((t) => t.isActive !== false).map((t) => (
        <button type="button" role="menuitem" aria-describedby="assign-teams" disabled={c.teamId === t.id}
          data-testid="assign-team-option" data-team-id={t.id}
          onClick={() => { onClose(); void actions.team(c.id, t.id); }}>
          <span class="menu-label">{t.name}</span>
          {c.teamId === t.id && <small>current</small>}
        </button>
      ))}
      {c.teamId && (
        <button type="button" role="menuitem" data-testid="assign-team-none" onClick={() => { onClose(); void actions.team(c.id, null); }}>
          <span class="menu-label">No team</span>
        </button>
      )}
      <button type="button" role="menuitem" data-testid="action-reroute" onClick={() => { onClose(); void actions.reroute(c.id); }}>
        Route to a team again (routing rules)
      </button>
    </div>
  );
}

function ReturnDialog({ c, onClose }: { c: Conversation; onClose: () => void }) {
  const [summary, setSummary] = useState("");
  const [busy, setBusy] = useState(false);
  const area = useRef<HTMLTextAreaElement>(null);
  useEffect(() => area.current?.focus(), []);
  async function suggest() {
    setBusy(true);
    try {
      const r = await api<{ summary: string }>(`/conversations/${encodeURIComponent(c.id)}/generate-handoff-summary`, { method: "POST" });
      setSummary(r.summary);
    } catch (e) {
      say(errorText(e), "error"); // keep what was typed
    }
    setBusy(false);
  }
  return (
    <div class="popover" role="dialog" aria-label="Return to the bot" onKeyDown={(e) => e.key === "Escape" && (e.stopPropagation(), onClose())}>
      <label>
        What should the bot know? (optional)
        <textarea ref={area} rows={3} value={summary} onInput={(e) => setSummary((e.target as HTMLTextAreaElement).value)} maxLength={4000} />
      </label>
      <div class="row-buttons">
        <button type="button" onClick={() => void suggest()} disabled={busy}>{busy ? "Writing…" : "Suggest a summary"}</button>
        <span class="spacer" />
        <button type="button" onClick={onClose}>Cancel</button>
        <button type="button" class="primary" data-testid="confirm-return-to-bot"
          disabled={busy}
          onClick={async () => {
            setBusy(true);
            const ok = await actions.returnToBot(c.id, summary.trim() || undefined);
            setBusy(false);
            // On failure the toast says why; keep the dialog and what was typed.
            if (ok) onClose();
          }}>
          Return to bot
        </button>
      </div>
    </div>
  );
}

export const threadUi = { openAssign: () => {}, openReturn: () => {} };

function Header({ c, onBack, onInfo }: { c: Conversation; onBack: () => void; onInfo: () => void }) {
  const [menu, setMenu] = useState<"assign" | "return" | null>(null);
  const assignBtn = useRef<HTMLButtonElement>(null);
  const returnBtn = useRef<HTMLButtonElement>(null);
  threadUi.openAssign = () => setMenu("assign");
  threadUi.openReturn = () => setMenu("return");
  /** Closes the open menu and gives focus back to the button that opened it. */
  function close() {
    const opener = menu === "assign" ? assignBtn.current : returnBtn.current;
    setMenu(null);
    setTimeout(() => opener?.isConnected && opener.focus(), 0);
  }
  useEffect(() => {
    if (!menu) return;
    const away = (e: MouseEvent) => {
      const t = e.target as Element | null;
      if (t && !t.closest(".menu-anchor")) setMenu(null);
    };
    document.addEventListener("mousedown", away);
    return () => document.removeEventListener("mousedown", away);
  }, [menu]);
  const mine = c.assignedTo === myId.value;
  const closed = c.status === "CLOSED";
  const assignee = c.assignedTo ? (mine ? "you" : userById.value.get(c.assignedTo)?.name ?? "an agent") : null;
  return (
    <header class="thread-head">
      <button type="button" class="icon-btn back" aria-label="Back to the list" onClick={onBack}><IconBack /></button>
      <div class="who">
        <h2>{contactName(c)}</h2>
        <div class="sub">
          <span class={"status s-" + c.status}>{STATUS_LABEL[c.status] ?? c.status}</span>
          <span>{contactPhone(c)}</span>
          {assignee && <span>· with {assignee}</span>}
          {c.teamId && <span data-testid="thread-team">· {teams.value.find((t) => t.id === c.teamId)?.name ?? "a team"}</span>}
        </div>
      </div>
      <div class="actions" role="toolbar" aria-label="Conversation actions">
        {!closed && (c.status === "BOT_HANDLING" || !mine) && (
          <button type="button" class="primary" data-testid="action-takeover" onClick={() => void actions.takeover(c.id)}>Take over</button>
        )}
        {!closed && (
          <span class="menu-anchor">
            <button type="button" data-testid="action-assign" aria-haspopup="menu" aria-expanded={menu === "assign"} ref={assignBtn}
              onClick={() => (menu === "assign" ? close() : setMenu("assign"))}>Assign</button>
            {menu === "assign" && <AssignMenu c={c} onClose={close} />}
          </span>
        )}
        {!closed && c.assignedTo && (mine || isAdmin.value) && (
          <button type="button" data-testid="action-unassign" onClick={() => void actions.unassign(c.id)}>Unassign</button>
        )}
        {!closed && c.status !== "BOT_HANDLING" && (
          <span class="menu-anchor">
            <span class="split">
              <button type="button" data-testid="action-return-to-bot" onClick={() => void actions.returnToBot(c.id)}>
                <IconBot size={14} /> To bot
              </button>
              <button type="button" class="split-more" aria-label="Return to the bot with a summary" title="Return to the bot with a summary"
                aria-haspopup="dialog" aria-expanded={menu === "return"} ref={returnBtn}
                onClick={() => (menu === "return" ? close() : setMenu("return"))}>…</button>
            </span>
            {menu === "return" && <ReturnDialog c={c} onClose={close} />}
          </span>
        )}
        <button type="button" data-testid="action-follow-up" aria-pressed={!!c.followUpAt}
          class={c.followUpAt ? "on" : ""} title={c.followUpNote ?? "Mark for follow-up"}
          onClick={() => void actions.followUp(c.id, !c.followUpAt)}>
          <IconFlag size={14} /> <span class="sr-only">Follow-up</span>
        </button>
        {!closed && <button type="button" data-testid="action-resolve" onClick={() => void actions.resolve(c.id)}>Resolve</button>}
        {closed && <button type="button" class="primary" data-testid="action-reopen" onClick={() => void actions.reopen(c.id)}>Reopen</button>}
        <button type="button" class="icon-btn info" aria-label="Contact details" onClick={onInfo}><IconInfo /></button>
      </div>
    </header>
  );
}

/** "… is typing" while a live-chat visitor types; it goes away by itself if the stop is lost. */
function VisitorTyping({ id, name }: { id: string; name: string }) {
  const typing = isVisitorTyping(visitorTyping.value, id);
  const [, tick] = useState(0);
  useEffect(() => {
    if (!typing) return;
    const t = setTimeout(() => tick((n) => n + 1), (visitorTyping.value.get(id) ?? 0) - Date.now() + 50);
    return () => clearTimeout(t);
  }, [typing, visitorTyping.value]);
  if (!typing) return null;
  return <div class="thread-status" role="status" data-testid="visitor-typing">{name} is typing…</div>;
}

export function Thread({ id, onInfo }: { id: string; onInfo: () => void }) {
  void convRev.value;
  const t = thread.value;
  const c = getConv(id);
  const scroller = useRef<HTMLDivElement>(null);
  const anchor = useRef<{ id: string; offset: number } | null>(null);
  const stick = useRef(true);
  const lastJump = useRef(-1);
  /** Whether the window on screen held the latest messages (only then does the view stick to the end). */
  const shownLatest = useRef(true);

  // Before the DOM changes: remember what the reader looks at, and whether they were at the end.
  const el = scroller.current;
  if (el) {
    stick.current = shownLatest.current && el.scrollHeight - el.scrollTop - el.clientHeight < 80;
    anchor.current = null;
    const nodes = el.querySelectorAll<HTMLElement>("[data-testid=message]");
    for (const n of nodes) {
      if (n.offsetTop + n.offsetHeight > el.scrollTop) {
        anchor.current = { id: n.dataset.id!, offset: n.offsetTop - el.scrollTop };
        break;
      }
    }
  }

  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el || !t) return;
    const latest = atLatest(t.chunks);
    shownLatest.current = latest;
    if (t.jump !== lastJump.current) {
      lastJump.current = t.jump;
      el.scrollTop = el.scrollHeight;
      return;
    }
    if (stick.current && latest) {
      el.scrollTop = el.scrollHeight;
      return;
    }
    const a = anchor.current;
    if (a) {
      const n = el.querySelector<HTMLElement>(`[data-id="${CSS.escape(a.id)}"]`);
      if (n) el.scrollTop = n.offsetTop - a.offset;
    }
  });

  // Images and players change height as they load: stay at the end if the reader was there.
  const atEnd = useRef(true);
  useEffect(() => {
    const el = scroller.current;
    const list = el?.querySelector(".messages");
    if (!el || !list) return;
    const ro = new ResizeObserver(() => {
      if (atEnd.current && shownLatest.current) el.scrollTop = el.scrollHeight;
    });
    ro.observe(list);
    ro.observe(el); // the composer grows (banner, attachment): the viewport shrinks
    return () => ro.disconnect();
  }, [!!c, !!t]);

  useEffect(() => {
    // A short first page may not fill the pane: keep fetching until it scrolls.
    const el = scroller.current;
    const cur = thread.value;
    if (el && cur && !cur.loading && cur.chunks[0]?.older && el.scrollHeight <= el.clientHeight + 10) void loadOlder();
  });

  if (!t || t.id !== id) return <section class="pane thread-pane" aria-label="Conversation" />;
  if (!c) {
    return (
      <section class="pane thread-pane" aria-label="Conversation">
        <div class="empty-state" role={t.error ? "alert" : "status"}>{t.error ?? "Loading…"}</div>
      </section>
    );
  }
  const messages = t.chunks.flatMap((ch) => ch.messages).filter((m) => !m.hidden);
  const hasOlder = !!t.chunks[0]?.older;
  const hasNewer = !atLatest(t.chunks);

  function onScroll() {
    const el = scroller.current;
    if (!el) return;
    atEnd.current = el.scrollHeight - el.scrollTop - el.clientHeight < 80;
    if (el.scrollTop < 300 && hasOlder) void loadOlder();
    if (hasNewer && el.scrollHeight - el.scrollTop - el.clientHeight < 300) void loadNewer();
  }

  return (
    <section class="pane thread-pane" aria-label={`Conversation with ${contactName(c)}`} data-testid="thread" data-conversation-id={id}>
      <Header c={c} onBack={() => navigate("/")} onInfo={onInfo} />
      <div class="thread-scroll" ref={scroller} onScroll={onScroll} data-testid="thread-scroll" tabIndex={0} aria-label="Messages">
        {t.loading === "older" && <div class="thread-status" role="status">Loading older messages…</div>}
        {!hasOlder && t.loading !== "initial" && <div class="thread-status">Start of the conversation</div>}
        {t.loading === "initial" && <div class="thread-status" role="status">Loading messages…</div>}
        {t.error && <div class="thread-status error" role="alert">{t.error}</div>}
        <ol class="messages">
          {messages.map((m) => <MessageItem key={m.id} m={m} myId={myId.value} />)}
        </ol>
        {t.loading === "newer" && <div class="thread-status" role="status">Loading newer messages…</div>}
        <VisitorTyping id={id} name={contactName(c)} />
        {c.handoffSummary && (
          <aside class="handoff" aria-label="Hand-off summary">
            <strong>Hand-off summary</strong>
            <p>{c.handoffSummary}</p>
          </aside>
        )}
      </div>
      {hasNewer && (
        <button type="button" class="jump-latest" onClick={jumpToLatest}>Jump to the latest messages</button>
      )}
      <Composer c={c} />
    </section>
  );
}
