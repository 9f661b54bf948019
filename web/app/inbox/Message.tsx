// One message of a thread: text, media (fetched with the bearer header into a blob URL),
// location, contacts, templates, reactions, system entries, and the delivery ticks.
import { useEffect, useState } from "preact/hooks";
import { raw, api } from "../api";
import { isAdmin } from "../auth";
import type { Message } from "./model";
import { IconClock, IconCheck, IconDouble, IconAlert, IconDoc, IconPin, IconSmile } from "./icons";
import { userById, say, errorText, replaceMessage, retryLocal } from "./store";

const blobCache = new Map<string, Promise<string>>();
function mediaBlob(id: string): Promise<string> {
  let p = blobCache.get(id);
  if (!p) {
    p = raw(`/messages/${encodeURIComponent(id)}/media`).then(async (r) => URL.createObjectURL(await r.blob()));
    p.catch(() => blobCache.delete(id));
    blobCache.set(id, p);
    // Keep the newest 200 files in memory.
    if (blobCache.size > 200) {
      const [oldest, url] = blobCache.entries().next().value!;
      blobCache.delete(oldest);
      url.then((u) => URL.revokeObjectURL(u), () => {});
    }
  }
  return p;
}

function useMedia(m: Message): { url: string | null; error: string | null } {
  const [url, setUrl] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const ready = !!m.mediaUrl && m.mediaStatus === "downloaded";
  useEffect(() => {
    if (!ready) return;
    let live = true;
    mediaBlob(m.id).then((u) => live && setUrl(u), (e) => live && setError(errorText(e)));
    return () => { live = false; };
  }, [m.id, ready]);
  return { url, error };
}

export const lightbox = { open: (_url: string, _alt: string) => {} };

