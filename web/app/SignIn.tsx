// Sign in with a password, or with a six-digit code sent by email; or create an organization
// (self-service registration: its first admin).
import { useState } from "preact/hooks";
import { ApiError } from "./api";
import { loginWithPassword, requestCode, loginWithCode, register, signOutReason } from "./auth";

export function SignIn() {
  const [mode, setMode] = useState<"password" | "code" | "register">("password");
  const [company, setCompany] = useState("");
  const [name, setName] = useState("");
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [code, setCode] = useState("");
  const [codeSent, setCodeSent] = useState(false);
  const [error, setError] = useState<{ message: string; field?: string } | null>(null);
  const [busy, setBusy] = useState(false);

  async function run(action: () => Promise<void>) {
    setBusy(true);
    setError(null);
    try {
      await action();
    } catch (e) {
      if (e instanceof ApiError) {
        const wait = e.retryAfter ? ` Try again in ${Math.ceil(e.retryAfter / 60)} min.` : "";
        setError({ message: e.message + wait, field: e.field });
      } else setError({ message: "The server cannot be reached. Check your connection." });
    } finally {
      setBusy(false);
    }
  }

  return (
    <main class="signin">
      <form
        class="card"
        aria-labelledby="signin-title"
        onSubmit={(e) => {
          e.preventDefault();
          if (mode === "password") void run(() => loginWithPassword(email, password));
          else if (mode === "register") void run(() => register(company, name, email, password));
          else if (!codeSent) void run(async () => { await requestCode(email); setCodeSent(true); });
          else void run(() => loginWithCode(email, code));
        }}
      >
        <h1 id="signin-title">{mode === "register" ? "Create your organization" : "Sign in to cx-inbox"}</h1>
        {signOutReason.value && <p class="notice">{signOutReason.value}</p>}
        {mode === "register" && (
          <>
            <label>
              Company
              <input name="companyName" required value={company} aria-invalid={error?.field === "companyName"}
                onInput={(e) => setCompany(e.currentTarget.value)} />
            </label>
            <label>
              Your name
              <input name="name" autoComplete="name" required value={name} aria-invalid={error?.field === "name"}
                onInput={(e) => setName(e.currentTarget.value)} />
            </label>
          </>
        )}
        <label>
          Email
          <input name="email" type="email" autoComplete="username" required value={email}
            aria-invalid={error?.field === "email"}
            onInput={(e) => setEmail(e.currentTarget.value)} />
        </label>
        {mode === "password" || mode === "register" ? (
          <label>
            Password
            <input name="password" type="password" required value={password}
              autoComplete={mode === "register" ? "new-password" : "current-password"}
              minLength={mode === "register" ? 8 : undefined}
              aria-invalid={error?.field === "password"}
              onInput={(e) => setPassword(e.currentTarget.value)} />
          </label>
        ) : codeSent ? (
          <label>
            Code from the email
            <input name="code" inputMode="numeric" autoComplete="one-time-code" pattern="[0-9]{6}" required value={code}
              onInput={(e) => setCode(e.currentTarget.value)} />
          </label>
        ) : null}
        {error && <p class="error" role="alert" data-testid="signin-error">{error.message}</p>}
        <button type="submit" class="primary" disabled={busy} data-testid="signin-submit">
          {mode === "password" ? "Sign in" : mode === "register" ? "Create organization" : codeSent ? "Sign in with the code" : "Email me a code"}
        </button>
        {mode !== "register" && (
          <button type="button" class="link" onClick={() => { setMode(mode === "password" ? "code" : "password"); setCodeSent(false); setError(null); }}>
            {mode === "password" ? "Sign in with an emailed code instead" : "Sign in with a password instead"}
          </button>
        )}
        <button type="button" class="link" data-testid="signin-register"
          onClick={() => { setMode(mode === "register" ? "password" : "register"); setError(null); }}>
          {mode === "register" ? "I already have an account" : "New here? Create an organization"}
        </button>
      </form>
    </main>
  );
}
