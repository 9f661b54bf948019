// One message of a thread: text, media (fetched with the bearer header into a blob URL),
// location, contacts, templates, reactions, system entries, and the delivery ticks.
import { useEffect, useRef, useState } from "preact/hooks";
import { raw, api } from "../api";
import { isAdmin } from "../auth";
import type { Message } from "./model";
import { IconClock, IconCheck, IconDouble, IconAlert, IconDoc, IconPin, IconSmile } from "./icons";
import { userById, say, errorText, replaceMessage, retryLocal, canRetryLocal, thread, ratings, loadRating } from "./store";

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

export const lightbox = { open: (_url: string, _alt: string, _opener?: HTMLElement | null) => {} };

function size(n?: number | null) {
  if (!n) return "";
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(0)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

function Media({ m }: { m: Message }) {
  const { url, error } = useMedia(m);
  const opener = useRef<HTMLButtonElement>(null);
  const c = m.content ?? {};
  const caption = m.text ?? c.caption ?? c[m.type]?.caption;
  const filename = c.filename ?? c.document?.filename ?? c[m.type]?.filename;
  const voice = m.type === "voice" || (m.type === "audio" && c.voice === true);
  const label = voice ? "Voice message" : KIND[m.type] ?? m.type;
  if (m.mediaStatus === "failed") return <div class="media-missing">{label}: the file could not be fetched{m.mediaError ? ` (${m.mediaError})` : ""}.</div>;
  if (!m.mediaUrl) {
    if (m.pendingKey) return <div class="media-missing">{filename ?? label} {size(m.mediaSize)} — uploading…</div>;
    return <div class="media-missing">{label}{m.mediaStatus === "pending" ? " — downloading…" : ""}</div>;
  }
  if (error) return <div class="media-missing">{label}: {error}</div>;
  let body;
  if (!url) body = <div class="media-loading" aria-busy="true">Loading {label.toLowerCase()}…</div>;
  else if (m.type === "sticker")
    body = <img class="sticker" src={url} alt="Sticker" loading="lazy" />;
  else if (m.type === "image")
    body = (
      <button type="button" class="media-thumb" ref={opener}
        onClick={() => lightbox.open(url, caption ?? "Image from the conversation", opener.current)}
        aria-label={caption ? `Open image: ${caption}` : "Open image"}>
        <img src={url} alt={caption ?? "Image from the conversation"} loading="lazy" />
      </button>
    );
  else if (m.type === "audio" || m.type === "voice")
    body = (
      <div class="audio">
        <small class="kind">{label}</small>
        <audio controls src={url} preload="metadata" aria-label={label} />
      </div>
    );
  else if (m.type === "video") body = <video controls src={url} preload="metadata" class="media-video" aria-label={caption ? `Video: ${caption}` : "Video message"} />;
  else
    body = (
      <a class="doc" href={url} download={filename ?? "document"} aria-label={`Download ${filename ?? "document"}${m.mediaSize ? `, ${size(m.mediaSize)}` : ""}`}>
        <IconDoc size={20} /> <span class="doc-name">{filename ?? "Document"}</span> <small>{[m.mediaMime, size(m.mediaSize)].filter(Boolean).join(" · ")}</small>
      </a>
    );
  return (
    <>
      {body}
      {caption && <div class="text" data-testid="message-text">{caption}</div>}
    </>
  );
}

const KIND: Record<string, string> = { image: "Image", sticker: "Sticker", audio: "Audio", voice: "Voice message", video: "Video", document: "Document" };

function num(v: unknown): number | null {
  const n = typeof v === "string" ? Number(v) : typeof v === "number" ? v : NaN;
  return Number.isFinite(n) ? n : null;
}

function Location({ c }: { c: any }) {
  const l = c?.location ?? c ?? {};
  const lat = num(l.latitude), lng = num(l.longitude);
  const safeUrl = typeof l.url === "string" && /^https?:\/\//i.test(l.url) ? l.url : null;
  return (
    <div class="location">
      <IconPin size={20} />
      <div>
        <div data-testid="message-text"><strong>{l.name ?? (l.address ? "" : "Shared location")}</strong></div>
        {l.address && <div class="addr">{l.address}</div>}
        {lat != null && lng != null && (
          <a href={`https://www.openstreetmap.org/?mlat=${lat}&mlon=${lng}#map=16/${lat}/${lng}`} target="_blank" rel="noopener noreferrer">
            Open map ({lat.toFixed(5)}, {lng.toFixed(5)})<span class="sr-only"> (opens in a new tab)</span>
          </a>
        )}
        {safeUrl && <div><a href={safeUrl} target="_blank" rel="noopener noreferrer nofollow">{safeUrl}</a></div>}
      </div>
    </div>
  );
}

function Contacts({ c }: { c: any }) {
  const list: any[] = Array.isArray(c) ? c : Array.isArray(c?.contacts) ? c.contacts : [];
  if (!list.length) return <div class="muted">Shared contact (no details)</div>;
  return (
    <ul class="contacts-card" aria-label={list.length === 1 ? "Shared contact" : `${list.length} shared contacts`}>
      {list.map((x, i) => {
        const n = x?.name ?? {};
        const name = n.formatted_name ?? ([n.first_name, n.last_name].filter(Boolean).join(" ") || "Contact");
        const org = [x?.org?.company, x?.org?.title].filter(Boolean).join(", ");
        return (
          <li key={i}>
            <strong>{name}</strong>
            {org && <div class="muted">{org}</div>}
            {(Array.isArray(x?.phones) ? x.phones : []).map((p: any) => {
              const v = p?.phone ?? (p?.wa_id ? "+" + p.wa_id : "");
              return v ? <div><a href={`tel:${String(v).replace(/[^\d+]/g, "")}`}>{v}</a>{p.type ? <small class="muted"> {String(p.type).toLowerCase()}</small> : null}</div> : null;
            })}
            {(Array.isArray(x?.emails) ? x.emails : []).map((e: any) => e?.email ? <div><a href={`mailto:${e.email}`}>{e.email}</a></div> : null)}
          </li>
        );
      })}
    </ul>
  );
}

/** A satisfaction survey sent when the conversation was resolved, and the customer's rating. */
function Survey({ m }: { m: Message }) {
  useEffect(() => { void loadRating(m.conversationId); }, [m.conversationId]);
  const r = ratings.value.get(m.conversationId);
  return (
    <div class="template">
      <small class="kind">Satisfaction survey</small>
      <div class="text" data-testid="message-text">{m.text ?? ""}</div>
      <div class="muted" data-testid="csat-rating">
        {r ? `Rated ${r.rating} of 5${r.comment ? `: “${r.comment}”` : ""}` : "Not rated yet"}
      </div>
    </div>
  );
}

function Interactive({ m, c }: { m: Message; c: any }) {
  const kind = c?.type ?? (c?.button_reply ? "button_reply" : c?.list_reply ? "list_reply" : c?.nfm_reply ? "nfm_reply" : "");
  const r = c?.[kind] ?? {};
  const label = kind === "button_reply" ? "Tapped a button" : kind === "list_reply" ? "Chose from a list" : kind === "nfm_reply" ? "Sent a form" : "Interactive reply";
  let fields: [string, string][] = [];
  if (kind === "nfm_reply" && typeof r.response_json === "string") {
    try {
      const v = JSON.parse(r.response_json);
      if (v && typeof v === "object") fields = Object.entries(v).filter(([k]) => k !== "flow_token").map(([k, x]) => [k, typeof x === "string" ? x : JSON.stringify(x)]);
    } catch { /* shown as text below */ }
  }
  return (
    <div class="choice">
      <small class="kind">{label}</small>
      <div class="text chip" data-testid="message-text">{m.text ?? r.title ?? r.body ?? "(no title)"}</div>
      {r.description && <div class="muted">{r.description}</div>}
      {fields.length > 0 && (
        <dl class="form-fields">{fields.map(([k, v]) => <><dt>{k}</dt><dd>{v}</dd></>)}</dl>
      )}
    </div>
  );
}

function Order({ c }: { c: any }) {
  const items: any[] = Array.isArray(c?.product_items) ? c.product_items : [];
  return (
    <div class="order">
      <small class="kind">Order{items.length ? ` · ${items.length} item${items.length === 1 ? "" : "s"}` : ""}</small>
      <ul>
        {items.map((p, i) => (
          <li key={i}>{p.quantity ?? 1} × {p.product_retailer_id ?? "item"}{p.item_price != null ? ` — ${p.item_price} ${p.currency ?? ""}` : ""}</li>
        ))}
      </ul>
      {c?.text && <div class="text" data-testid="message-text">{c.text}</div>}
    </div>
  );
}

function Unknown({ m, c }: { m: Message; c: any }) {
  const err = Array.isArray(c?.errors) ? c.errors[0] : null;
  const why = err ? err.error_data?.details ?? err.message ?? err.title : null;
  let raw = "";
  try { raw = JSON.stringify(c, null, 2) ?? ""; } catch { /* not JSON */ }
  return (
    <div class="unknown">
      {m.text && <div class="text" data-testid="message-text">{m.text}</div>}
      <div class="muted">
        {m.type === "unsupported" ? "WhatsApp could not deliver this message's content" : `A ${m.type.replace(/_/g, " ")} message the inbox cannot show`}
        {why ? `: ${why}` : "."} Ask the customer to resend it another way if needed.
      </div>
      {raw && raw !== "{}" && (
        <details>
          <summary>What WhatsApp sent</summary>
          <pre>{raw.length > 4000 ? raw.slice(0, 4000) + "\n…" : raw}</pre>
        </details>
      )}
    </div>
  );
}

/** A short text for a message (the quote of a reply). */
function snippet(m: Message): string {
  const t = m.text ?? m.content?.caption;
  if (t) return t.length > 120 ? t.slice(0, 120) + "…" : t;
  return KIND[m.type] ?? m.type;
}

function findByWamid(wamid: string): Message | undefined {
  const t = thread.value;
  if (!t) return undefined;
  for (const ch of t.chunks) for (const x of ch.messages) if (x.providerMessageId === wamid) return x;
  return undefined;
}

function Quote({ ctx }: { ctx: any }) {
  const id: string | undefined = typeof ctx?.id === "string" ? ctx.id : undefined;
  const forwarded = ctx?.frequently_forwarded ? "Forwarded many times" : ctx?.forwarded ? "Forwarded" : null;
  if (!id) return forwarded ? <small class="kind">{forwarded}</small> : null;
  const q = findByWamid(id);
  return (
    <>
      {forwarded && <small class="kind">{forwarded}</small>}
      {q ? (
        <button type="button" class="quote" aria-label={`In reply to: ${snippet(q)}. Show that message`}
          onClick={() => {
            const el = document.querySelector<HTMLElement>(`[data-testid=message][data-id="${CSS.escape(q.id)}"]`);
            if (el) { el.scrollIntoView({ block: "center" }); el.classList.add("flash"); setTimeout(() => el.classList.remove("flash"), 1200); }
          }}>
          {snippet(q)}
        </button>
      ) : (
        <div class="quote">In reply to an earlier message</div>
      )}
    </>
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

function full(iso: string) {
  return new Date(iso).toLocaleString();
}

function time(iso: string) {
  const d = new Date(iso);
  const t = d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  // Older than today: the day too, or yesterday's 09:00 reads as this morning's.
  return d.toDateString() === new Date().toDateString() ? t : `${d.toLocaleDateString([], { day: "numeric", month: "short" })} ${t}`;
}

export function MessageItem({ m, myId }: { m: Message; myId: string | null }) {
  const [picking, setPicking] = useState(false);
  const reactBtn = useRef<HTMLButtonElement>(null);
  const pick = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!picking) return;
    pick.current?.querySelector<HTMLButtonElement>("button")?.focus();
    const away = (e: MouseEvent) => {
      if (!pick.current?.contains(e.target as Node) && e.target !== reactBtn.current && !reactBtn.current?.contains(e.target as Node)) setPicking(false);
    };
    document.addEventListener("mousedown", away);
    return () => document.removeEventListener("mousedown", away);
  }, [picking]);
  function closePicker() {
    setPicking(false);
    reactBtn.current?.focus();
  }
  const status = m.direction === "outbound" ? m.status : "";
  if (m.direction === "system") {
    return (
      <li class="msg system" data-testid="message" data-id={m.id} data-direction="system" data-status="">
        <span class="system-text" data-testid="message-text">{m.text ?? m.type}</span>
        <time dateTime={m.createdAt} title={full(m.createdAt)}>{time(m.createdAt)}</time>
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
    case "interactive":
      body = <Interactive m={m} c={c} />;
      break;
    case "button":
      body = (
        <div class="choice">
          <small class="kind">Tapped a template button</small>
          <div class="text chip" data-testid="message-text">{m.text ?? c.text ?? c.payload ?? ""}</div>
        </div>
      );
      break;
    case "order":
      body = <Order c={c} />;
      break;
    case "template": {
      const name = c.name ?? c.template?.name ?? "";
      const lang = (typeof c.language === "string" ? c.language : c.language?.code) ?? c.template?.language?.code ?? "";
      body = (
        <div class="template">
          <small class="kind">Template{name ? ` “${name}”` : ""}{lang ? ` (${lang})` : ""}</small>
          <div class="text" data-testid="message-text">{m.text ?? ""}</div>
        </div>
      );
      break;
    }
    case "csat":
      body = <Survey m={m} />;
      break;
    case "reaction": {
      const emoji = c.emoji ?? c.reaction?.emoji ?? m.text ?? "";
      body = <div class="text reaction-msg" data-testid="message-text">{emoji ? `Reacted ${emoji}` : "Removed a reaction"}</div>;
      break;
    }
    case "system":
      // WhatsApp's own notices (the customer changed their number…).
      body = <div class="text muted" data-testid="message-text">{m.text ?? c.body ?? "WhatsApp system notice"}</div>;
      break;
    default:
      body = <Unknown m={m} c={c} />;
  }
  const sender = m.direction === "outbound"
    ? m.senderId ? (m.senderId === myId ? "You" : userById.value.get(m.senderId)?.name ?? "Agent") : "Bot"
    : null;
  const reactions = m.reactions ?? [];
  const stored = !m.id.startsWith("pending-");
  const ctx = c && typeof c === "object" && !Array.isArray(c) ? c.context : null;
  return (
    <li
      class={`msg ${m.direction}${m.status === "failed" ? " failed" : ""}${m.type === "sticker" ? " sticker-msg" : ""}`}
      data-testid="message"
      data-id={m.id}
      data-direction={m.direction}
      data-status={status}
    >
      <div class="bubble-row">
        <div class="bubble">
          {sender && <div class="sender">{sender}</div>}
          {ctx && <Quote ctx={ctx} />}
          {body}
          <div class="meta">
            <time dateTime={m.createdAt} title={full(m.createdAt)}>{time(m.createdAt)}</time>
            {m.direction === "outbound" && <Ticks m={m} />}
          </div>
          {reactions.length > 0 && (
            <ul class="reactions" aria-label="Reactions">
              {reactions.map((r) => {
                const who = r.by === "customer" ? "Customer" : r.by === myId ? "You" : userById.value.get(r.by)?.name ?? "Agent";
                return <li title={who} aria-label={`${r.emoji} by ${who}`}>{r.emoji}</li>;
              })}
            </ul>
          )}
        </div>
        {stored && m.direction === "inbound" && (
          <div class={"msg-actions" + (picking ? " open" : "")}>
            <button type="button" class="icon-btn" ref={reactBtn} aria-label="React to this message" aria-haspopup="menu" aria-expanded={picking}
              onClick={() => (picking ? closePicker() : setPicking(true))}>
              <IconSmile size={14} />
            </button>
            {picking && (
              <div class="emoji-pick" role="menu" aria-label="Reactions" ref={pick}
                onKeyDown={(e) => {
                  if (e.key === "Escape") { e.stopPropagation(); closePicker(); return; }
                  if (e.key === "ArrowRight" || e.key === "ArrowLeft" || e.key === "Home" || e.key === "End") {
                    e.preventDefault();
                    const items = [...(pick.current?.querySelectorAll<HTMLButtonElement>("button") ?? [])];
                    const i = items.indexOf(document.activeElement as HTMLButtonElement);
                    const n = e.key === "Home" ? 0 : e.key === "End" ? items.length - 1 : (i + (e.key === "ArrowRight" ? 1 : -1) + items.length) % items.length;
                    items[n]?.focus();
                  }
                }}>
                {QUICK.map((e) => (
                  <button type="button" role="menuitem" aria-label={`React ${e}`} onClick={() => { closePicker(); void react(m, e); }}>{e}</button>
                ))}
                {reactions.some((r) => r.by === myId) && (
                  <button type="button" role="menuitem" onClick={() => { closePicker(); void react(m, ""); }}>Remove</button>
                )}
              </div>
            )}
          </div>
        )}
      </div>
      {m.status === "failed" && (
        <div class="fail-reason" role="alert">
          {m.localError ?? `Not delivered: ${m.errorMessage ?? "WhatsApp refused it"}${m.errorCode ? ` (code ${m.errorCode})` : ""}`}
          {canRetryLocal(m) && (
            <button type="button" class="link" onClick={() => void retryLocal(m.conversationId, m)}>Try again</button>
          )}
          {!m.localError && isAdmin.value && (
            <button type="button" class="link" data-testid="retry-send" onClick={() => void retrySend(m)}>Retry</button>
          )}
        </div>
      )}
    </li>
  );
}
