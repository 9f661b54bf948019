// The chat window: header with the welcome title or the agent who answers, the greeting, the
// messages with their ticks, typing, the send box with file upload, and the offline form outside
// working hours. All logic is in the controller; this renders its view.
import { signal } from "@preact/signals";
import { useEffect, useRef, useState } from "preact/hooks";
import type { Controller, View } from "./controller";
import { mediaUrl } from "./core";
import { currentAgent, type WidgetMessage } from "./store";

/** Whether the loader shows the window (always, when the app is opened on its own). */
export const openState = signal(false);

/** A conversation status the agents closed (the product says `CLOSED`; other words are tolerated). */
const closed = (status: string | null) => !!status && ["CLOSED", "RESOLVED"].includes(status.toUpperCase());

function useView(c: Controller): View {
  const [view, setView] = useState(c.view);
  useEffect(() => c.subscribe(() => setView(c.view)), [c]);
  return view;
}

const ticks: Record<WidgetMessage["status"], string> = { pending: "🕓", sent: "✓", delivered: "✓✓", read: "✓✓", failed: "!" };

function Avatar({ name, url }: { name: string; url: string | null }) {
  if (url) return <img class="avatar" src={url} alt="" data-testid="widget-agent-avatar" />;
  return (
    <span class="avatar" aria-hidden="true" data-testid="widget-agent-avatar">
      {(name.trim()[0] ?? "?").toUpperCase()}
    </span>
  );
}

/** A satisfaction survey: one button per rating; the choice is sent once and thanked for. */
function Survey({ m, onRate }: { m: WidgetMessage; onRate: (id: string, rating: number) => Promise<void> }) {
  const [chosen, setChosen] = useState<number | null>(null);
  const [error, setError] = useState<string | null>(null);
  const options = m.survey?.options ?? [];
  async function pick(rating: number) {
    setError(null);
    try {
      await onRate(m.id, rating);
      setChosen(rating);
    } catch {
      setError("Your rating could not be sent. Try again.");
    }
  }
  if (chosen !== null) return <span class="text" data-testid="widget-csat-thanks">Thank you for your rating!</span>;
  return (
    <div class="survey" role="group" aria-label={m.text ?? "Rate this conversation"} data-testid="widget-csat">
      {options.map((o) => (
        <button type="button" key={o.rating} title={o.label} data-testid={`widget-csat-${o.rating}`} onClick={() => void pick(o.rating)}>
          {o.label}
        </button>
      ))}
      {error && <span class="error" role="alert">{error}</span>}
    </div>
  );
}

function Message({ m, token, onRetry, onRate }: { m: WidgetMessage; token: string | null; onRetry: (m: WidgetMessage) => void; onRate: (id: string, rating: number) => Promise<void> }) {
  const mine = m.direction === "inbound";
  const a = m.attachment ? { ...m.attachment, url: mediaUrl(m.attachment.url, token) } : null;
  return (
    <li class={`msg ${mine ? "mine" : "theirs"} ${m.status}`} data-testid="widget-message" data-id={m.id} data-direction={m.direction} data-status={m.status}>
      {!mine && m.sender && <span class="sender" data-testid="widget-message-sender">{m.sender.name}</span>}
      {a && a.url && m.type === "image" && <img class="media" src={a.url} alt={a.name} />}
      {a && (m.type !== "image" || !a.url) && (
        <a class="file" href={a.url || undefined} target="_blank" rel="noopener" data-testid="widget-message-file">
          📎 {a.name}
        </a>
      )}
      {m.text && <span class="text" data-testid="widget-message-text">{m.text}</span>}
      {m.type === "csat" && m.survey && <Survey m={m} onRate={onRate} />}
      {mine && (
        <button type="button" class="status" disabled={m.status !== "failed"} onClick={() => onRetry(m)} title={m.status === "failed" ? "Not sent: retry" : m.status} data-testid="widget-message-status">
          {ticks[m.status]}
        </button>
      )}
    </li>
  );
}

function Offline({ c }: { c: Controller }) {
  const [email, setEmail] = useState("");
  const [text, setText] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  return (
    <form
      class="offline"
      data-testid="widget-offline-form"
      onSubmit={async (e) => {
        e.preventDefault();
        if (!/^\S+@\S+\.\S+$/.test(email.trim())) return setError("Enter your email address.");
        if (!text.trim()) return setError("Write your message.");
        setBusy(true);
        setError(await c.offline(email, text));
        setBusy(false);
      }}
    >
      <p>We are away right now. Leave your email and message and we will get back to you.</p>
      <input type="email" placeholder="Your email" value={email} onInput={(e) => setEmail(e.currentTarget.value)} data-testid="widget-offline-email" required />
      <textarea placeholder="Your message" rows={4} value={text} onInput={(e) => setText(e.currentTarget.value)} data-testid="widget-offline-text" required />
      {error && <p class="error">{error}</p>}
      <button class="primary" disabled={busy} data-testid="widget-offline-send">
        Send
      </button>
    </form>
  );
}

