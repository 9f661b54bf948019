// The page an invitation email links to (`/accept-invitation?token=…`): shows who invited whom to
// which organization, takes a name and a password, and signs the new member in.
import { useEffect, useState } from "preact/hooks";
import { api, ApiError } from "./api";
import { signedIn, type Session } from "./auth";
import { navigate } from "./router";

interface Preview {
  email: string;
  name?: string | null;
  role: string;
  organizationName: string;
  inviterName?: string | null;
  expiresAt: string;
}

export function AcceptInvitation() {
  const token = new URLSearchParams(location.search).get("token") ?? "";
  const [preview, setPreview] = useState<Preview | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [name, setName] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    if (!token) {
      setProblem("This link has no invitation in it. Open the link from the email again.");
      return;
    }
    api<Preview>(`/invitations/token/${encodeURIComponent(token)}`, { anonymous: true })
      .then((p) => {
        setPreview(p);
        setName(p.name ?? "");
      })
      .catch((e) =>
        setProblem(
          e instanceof ApiError && e.status === 410
            ? "This invitation has expired. Ask your admin to send a new one."
            : "This invitation is no longer valid: it was used, revoked or never existed.",
        ),
      );
  }, [token]);

  if (problem) {
    return (
      <main class="signin">
        <div class="card" role="alert">
          <h1>Invitation</h1>
          <p>{problem}</p>
          <button type="button" class="link" onClick={() => navigate("/", true)}>Go to sign-in</button>
        </div>
      </main>
    );
  }
  if (!preview) return <div class="loading" role="status">Loading the invitation…</div>;

  return (
    <main class="signin">
      <form
        class="card"
        data-testid="accept-invitation"
        onSubmit={async (e) => {
          e.preventDefault();
          setBusy(true);
          setError(null);
          try {
            const s = await api<Session>(`/invitations/accept/${encodeURIComponent(token)}`, {
              body: { name: name.trim() || undefined, password },
              anonymous: true,
            });
            signedIn(s);
            navigate("/", true);
          } catch (err) {
            setError(err instanceof ApiError ? err : new ApiError(0, "network", "The server cannot be reached."));
          } finally {
            setBusy(false);
          }
        }}
      >
        <h1>Join {preview.organizationName}</h1>
        <p>
          {preview.inviterName ? `${preview.inviterName} invited you` : "You are invited"} as{" "}
          {preview.role === "ADMIN" ? "an admin" : "an agent"} ({preview.email}).
        </p>
        <label>
          Your name
          <input name="name" required value={name} aria-invalid={error?.field === "name"}
            onInput={(e) => setName(e.currentTarget.value)} />
        </label>
        <label>
          Choose a password
          <input name="password" type="password" autoComplete="new-password" minLength={8} required value={password}
            aria-invalid={error?.field === "password"} onInput={(e) => setPassword(e.currentTarget.value)} />
        </label>
        {error && <p class="error" role="alert">{error.message}</p>}
        <button type="submit" class="primary" disabled={busy}>Join and sign in</button>
      </form>
    </main>
  );
}