function size(n?: number | null) {
  if (!n) return "";
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(0)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

function Media({ m }: { m: Message }) {
  const { url, error } = useMedia(m);
  const c = m.content ?? {};
  const caption = m.text ?? c.caption ?? c[m.type]?.caption;
  const filename = c.filename ?? c.document?.filename ?? c[m.type]?.filename;
  if (m.mediaStatus === "failed") return <div class="media-missing">The file could not be fetched{m.mediaError ? `: ${m.mediaError}` : ""}.</div>;
  if (!m.mediaUrl) {
    if (m.pendingKey) return <div class="media-missing">{filename ?? "File"} {size(m.mediaSize)} — uploading…</div>;
    return <div class="media-missing">{m.type} {m.mediaStatus === "pending" ? "— downloading…" : ""}</div>;
  }
  if (error) return <div class="media-missing">{error}</div>;
  let body;
  if (!url) body = <div class="media-loading" aria-busy="true">Loading {m.type}…</div>;
  else if (m.type === "image" || m.type === "sticker")
    body = (
      <button type="button" class="media-thumb" onClick={() => lightbox.open(url, caption ?? "Image")} aria-label="Open image">
        <img src={url} alt={caption ?? "Image from the conversation"} loading="lazy" />
      </button>
    );
  else if (m.type === "audio" || m.type === "voice") body = <audio controls src={url} preload="metadata" aria-label="Audio message" />;
  else if (m.type === "video") body = <video controls src={url} preload="metadata" class="media-video" aria-label="Video message" />;
  else
    body = (
      <a class="doc" href={url} download={filename ?? "document"}>
        <IconDoc /> <span>{filename ?? "Document"}</span> <small>{size(m.mediaSize)}</small>
      </a>
    );
  return (
    <>
      {body}
      {caption && <div class="text" data-testid="message-text">{caption}</div>}
    </>
  );
}

function Location({ c }: { c: any }) {
  const l = c?.location ?? c ?? {};
  const lat = l.latitude, lng = l.longitude;
  return (
    <div class="location">
      <IconPin /> <span>{l.name ?? "Location"}{l.address ? `, ${l.address}` : ""}</span>
      {lat != null && lng != null && (
        <a href={`https://www.openstreetmap.org/?mlat=${lat}&mlon=${lng}#map=16/${lat}/${lng}`} target="_blank" rel="noopener noreferrer">
          {Number(lat).toFixed(5)}, {Number(lng).toFixed(5)}
        </a>
      )}
    </div>
  );
}

function Contacts({ c }: { c: any }) {
  const list: any[] = c?.contacts ?? (Array.isArray(c) ? c : []);
  return (
    <ul class="contacts-card">
      {list.map((x) => (
        <li>
          <strong>{x.name?.formatted_name ?? x.name?.first_name ?? "Contact"}</strong>
          {(x.phones ?? []).map((p: any) => <div>{p.phone ?? p.wa_id}</div>)}
        </li>
      ))}
    </ul>
  );
}

function Ticks({ m }: { m: Message }) {
  switch (m.status) {
    case "pending": return <span class="ticks" title="Sending"><IconClock size={14} title="Pending" /></span>;
    case "sent": return <span class="ticks" title="Sent"><IconCheck size={14} title="Sent" /></span>;
    case "delivered": return <span class="ticks" title="Delivered"><IconDouble size={14} title="Delivered" /></span>;
    case "read": return <span class="ticks read" title="Read"><IconDouble size={14} title="Read" /></span>;
    case "failed": return <span class="ticks failed" title="Failed"><IconAlert size={14} title="Failed" /></span>;
    default: return null;
  }
}

const QUICK = ["👍", "❤️", "😂", "😮", "🙏", "✅"];

async function react(m: Message, emoji: string) {
  try {
    replaceMessage(await api<Message>(`/messages/${encodeURIComponent(m.id)}/react`, { body: { emoji } }));
  } catch (e) {
    say(errorText(e), "error");
  }
}

async function retrySend(m: Message) {
  try {
    const r = await api<Message>(`/messages/${encodeURIComponent(m.id)}/retry-send`, { method: "POST" });
    if (r && r.id) replaceMessage(r);
    say("Sending again.");
  } catch (e) {
    say(errorText(e), "error");
  }
}

function time(iso: string) {
  return new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

export function MessageItem({ m, myId }: { m: Message; myId: string | null }) {
  const [picking, setPicking] = useState(false);
  const status = m.direction === "outbound" ? m.status : "";
  if (m.direction === "system") {
    return (
      <li class="msg system" data-testid="message" data-id={m.id} data-direction="system" data-status="">
        <span class="system-text" data-testid="message-text">{m.text}</span>
        <time dateTime={m.createdAt}>{time(m.createdAt)}</time>
      </li>
    );
  }
  const c = m.content ?? {};
  let body;
  switch (m.type) {
    case "text":
      body = <div class="text" data-testid="message-text">{m.text}</div>;
      break;
    case "image": case "sticker": case "audio": case "voice": case "video": case "document":
      body = <Media m={m} />;
      break;
    case "location":
      body = <Location c={c} />;
      break;
    case "contacts":
      body = <Contacts c={c} />;
      break;
    case "template":
      body = (
        <div class="template">
          <small class="muted">Template {c.name ?? c.template?.name ?? ""}</small>
          <div class="text" data-testid="message-text">{m.text ?? ""}</div>
        </div>
      );
      break;
    case "reaction":
      body = <div class="text reaction-msg" data-testid="message-text">Reacted {c.emoji ?? c.reaction?.emoji ?? m.text ?? ""}</div>;
      break;
    default:
      body = m.text ? <div class="text" data-testid="message-text">{m.text}</div> : <div class="muted">Unsupported message ({m.type})</div>;
  }
  const sender = m.direction === "outbound"
    ? m.senderId ? (m.senderId === myId ? "You" : userById.value.get(m.senderId)?.name ?? "Agent") : "Bot"
    : null;
  const reactions = m.reactions ?? [];
  const stored = !m.id.startsWith("pending-");
  return (
    <li
      class={`msg ${m.direction}${m.status === "failed" ? " failed" : ""}`}
      data-testid="message"
      data-id={m.id}
      data-direction={m.direction}
      data-status={status}
    >
      <div class="bubble">
        {sender && <div class="sender">{sender}</div>}
        {body}
        <div class="meta">
          <time dateTime={m.createdAt}>{time(m.createdAt)}</time>
          {m.direction === "outbound" && <Ticks m={m} />}
        </div>
        {reactions.length > 0 && (
          <div class="reactions" aria-label="Reactions">
            {reactions.map((r) => <span title={r.by === "customer" ? "Customer" : userById.value.get(r.by)?.name ?? "Agent"}>{r.emoji}</span>)}
          </div>
        )}
      </div>
      {m.status === "failed" && (
        <div class="fail-reason" role="alert">
          {m.localError ?? `Not delivered: ${m.errorMessage ?? "WhatsApp refused it"}${m.errorCode ? ` (code ${m.errorCode})` : ""}`}
          {m.localError && m.pendingKey && m.type === "text" && (
            <button type="button" class="link" onClick={() => void retryLocal(m.conversationId, m)}>Try again</button>
          )}
          {!m.localError && isAdmin.value && (
            <button type="button" class="link" data-testid="retry-send" onClick={() => void retrySend(m)}>Retry</button>
          )}
        </div>
      )}
      {stored && m.direction === "inbound" && (
        <div class="msg-actions">
          <button type="button" class="icon-btn" aria-label="React" aria-expanded={picking} onClick={() => setPicking(!picking)}>
            <IconSmile size={14} />
          </button>
          {picking && (
            <div class="emoji-pick" role="menu" onKeyDown={(e) => e.key === "Escape" && (e.stopPropagation(), setPicking(false))}>
              {QUICK.map((e) => (
                <button type="button" role="menuitem" aria-label={`React ${e}`} onClick={() => { setPicking(false); void react(m, e); }}>{e}</button>
              ))}
              {reactions.some((r) => r.by === myId) && (
                <button type="button" role="menuitem" onClick={() => { setPicking(false); void react(m, ""); }}>Remove</button>
              )}
            </div>
          )}
        </div>
      )}
    </li>
  );
}