function Composer({ c }: { c: Controller }) {
  const [text, setText] = useState("");
  const file = useRef<HTMLInputElement>(null);
  const submit = () => {
    const t = text;
    setText("");
    void c.send(t);
  };
  return (
    <form
      class="composer"
      onSubmit={(e) => {
        e.preventDefault();
        submit();
      }}
    >
      <button type="button" class="attach" aria-label="Attach a file" onClick={() => file.current?.click()} data-testid="widget-attach">
        📎
      </button>
      <input
        ref={file}
        type="file"
        hidden
        data-testid="widget-file"
        onChange={(e) => {
          const f = e.currentTarget.files?.[0];
          if (f) void c.upload(f);
          e.currentTarget.value = "";
        }}
      />
      <textarea
        rows={1}
        maxLength={4096}
        placeholder="Write a message…"
        aria-label="Message"
        value={text}
        data-testid="widget-input"
        onInput={(e) => {
          setText(e.currentTarget.value);
          c.typing();
        }}
        onKeyDown={(e) => {
          if (e.key === "Enter" && !e.shiftKey) {
            e.preventDefault();
            submit();
          }
        }}
      />
      <button class="send" aria-label="Send" disabled={!text.trim()} data-testid="widget-send">
        ➤
      </button>
    </form>
  );
}

export function App({ controller: c, embedded, onClose }: { controller: Controller; embedded: boolean; onClose: () => void }) {
  const view = useView(c);
  const list = useRef<HTMLUListElement>(null);
  const { config, chat } = view;
  const count = chat.messages.length;
  useEffect(() => {
    const el = list.current;
    if (el) el.scrollTop = el.scrollHeight;
  }, [count, chat.agentTyping]);
  const agent = currentAgent(chat);
  const name = agent?.name ?? config?.name ?? "Chat";
  const color = config?.widgetColor ?? "#256bd1";
  const offline = !!config && !config.openNow && count === 0;
  return (
    <div class="window" style={{ "--accent": color }} data-testid="widget" data-phase={view.phase} data-connected={String(view.connected)} data-open={String(openState.value)}>
      <header data-testid="widget-header">
        <Avatar name={name} url={agent?.avatarUrl ?? config?.avatarUrl ?? null} />
        <div class="who">
          <strong data-testid={agent ? "widget-agent-name" : "widget-title"}>{agent ? agent.name : config?.welcomeTitle || name}</strong>
          <small>{agent ? config?.name : config?.welcomeTagline || (config?.openNow === false ? "We are away" : "We typically reply in a few minutes")}</small>
        </div>
        {embedded && (
          <button type="button" class="close" aria-label="Close chat" onClick={onClose} data-testid="widget-close">
            ✕
          </button>
        )}
      </header>
      <ul class="messages" ref={list} data-testid="widget-messages" aria-live="polite">
        {chat.hasMore && (
          <li class="more">
            <button type="button" class="link" onClick={() => c.loadEarlier()} data-testid="widget-load-earlier">
              Earlier messages
            </button>
          </li>
        )}
        {config?.greetingEnabled && config.greetingMessage && (
          <li class="msg theirs" data-testid="widget-greeting">
            <span class="text">{config.greetingMessage}</span>
          </li>
        )}
        {chat.messages.map((m) => (
          <Message key={m.clientId ?? m.id} m={m} token={c.visitorToken} onRetry={(x) => c.retry(x)} onRate={(id, r) => c.rate(id, r)} />
        ))}
        {chat.agentTyping && (
          <li class="typing" data-testid="widget-typing">
            {chat.agentTyping.name || "Agent"} is typing…
          </li>
        )}
        {closed(chat.conversationStatus) && (
          <li class="system" data-testid="widget-resolved">
            This conversation was resolved. Write to open it again.
          </li>
        )}
      </ul>
      {view.error && (
        <p class="error" role="alert" data-testid="widget-error">
          {view.error}
        </p>
      )}
      {view.phase === "loading" && <p class="notice">Loading…</p>}
      {view.phase === "unavailable" && <p class="notice" data-testid="widget-unavailable">This chat is not available.</p>}
      {view.phase === "identity-required" && (
        <p class="notice" data-testid="widget-identity-required">
          Please sign in on this site to chat with us.
        </p>
      )}
      {view.phase === "identity-refused" && (
        <p class="notice" data-testid="widget-identity-refused">
          We could not verify who you are. Please sign in again on this site.
        </p>
      )}
      {view.offlineSent && (
        <p class="notice" data-testid="widget-offline-done">
          Thanks! We will answer by email as soon as we are back.
        </p>
      )}
      {view.phase === "ready" && (offline && !view.offlineSent ? <Offline c={c} /> : <Composer c={c} />)}
    </div>
  );
}
