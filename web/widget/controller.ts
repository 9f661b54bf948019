// The iframe app's logic without the UI: the session (stored visitor token, the site's identity),
// history, sends with client ids, the visitor socket, typing both ways, acks, unread and the sound.
// The UI renders `state` and calls the verbs; the page's loader hears about unread and colour.
import { Api, ApiError, VisitorSocket, type Config, type SocketDeps } from "./client";
import { TokenStore, clientId, sessionBody } from "./core";
import type { Identity } from "./protocol";
import { initial, pendingAcks, reduce, unreadCount, type Action, type Frame, type State, type WidgetMessage } from "./store";

export type Phase =
  | "loading"
  | "ready"
  /** The inbox enforces identity and the site gave none. */
  | "identity-required"
  /** The site's identity hash was refused. */
  | "identity-refused"
  | "unavailable";

export interface View {
  phase: Phase;
  config: Config | null;
  chat: State;
  connected: boolean;
  error: string | null;
  offlineSent: boolean;
}

export interface Host {
  /** Tells the page's loader something (unread count, colour). */
  toPage(m: { cx: "unread"; count: number } | { cx: "color"; color: string }): void;
  /** Rings once (new agent message while the window is closed). */
  ring(): void;
}

const TYPING_IDLE_MS = 3000;

export class Controller {
  view: View = { phase: "loading", config: null, chat: initial, connected: false, error: null, offlineSent: false };
  private listeners = new Set<() => void>();
  private socket: VisitorSocket | null = null;
  private session: Promise<boolean> | null = null;
  private identity: Identity | null = null;
  private open = false;
  private visible = true;
  private typingSent = false;
  private typingTimer: ReturnType<typeof setTimeout> | undefined;
  private lastUnread = -1;

  constructor(
    readonly websiteToken: string,
    private readonly api: Api,
    private readonly tokens: TokenStore,
    private readonly socketDeps: SocketDeps,
    private readonly host: Host,
  ) {}

  /** Answers a satisfaction survey; throws the server's refusal. */
  async rate(messageId: string, rating: number): Promise<void> {
    await this.api.rate(messageId, rating);
  }

  /** The session's visitor token (file links carry it), `null` before the session. */
  get visitorToken(): string | null {
    return this.api.visitorToken;
  }

