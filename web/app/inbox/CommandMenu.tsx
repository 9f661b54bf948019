// Ctrl/Cmd+K: the actions on the open conversation, filtered as you type.
import { useEffect, useRef, useState } from "preact/hooks";
import { isAdmin } from "../auth";
import { actions, getConv, users, myId } from "./store";
import { threadUi } from "./Thread";

interface Command { label: string; run: () => void; testid?: string }

/** Gives focus back to what had it before a dialog opened, unless something else took it since. */
function useReturnFocus() {
  // Read while rendering the first time: before this dialog's own effects move the focus.
  const before = useRef(typeof document !== "undefined" ? (document.activeElement as HTMLElement | null) : null).current;
  useEffect(() => {
    return () => {
      setTimeout(() => {
        const now = document.activeElement;
        if ((!now || now === document.body) && before?.isConnected) before.focus();
      }, 0);
    };
  }, []);
}

export function CommandMenu({ id, onClose }: { id: string | null; onClose: () => void }) {
  const [q, setQ] = useState("");
  const [sel, setSel] = useState(0);
  const input = useRef<HTMLInputElement>(null);
  useReturnFocus();
  useEffect(() => input.current?.focus(), []);
  const c = getConv(id);
  const cmds: Command[] = [];
  if (c && id) {
    const closed = c.status === "CLOSED";
    if (!closed) {
      cmds.push({ label: "Take over from the bot / assign to me", run: () => void actions.takeover(id), testid: "cmd-takeover" });
      cmds.push({ label: "Assign to me", run: () => void actions.assign(id, myId.value!), testid: "cmd-assign-me" });
      if (isAdmin.value) {
        for (const u of users.value) if (u.id !== myId.value && !u.deletedAt) {
          cmds.push({ label: `Assign to ${u.name} (${(u.status || "offline").toLowerCase()})`, run: () => void actions.assign(id, u.id) });
        }
      }
      cmds.push({ label: "Assign… (open the menu)", run: () => threadUi.openAssign() });
      cmds.push({ label: "Resolve", run: () => void actions.resolve(id), testid: "cmd-resolve" });
      if (c.status !== "BOT_HANDLING") {
        cmds.push({ label: "Return to bot", run: () => void actions.returnToBot(id), testid: "cmd-return-to-bot" });
        cmds.push({ label: "Return to bot with a summary…", run: () => threadUi.openReturn() });
      }
      if (c.assignedTo) cmds.push({ label: "Unassign", run: () => void actions.unassign(id) });
    } else {
      cmds.push({ label: "Reopen", run: () => void actions.reopen(id), testid: "cmd-reopen" });
    }
    cmds.push({ label: c.followUpAt ? "Clear follow-up" : "Mark for follow-up", run: () => void actions.followUp(id, !c.followUpAt) });
  }
  const words = q.toLowerCase().split(/\s+/).filter(Boolean);
  const shown = cmds.filter((x) => words.every((w) => x.label.toLowerCase().includes(w)));
  const at = Math.min(sel, Math.max(0, shown.length - 1));
  function run(x?: Command) {
    if (!x) return;
    onClose();
    x.run();
  }
  return (
    <div class="overlay" onClick={(e) => e.target === e.currentTarget && onClose()}>
      <div class="command" role="dialog" aria-modal="true" aria-label="Command menu" data-testid="command-menu">
        <input
          ref={input}
          value={q}
          placeholder={id ? "Type a command…" : "Open a conversation first"}
          aria-label="Command"
          aria-controls="cx-commands"
          aria-activedescendant={shown.length ? `cx-cmd-${at}` : undefined}
          onInput={(e) => { setQ((e.target as HTMLInputElement).value); setSel(0); }}
          onKeyDown={(e) => {
            if (e.key === "ArrowDown") { e.preventDefault(); setSel((at + 1) % Math.max(1, shown.length)); }
            else if (e.key === "ArrowUp") { e.preventDefault(); setSel((at - 1 + shown.length) % Math.max(1, shown.length)); }
            else if (e.key === "Enter") { e.preventDefault(); run(shown[at]); }
            else if (e.key === "Escape") { e.preventDefault(); e.stopPropagation(); onClose(); }
            else if (e.key === "Tab") e.preventDefault(); // a modal: the list is driven by the arrows
          }}
        />
        <ul id="cx-commands" role="listbox">
          {shown.map((x, i) => (
            <li id={`cx-cmd-${i}`} role="option" aria-selected={i === at} class={i === at ? "sel" : ""} data-testid={x.testid}
              onMouseEnter={() => setSel(i)} onClick={() => run(x)}>{x.label}</li>
          ))}
          {shown.length === 0 && <li class="muted">No matching command.</li>}
        </ul>
      </div>
    </div>
  );
}

export function Shortcuts({ onClose }: { onClose: () => void }) {
  const ref = useRef<HTMLButtonElement>(null);
  useReturnFocus();
  useEffect(() => ref.current?.focus(), []);
  const rows: [string, string][] = [
    ["Alt + J", "Next conversation"],
    ["Alt + K", "Previous conversation"],
    ["Ctrl/⌘ + K", "Command menu (assign, resolve, take over, return to bot)"],
    ["Enter", "Send the reply"],
    ["Shift + Enter", "New line in the reply"],
    ["Esc", "Close menus, panels, the image viewer"],
    ["?", "This list"],
  ];
  return (
    <div class="overlay" onClick={(e) => e.target === e.currentTarget && onClose()}>
      <div class="dialog" role="dialog" aria-modal="true" aria-label="Keyboard shortcuts" data-testid="shortcuts"
        onKeyDown={(e) => { if (e.key === "Tab") { e.preventDefault(); ref.current?.focus(); } }}>
        <h2>Keyboard shortcuts</h2>
        <table>
          <tbody>{rows.map(([k, v]) => <tr><th><kbd>{k}</kbd></th><td>{v}</td></tr>)}</tbody>
        </table>
        <button type="button" ref={ref} onClick={onClose}>Close</button>
      </div>
    </div>
  );
}
