// The bot's knowledge documents: upload (text, Markdown, HTML, PDF; 10 MB, checked before
// sending), the list with processing status (polled every 2 s while PROCESSING), delete.
import { useEffect, useRef, useState } from "preact/hooks";
import { api } from "../api";
import { Field, ListState, confirmed, done, fmtDate, useForm, useLoad } from "./form";

interface Doc {
  id: string;
  name: string;
  mime: string;
  size: number;
  status: "PROCESSING" | "READY" | "FAILED" | string;
  error: string | null;
  chunkCount: number;
  embedded: boolean;
  createdAt: string;
  updatedAt: string;
}

export const MAX_DOCUMENT_BYTES = 10 * 1024 * 1024;
const EXTENSIONS = [".txt", ".md", ".markdown", ".csv", ".html", ".htm", ".pdf"];
const ACCEPT = EXTENSIONS.join(",") + ",text/plain,text/markdown,text/html,application/pdf";

/** Why the server would refuse this file, checked before uploading; null when it is fine. */
export function fileProblem(f: File): string | null {
  const name = f.name.toLowerCase();
  const typeOk =
    f.type === "application/pdf" || f.type.startsWith("text/") || EXTENSIONS.some((ext) => name.endsWith(ext));
  if (!typeOk) return `${f.name}: ${f.type || "this type"} is not supported; upload text, Markdown, HTML or PDF.`;
  if (f.size === 0) return `${f.name} is empty.`;
  if (f.size > MAX_DOCUMENT_BYTES) return `${f.name} is ${size(f.size)}; the limit is 10 MB.`;
  return null;
}

export function size(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

export function KnowledgeSettings() {
  const docs = useLoad(() => api<Doc[]>("/bot-config/documents"));
  const update = (d: Doc) => docs.set((prev) => (prev ?? []).map((x) => (x.id === d.id ? d : x)));
  return (
    <div class="settings-screen">
      <h2>Knowledge</h2>
      <p class="muted">Documents the bot answers from.</p>
      <UploadForm onUploaded={(d) => docs.set((prev) => [d, ...(prev ?? [])])} />
      <ListState state={docs} empty="No documents yet.">
        {(items) => (
          <ul class="s-rows" data-testid="documents-list">
            {items.map((d) => (
              <DocRow key={d.id} doc={d} onUpdate={update} onRemoved={() => docs.set((prev) => (prev ?? []).filter((x) => x.id !== d.id))} />
            ))}
          </ul>
        )}
      </ListState>
    </div>
  );
}

function UploadForm(props: { onUploaded: (d: Doc) => void }) {
  const [file, setFile] = useState<File | null>(null);
  const input = useRef<HTMLInputElement>(null);
  const form = useForm();

  function pick(e: Event) {
    const f = (e.currentTarget as HTMLInputElement).files?.[0] ?? null;
    form.clear();
    setFile(f);
    const problem = f && fileProblem(f);
    if (problem) form.fail(problem, "file");
  }

  async function submit(e: Event) {
    e.preventDefault();
    if (!file) {
      form.fail("Choose a file first.", "file");
      return;
    }
    const problem = fileProblem(file);
    if (problem) {
      form.fail(problem, "file");
      return;
    }
    const fd = new FormData();
    fd.append("file", file, file.name);
    const d = await form.run(() => api<Doc>("/bot-config/documents", { form: fd }));
    if (d) {
      props.onUploaded(d);
      setFile(null);
      if (input.current) input.current.value = "";
    }
  }

  return (
    <form class="s-panel" noValidate onSubmit={submit} data-testid="document-upload-form">
      <div class="s-inline-form">
        <Field form={form} name="file" label="Document" hint="Text, Markdown, HTML or PDF with a text layer; at most 10 MB.">
          {(p) => <input {...p} ref={input} type="file" accept={ACCEPT} onChange={pick} />}
        </Field>
        <div class="s-actions">
          <button type="submit" class="primary" disabled={form.busy || !file}>
            {form.busy ? "Uploading…" : "Upload"}
          </button>
        </div>
      </div>
      {form.formError()}
    </form>
  );
}

function DocRow(props: { doc: Doc; onUpdate: (d: Doc) => void; onRemoved: () => void }) {
  const d = props.doc;
  const form = useForm();
  const update = useRef(props.onUpdate);
  update.current = props.onUpdate;

  // Poll the status every 2 s while the document is being processed.
  useEffect(() => {
    if (d.status !== "PROCESSING") return;
    let stopped = false;
    const timer = setInterval(async () => {
      try {
        const next = await api<Doc>(`/bot-config/documents/${d.id}/status`);
        if (!stopped && next.status !== "PROCESSING") update.current(next);
      } catch {
        /* try again on the next tick */
      }
    }, 2000);
    return () => {
      stopped = true;
      clearInterval(timer);
    };
  }, [d.id, d.status]);

  async function remove() {
    if (!confirmed(`Delete ${d.name}? The bot stops using it.`)) return;
    const ok = await form.run(() => done(api(`/bot-config/documents/${d.id}`, { method: "DELETE" })));
    if (ok) props.onRemoved();
  }

  return (
    <li class="s-row" data-testid="document-row" data-status={d.status}>
      <div class="s-row-main">
        <strong>{d.name}</strong>{" "}
        <span class={"s-badge doc-" + d.status.toLowerCase()} role="status">
          {d.status === "PROCESSING" ? "Processing…" : d.status === "READY" ? "Ready" : d.status === "FAILED" ? "Failed" : d.status}
        </span>
        <div class="muted">
          {d.mime} · {size(d.size)} · added {fmtDate(d.createdAt)}
          {d.status === "READY" && <> · {d.chunkCount} passages{d.embedded ? " · embedded" : ""}</>}
        </div>
        {d.status === "FAILED" && d.error && <div class="error">{d.error}</div>}
        {form.formError()}
      </div>
      <div class="s-row-actions">
        <button type="button" class="danger" disabled={form.busy} onClick={() => void remove()}>Delete</button>
      </div>
    </li>
  );
}
