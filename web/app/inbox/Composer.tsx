// The reply box: Enter sends, Shift+Enter breaks the line, drafts kept per conversation, media
// checked against WhatsApp's rules before uploading, blocked when the 24-hour window closed; then
// (or on demand) the template picker, loaded when first opened.
import { useEffect, useRef, useState } from "preact/hooks";
import { lazy, Suspense } from "preact/compat";
import type { Conversation } from "./model";
import { windowOpen, countdown, checkMedia } from "./model";
import { sendText, sendMedia, actions, myId, userById, say } from "./store";
import { IconClip, IconSend, IconTemplate, IconX } from "./icons";
import { sendFrame } from "../live/socket";

const TemplatePicker = lazy(() => import("../templates/Picker").then((m) => ({ default: m.TemplatePicker })));

const draftKey = (id: string) => `cx.draft.${id}`;

function useNow(ms: number) {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(t);
  }, [ms]);
  return now;
}

export function Composer({ c }: { c: Conversation }) {
  const [text, setText] = useState(() => localStorage.getItem(draftKey(c.id)) ?? "");
  const [file, setFile] = useState<File | null>(null);
  const [fileError, setFileError] = useState<string | null>(null);
  const [typed, setTyped] = useState(false);
  const [picking, setPicking] = useState(false);
  const area = useRef<HTMLTextAreaElement>(null);
  const fileInput = useRef<HTMLInputElement>(null);
  const sending = useRef(false);
  const now = useNow(1000);

  useEffect(() => {
    setText(localStorage.getItem(draftKey(c.id)) ?? "");
    setFile(null);
    setFileError(null);
    setTyped(false);
    setPicking(false);
  }, [c.id]);

  const open = windowOpen(c, now);
  const closed = c.status === "CLOSED";
  const other = !!c.assignedTo && c.assignedTo !== myId.value;
  const left = countdown(c, now);

  // A live-chat visitor sees the agent typing: "typing" once per burst, "stopped" after a pause
  // or on send. WhatsApp has no such signal.
  const typingTimer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const typingSent = useRef(false);
  function typing(on: boolean) {
    if (c.channel !== "livechat") return;
    clearTimeout(typingTimer.current);
    if (on) typingTimer.current = setTimeout(() => typing(false), 3000);
    if (typingSent.current === on) return;
    typingSent.current = on;
    sendFrame({ type: "typing", conversationId: c.id, typing: on });
  }
  useEffect(() => () => typing(false), [c.id]);

  function update(v: string) {
    setText(v);
    setTyped(true);
    typing(!!v);
    if (v) localStorage.setItem(draftKey(c.id), v);
    else localStorage.removeItem(draftKey(c.id));
  }

  function pick(f: File | null) {
    setFileError(null);
    setFile(null);
    if (!f) return;
    const { error } = checkMedia(f.type, f.size);
    if (error) {
      setFileError(error);
      if (fileInput.current) fileInput.current.value = "";
      return;
    }
    setFile(f);
  }

  function submit() {
    if (sending.current) return; // a double Enter / click sends once
    if (!open || closed) return;
    if (other) {
      setTyped(true);
      return;
    }
    const body = text.trim();
    if (file) {
      const { kind } = checkMedia(file.type, file.size);
      sending.current = true;
      void sendMedia(c.id, file, kind, body);
      setFile(null);
      if (fileInput.current) fileInput.current.value = "";
    } else if (body) {
      if (body.length > 4096) {
        say("A WhatsApp message holds at most 4,096 characters.", "error");
        return;
      }
      sending.current = true;
      typing(false);
      void sendText(c.id, body);
    } else return;
    update("");
    setTyped(false);
    setTimeout(() => (sending.current = false), 0);
    area.current?.focus();
  }

  const picker = picking && (
    <Suspense fallback={<div class="tpl-picker muted" role="status">Loading templates…</div>}>
      <TemplatePicker c={c} onClose={() => {
        setPicking(false);
        setTimeout(() => area.current?.focus(), 0);
      }} />
    </Suspense>
  );

  if (!open) {
    return (
      <>
        {picker}
        <div class="composer-closed" data-testid="composer-closed" role="status">
          <span>
            The 24-hour window closed{c.windowClosesAt ? ` ${new Date(c.windowClosesAt).toLocaleString()}` : " (the customer has not written yet)"}: WhatsApp only allows a template now.
          </span>
          {!picking && (
            <button type="button" class="primary" data-testid="composer-send-template" onClick={() => setPicking(true)}>
              <IconTemplate size={14} /> Send a template
            </button>
          )}
        </div>
      </>
    );
  }
  if (closed) {
    return <div class="composer-note" data-testid="composer-conversation-closed">This conversation is resolved. Reopen it to reply.</div>;
  }
  const owner = other ? userById.value.get(c.assignedTo!)?.name ?? "another agent" : "";
  return (
    <>
      {picker}
      <form class="composer" onSubmit={(e) => { e.preventDefault(); submit(); }}>
        {other && (typed || text) && (
          <div class="takeover-banner" data-testid="takeover-banner" role="alert">
            <span>{owner} is handling this conversation. Take it over before you reply.</span>
            <button type="button" class="primary" onClick={() => void actions.takeover(c.id)}>Take over</button>
          </div>
        )}
        {left && <div class="countdown" role="timer" data-testid="window-countdown">The 24-hour window closes in {left}</div>}
        {fileError && <div class="error" role="alert" data-testid="file-error">{fileError}</div>}
        {file && (
          <div class="attachment">
            <span>{file.name} ({(file.size / 1024).toFixed(0)} KB)</span>
            <button type="button" class="icon-btn" aria-label="Remove attachment" onClick={() => pick(null)}><IconX size={14} /></button>
          </div>
        )}
        <div class="composer-row">
          <label class="icon-btn attach" title="Attach a file">
            <IconClip />
            <span class="sr-only">Attach a file</span>
            <input ref={fileInput} type="file" class="sr-only" data-testid="composer-file"
              onChange={(e) => pick((e.target as HTMLInputElement).files?.[0] ?? null)} />
          </label>
          <button type="button" class="icon-btn attach" title="Send a template" aria-label="Send a template" aria-expanded={picking}
            data-testid="composer-template" onClick={() => setPicking(!picking)}>
            <IconTemplate />
          </button>
          <textarea
            ref={area}
            data-testid="composer-input"
            aria-label="Reply"
            placeholder={file ? "Caption (optional)" : "Reply… (Enter sends, Shift+Enter new line)"}
            rows={2}
            value={text}
            onInput={(e) => update((e.target as HTMLTextAreaElement).value)}
            onKeyDown={(e) => {
              if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
                e.preventDefault();
                submit();
              }
            }}
          />
          <button type="submit" class="primary send" aria-label="Send" data-testid="composer-send" disabled={other || (!text.trim() && !file)}>
            <IconSend />
          </button>
        </div>
      </form>
    </>
  );
}
