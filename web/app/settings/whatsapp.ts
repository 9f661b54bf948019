// The WhatsApp settings' logic, kept apart from the screen so it is tested without a browser:
// Meta's Embedded Signup (its SDK loaded only when asked, the session info its dialog posts),
// and how health figures read.

export interface MetaConfig {
  appId: string | null;
  configId: string | null;
  appSecretConfigured: boolean;
  graphVersion: string;
  updatedAt: string | null;
}

export interface Pacing {
  perSecond: number;
  dailyUniqueLimit: number | null;
}

export interface Health {
  accountId: string;
  qualityRating: string | null;
  messagingLimitTier: string | null;
  throughputLevel: number | null;
  nameStatus: string | null;
  verifiedName: string | null;
  displayPhoneNumber: string | null;
  phoneStatus: string | null;
  accountReviewStatus: string | null;
  canSendMessage: string | null;
  pacing: Pacing;
  checkedAt: string | null;
  cached: boolean;
  stale: boolean;
  staleReason: string | null;
  cacheSeconds: number;
}

export interface AccountAlert {
  id: string;
  accountId: string | null;
  wabaId: string;
  source: string;
  type: string;
  severity: string | null;
  status: string | null;
  title: string;
  description: string | null;
  occurredAt: string;
  acknowledged: boolean;
  acknowledgedAt: string | null;
  acknowledgedBy: string | null;
  createdAt: string;
}

/** The business account and number the Embedded Signup dialog reported. */
export interface SessionInfo {
  wabaId?: string;
  phoneNumberId?: string;
}

/**
 * The session info in a `message` event from Meta's dialog (`WA_EMBEDDED_SIGNUP`, event
 * `FINISH…`), or `null` for any other message (other origins, cancellations, other frames).
 */
export function sessionInfoOf(origin: string, data: unknown): SessionInfo | null {
  let host: string;
  try {
    host = new URL(origin).hostname;
  } catch {
    return null;
  }
  if (host !== "facebook.com" && !host.endsWith(".facebook.com")) return null;
  let v: unknown = data;
  if (typeof v === "string") {
    try {
      v = JSON.parse(v);
    } catch {
      return null;
    }
  }
  const m = v as { type?: string; event?: string; data?: { waba_id?: unknown; phone_number_id?: unknown } } | null;
  if (!m || m.type !== "WA_EMBEDDED_SIGNUP" || !String(m.event ?? "").startsWith("FINISH")) return null;
  const info: SessionInfo = {};
  if (m.data?.waba_id != null) info.wabaId = String(m.data.waba_id);
  if (m.data?.phone_number_id != null) info.phoneNumberId = String(m.data.phone_number_id);
  return info;
}

/** Meta's SDK, as far as Embedded Signup uses it. */
export interface FacebookSdk {
  init(opts: { appId: string; autoLogAppEvents?: boolean; xfbml?: boolean; version: string }): void;
  login(
    cb: (r: { authResponse?: { code?: string } | null; status?: string }) => void,
    opts: Record<string, unknown>,
  ): void;
}

const SDK_URL = "https://connect.facebook.net/en_US/sdk.js";
let sdk: Promise<FacebookSdk> | null = null;

/**
 * Loads Meta's JavaScript SDK once (only when an admin asks to connect), initialized for the app.
 * Rejects with a sentence when it cannot load (blocked, offline) within `timeoutMs`.
 */
export function loadFacebookSdk(appId: string, version: string, timeoutMs = 15_000, doc: Document = document): Promise<FacebookSdk> {
  const w = window as unknown as { FB?: FacebookSdk; fbAsyncInit?: () => void };
  if (sdk) return sdk;
  sdk = new Promise<FacebookSdk>((resolve, reject) => {
    const fail = () => {
      sdk = null;
      reject(new Error("Meta's sign-up script could not be loaded (blocked by the browser or the network?). Connect the number by hand below instead."));
    };
    const timer = setTimeout(fail, timeoutMs);
    w.fbAsyncInit = () => {
      clearTimeout(timer);
      if (!w.FB) return fail();
      w.FB.init({ appId, autoLogAppEvents: true, xfbml: false, version });
      resolve(w.FB);
    };
    const s = doc.createElement("script");
    s.src = SDK_URL;
    s.async = true;
    s.defer = true;
    s.crossOrigin = "anonymous";
    s.onerror = () => {
      clearTimeout(timer);
      fail();
    };
    doc.body.appendChild(s);
  });
  return sdk;
}

/** The options of `FB.login` that open Embedded Signup with the organization's configuration. */
export function signupLoginOptions(configId: string): Record<string, unknown> {
  return {
    config_id: configId,
    response_type: "code",
    override_default_response_type: true,
    extras: { setup: {}, featureType: "", sessionInfoVersion: "3" },
  };
}

/** Unique customers a day, in words. */
export function dailyLimitText(p: Pacing): string {
  return p.dailyUniqueLimit == null ? "unlimited" : `${p.dailyUniqueLimit.toLocaleString("en-US")} customers / 24 h`;
}

/** The badge class of a quality rating. */
export function qualityClass(q: string | null): string {
  switch ((q ?? "").toUpperCase()) {
    case "GREEN":
      return "quality-high";
    case "YELLOW":
      return "quality-medium";
    case "RED":
      return "quality-low";
    default:
      return "quality-unknown";
  }
}

/** A quality rating in words. */
export function qualityText(q: string | null): string {
  switch ((q ?? "").toUpperCase()) {
    case "GREEN":
      return "High";
    case "YELLOW":
      return "Medium";
    case "RED":
      return "Low";
    default:
      return "Unknown";
  }
}