  subscribe(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private set(patch: Partial<View>) {
    this.view = { ...this.view, ...patch };
    for (const fn of [...this.listeners]) fn();
  }

  private dispatch(a: Action) {
    const before = this.view.chat;
    const chat = reduce(before, a);
    if (chat === before) return;
    if (this.socket) this.socket.lastSeq = chat.seq;
    this.set({ chat });
    if (chat.rang > before.rang) this.host.ring();
    const unread = unreadCount(chat);
    if (unread !== this.lastUnread) {
      this.lastUnread = unread;
      this.host.toPage({ cx: "unread", count: this.open && this.visible ? 0 : unread });
    }
    this.flushAcks();
  }

  /** Reads the inbox's settings and, for a returning or identified visitor, resumes the chat. */
  async start(identity: Identity | null) {
    this.identity = identity;
    let config: Config;
    try {
      config = await this.api.config(this.websiteToken);
    } catch (e) {
      this.set({ phase: "unavailable", error: e instanceof ApiError ? e.message : "This chat is not available." });
      return;
    }
    this.set({ config });
    if (config.widgetColor) this.host.toPage({ cx: "color", color: config.widgetColor });
    const identified = !!identity?.identifier && !!identity.identifierHash;
    if (config.identityRequired && !identified) {
      this.set({ phase: "identity-required" });
      return;
    }
    this.set({ phase: "ready" });
    // A first-time anonymous visitor gets a session (a contact) only when they write.
    if (identified || this.tokens.get()) await this.ensureSession();
  }

  /** The session, created once; `false` when there is none (the view says why). */
  ensureSession(): Promise<boolean> {
    this.session ??= this.createSession().then((ok) => {
      if (!ok) this.session = null;
      return ok;
    });
    return this.session;
  }

  private async createSession(): Promise<boolean> {
    const stored = this.tokens.get();
    let s;
    try {
      s = await this.api.session(sessionBody(this.websiteToken, stored, this.identity));
    } catch (e) {
      if (e instanceof ApiError && e.code === "identity_verification_failed") {
        this.set({ phase: "identity-refused" });
        return false;
      }
      if (stored && e instanceof ApiError && (e.status === 401 || e.status === 404 || e.status === 400)) {
        // A token from another server, an old secret or a deleted contact: start afresh.
        this.tokens.clear();
        return this.createSession();
      }
      this.set({ error: e instanceof ApiError ? e.message : "Could not reach the chat. Try again." });
      return false;
    }
    this.tokens.set(s.visitorToken);
    this.socket = new VisitorSocket(
      s.visitorToken,
      (f) => this.onFrame(f),
      (connected) => {
        this.set({ connected });
        if (connected) this.flushAcks();
      },
      this.socketDeps,
    );
    this.socket.start();
    if (s.conversationId) await this.loadHistory(null);
    return true;
  }

  private onFrame(f: Frame) {
    this.dispatch({ kind: "frame", frame: f, now: Date.now() });
    if (f.type === "typing" && f.typing) {
      setTimeout(() => this.dispatch({ kind: "tick", now: Date.now() }), 30_500);
    }
  }

  async loadHistory(before: string | null) {
    try {
      const page = await this.api.messages(before);
      this.dispatch({ kind: "history", messages: page.data, hasMore: page.hasMore });
    } catch (e) {
      this.set({ error: e instanceof ApiError ? e.message : "Could not load the messages." });
    }
  }

  loadEarlier() {
    const first = this.view.chat.messages.find((m) => !m.id.startsWith("pending:"));
    if (first) void this.loadHistory(first.id);
  }

  /** The window opened or closed, or the page became hidden or visible. */
  setSeen(open: boolean, visible: boolean) {
    this.open = open;
    this.visible = visible;
    this.dispatch({ kind: "seen", seen: open && visible });
    this.host.toPage({ cx: "unread", count: open && visible ? 0 : unreadCount(this.view.chat) });
  }

  private flushAcks() {
    if (!this.socket?.connected) return;
    const { delivered, read } = pendingAcks(this.view.chat);
    if (delivered.length && this.socket.send({ type: "ack", ids: delivered, status: "delivered" })) {
      this.dispatch({ kind: "acked", ids: delivered, status: "delivered" });
    }
    if (read.length && this.socket.send({ type: "ack", ids: read, status: "read" })) {
      this.dispatch({ kind: "acked", ids: read, status: "read" });
    }
  }

  private pending(id: string, text: string | null, file: File | null): WidgetMessage {
    return {
      id: `pending:${id}`,
      clientId: id,
      direction: "inbound",
      type: file ? (file.type.startsWith("image/") ? "image" : "document") : "text",
      text,
      attachment: file ? { url: "", mime: file.type, name: file.name, size: file.size } : null,
      sender: null,
      status: "pending",
      createdAt: new Date().toISOString(),
    };
  }

  /** Sends a text; a failed one stays on screen with a retry under the same client id. */
  async send(text: string, id: string = clientId()) {
    const body = text.trim();
    if (!body) return;
    this.stopTyping();
    this.dispatch({ kind: "pending", message: this.pending(id, body, null) });
    if (!(await this.ensureSession())) return this.dispatch({ kind: "failed", clientId: id });
    try {
      this.dispatch({ kind: "stored", message: await this.api.send(id, body) });
      this.set({ error: null });
    } catch (e) {
      this.dispatch({ kind: "failed", clientId: id });
      this.set({ error: sendError(e) });
    }
  }

  async upload(file: File, caption: string | null = null, id: string = clientId()) {
    this.dispatch({ kind: "pending", message: this.pending(id, caption, file) });
    if (!(await this.ensureSession())) return this.dispatch({ kind: "failed", clientId: id });
    try {
      this.dispatch({ kind: "stored", message: await this.api.upload(id, file, caption) });
      this.set({ error: null });
    } catch (e) {
      this.dispatch({ kind: "failed", clientId: id });
      this.set({ error: e instanceof ApiError && e.status === 413 ? "That file is too large." : sendError(e) });
    }
  }

  /** Resends a failed message with its client id (the server stores it once). */
  retry(m: WidgetMessage) {
    if (m.status !== "failed" || !m.clientId || m.type !== "text" || !m.text) return;
    void this.send(m.text, m.clientId);
  }

  /** The visitor typed: tells the agent once, and "stopped" after a pause. */
  typing() {
    if (!this.socket) return;
    if (!this.typingSent) {
      this.typingSent = true;
      this.sendTyping(true);
    }
    clearTimeout(this.typingTimer);
    this.typingTimer = setTimeout(() => this.stopTyping(), TYPING_IDLE_MS);
  }

  private stopTyping() {
    clearTimeout(this.typingTimer);
    if (!this.typingSent) return;
    this.typingSent = false;
    this.sendTyping(false);
  }

  private sendTyping(typing: boolean) {
    if (!this.socket?.send({ type: "typing", typing })) void this.api.typing(typing).catch(() => {});
  }

  async offline(email: string, text: string): Promise<string | null> {
    if (!(await this.ensureSession())) return this.view.error ?? "Could not reach the chat.";
    try {
      await this.api.offline(email.trim(), text.trim());
      this.set({ offlineSent: true, error: null });
      return null;
    } catch (e) {
      return e instanceof ApiError ? e.message : "Could not send. Try again.";
    }
  }

  /** The browser came back online or the tab became visible: reconnect now if dropped. */
  nudge() {
    this.socket?.nudge();
  }
}

function sendError(e: unknown): string {
  if (e instanceof ApiError && e.status === 429) return "You are sending too fast. Wait a moment.";
  if (e instanceof ApiError && e.field === "text") return e.message;
  return "Not sent. Tap the message to retry.";
}
