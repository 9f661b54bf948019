// A template as the customer's WhatsApp shows it: a bubble with the header (text, or the media
// or location it carries), the body with WhatsApp's inline formatting, the footer, and the
// buttons under it. Used by the template editor and the composer's template picker.
import { formatted, type Preview } from "./model";
import { IconDoc, IconPin } from "../inbox/icons";

const LABEL: Record<string, string> = { IMAGE: "Image", VIDEO: "Video", DOCUMENT: "Document", LOCATION: "Location" };
const ICON: Record<string, string> = { URL: "↗", PHONE_NUMBER: "✆", COPY_CODE: "⧉", OTP: "⧉", QUICK_REPLY: "↩" };

function Text({ text }: { text: string }) {
  return (
    <>
      {formatted(text).map((s, i) =>
        s.style === "b" ? <strong key={i}>{s.text}</strong>
        : s.style === "i" ? <em key={i}>{s.text}</em>
        : s.style === "s" ? <s key={i}>{s.text}</s>
        : s.style === "code" ? <code key={i}>{s.text}</code>
        : s.text,
      )}
    </>
  );
}

export function TemplatePreview(props: {
  p: Preview;
  /** The header file to show (a blob URL), if there is one. */
  mediaUrl?: string | null;
  mediaName?: string | null;
  testid?: string;
}) {
  const { p } = props;
  const h = p.header;
  let header = null;
  if (h?.kind === "TEXT") {
    header = <div class="wa-head" data-testid="preview-header">{h.text}</div>;
  } else if (h && h.kind !== "NONE") {
    if (h.kind === "IMAGE" && props.mediaUrl) header = <img class="wa-media" src={props.mediaUrl} alt="Header image" />;
    else if (h.kind === "VIDEO" && props.mediaUrl) header = <video class="wa-media" src={props.mediaUrl} muted controls preload="metadata" aria-label="Header video" />;
    else if (h.kind === "DOCUMENT") {
      header = (
        <div class="wa-doc"><IconDoc size={18} /> <span class="ellipsis">{props.mediaName || "Document"}</span></div>
      );
    } else {
      header = (
        <div class="wa-media wa-placeholder" aria-label={`${LABEL[h.kind]} header`}>
          {h.kind === "LOCATION" ? <IconPin size={22} /> : null}
          <span>{h.kind === "LOCATION" ? "Location, given when sending" : `${LABEL[h.kind]} header`}</span>
        </div>
      );
    }
  }
  return (
    <div class="wa-preview" data-testid={props.testid ?? "template-preview"} aria-label="Preview, as the customer sees it">
      <div class="wa-bubble">
        {header}
        <div class="wa-body" data-testid="preview-body">{p.body ? <Text text={p.body} /> : <span class="muted">The message text</span>}</div>
        {p.footer && <div class="wa-foot">{p.footer}</div>}
        <div class="wa-time" aria-hidden="true">12:00</div>
      </div>
      {p.buttons.length > 0 && (
        <ul class="wa-buttons" aria-label="Buttons">
          {p.buttons.map((b, i) => (
            <li key={i}><span aria-hidden="true">{ICON[b.type] ?? ""}</span> {b.text || <span class="muted">Button text</span>}</li>
          ))}
        </ul>
      )}
    </div>
  );
}
