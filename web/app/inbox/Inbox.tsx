// The inbox: list | thread + composer | contact panel (one pane at a time on a phone), the
// keyboard shortcuts, the command menu, the image viewer and the notices.
import { useEffect, useRef, useState } from "preact/hooks";
import { path, navigate, match } from "../router";
import { ConversationList } from "./ConversationList";
import { Thread } from "./Thread";
import { ContactPanel } from "./ContactPanel";
import { CommandMenu, Shortcuts } from "./CommandMenu";
import { lightbox } from "./Message";
import { startInbox, openThread, closeThread, listIds, toast } from "./store";
import { startAttention, notifyPermission, askNotifications } from "./attention";
import { IconX } from "./icons";

const PANEL_KEY = "cx.inbox.panel";
const narrow = () => window.matchMedia("(max-width: 1100px)").matches;

function inField(t: EventTarget | null) {
  const el = t as HTMLElement | null;
  if (!el) return false;
  const tag = el.tagName;
  return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || el.isContentEditable;
}

export function Inbox() {
  const m = match("/conversations/:id", path.value);
  const openId = m?.id ?? null;
  const [panel, setPanel] = useState(() => !narrow() && localStorage.getItem(PANEL_KEY) !== "closed");
  const [command, setCommand] = useState(false);
  const [help, setHelp] = useState(false);
  const [image, setImage] = useState<{ url: string; alt: string } | null>(null);
  const lastFocus = useRef<HTMLElement | null>(null);

  lightbox.open = (url, alt, opener) => {
    lastFocus.current = opener ?? (document.activeElement as HTMLElement);
    setImage({ url, alt });
  };
  function closeImage() {
    setImage(null);
    const back = lastFocus.current;
    lastFocus.current = null;
    // After the overlay is gone (the opener may have re-rendered meanwhile).
    setTimeout(() => back?.isConnected && back.focus(), 0);
  }

  useEffect(() => {
    startInbox();
    startAttention();
  }, []);

  useEffect(() => {
    // Going narrow (phone, small window): the contact panel would cover the thread.
    const mq = window.matchMedia("(max-width: 1100px)");
    const onChange = () => setPanel(!mq.matches && localStorage.getItem(PANEL_KEY) !== "closed");
    mq.addEventListener("change", onChange);
    return () => mq.removeEventListener("change", onChange);
  }, []);

  useEffect(() => {
    if (openId) void openThread(openId);
    else closeThread();
  }, [openId]);

  function togglePanel(v = !panel) {
    setPanel(v);
    if (!narrow()) localStorage.setItem(PANEL_KEY, v ? "open" : "closed");
  }

  useEffect(() => {
    function onKey(e: KeyboardEvent) {
      if ((e.ctrlKey || e.metaKey) && !e.altKey && (e.key === "k" || e.key === "K")) {
        e.preventDefault();
        setHelp(false);
        setCommand((v) => !v);
        return;
      }
      if (e.altKey && !e.ctrlKey && !e.metaKey && (e.code === "KeyJ" || e.code === "KeyK")) {
        e.preventDefault();
        const ids = listIds.value;
        if (!ids.length) return;
        const i = openId ? ids.indexOf(openId) : -1;
        const next = e.code === "KeyJ" ? (i < 0 ? 0 : Math.min(ids.length - 1, i + 1)) : (i < 0 ? 0 : Math.max(0, i - 1));
        if (ids[next] && ids[next] !== openId) navigate(`/conversations/${ids[next]}`);
        return;
      }
      if (e.key === "Escape") {
        if (image) { closeImage(); return; }
        if (command) { setCommand(false); return; }
        if (help) { setHelp(false); return; }
        if (panel && narrow()) { setPanel(false); return; }
        return;
      }
      if (e.key === "?" && !inField(e.target) && !e.ctrlKey && !e.metaKey && !e.altKey) {
        e.preventDefault();
        setHelp(true);
      }
    }
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [openId, image, command, help, panel]);

  const t = toast.value;
  return (
    <main class={"inbox" + (openId ? " has-open" : "") + (panel && openId ? " with-panel" : "")} data-testid="inbox">
      <ConversationList openId={openId} />
      {openId ? (
        <Thread key={openId} id={openId} onInfo={() => togglePanel()} />
      ) : (
        <section class="pane thread-pane empty-pane" aria-label="Conversation">
          <div class="empty-state">
            <p>Select a conversation.</p>
            <p class="muted">Press <kbd>?</kbd> for the keyboard shortcuts.</p>
            {notifyPermission.value === "default" && (
              <button type="button" onClick={() => void askNotifications()} data-testid="enable-notifications">
                Enable desktop notifications
              </button>
            )}
          </div>
        </section>
      )}
      {openId && panel && <ContactPanel id={openId} onClose={() => togglePanel(false)} />}
      {command && <CommandMenu id={openId} onClose={() => setCommand(false)} />}
      {help && <Shortcuts onClose={() => setHelp(false)} />}
      {image && <Lightbox url={image.url} alt={image.alt} onClose={closeImage} />}
      {t && (
        <div class={"toast " + t.kind} role={t.kind === "error" ? "alert" : "status"} data-testid="toast">
          {t.text}
          <button type="button" class="icon-btn" aria-label="Dismiss" onClick={() => (toast.value = null)}><IconX size={14} /></button>
        </div>
      )}
    </main>
  );
}

/** The image viewer: a modal that holds the focus on its close button until it closes. */
function Lightbox({ url, alt, onClose }: { url: string; alt: string; onClose: () => void }) {
  const close = useRef<HTMLButtonElement>(null);
  useEffect(() => close.current?.focus(), []);
  return (
    <div class="overlay lightbox" role="dialog" aria-modal="true" aria-label={alt} onClick={onClose}
      onKeyDown={(e) => { if (e.key === "Tab") { e.preventDefault(); close.current?.focus(); } }}>
      <img src={url} alt={alt} />
      <button type="button" class="icon-btn lightbox-close" aria-label="Close the image" ref={close}
        onClick={(e) => { e.stopPropagation(); onClose(); }}><IconX /></button>
    </div>
  );
}
