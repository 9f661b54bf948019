// The app's frame: sign-in when there is no session, otherwise the header and the screen the
// path names. Settings and campaigns are loaded on demand, so the inbox's initial JavaScript
// stays small.
import { lazy, Suspense } from "preact/compat";
import { session, isAdmin } from "./auth";
import { path } from "./router";
import { SignIn } from "./SignIn";
import { AcceptInvitation } from "./AcceptInvitation";
import { Header } from "./Header";
import { Inbox } from "./inbox/Inbox";

const Settings = lazy(() => import("./settings/Settings").then((m) => ({ default: m.Settings })));
const Campaigns = lazy(() => import("./campaigns/Campaigns").then((m) => ({ default: m.Campaigns })));

export function App() {
  const p = path.value;
  if (p === "/accept-invitation") return <AcceptInvitation />;
  if (!session.value) return <SignIn />;
  let screen;
  if (p.startsWith("/settings")) {
    screen = isAdmin.value ? (
      <Suspense fallback={<div class="loading" role="status">Loading settings…</div>}>
        <Settings />
      </Suspense>
    ) : (
      <main class="empty-state" data-testid="settings-forbidden">
        <h1>Settings are for admins</h1>
        <p>Ask an admin of your organization to change these.</p>
      </main>
    );
  } else if (p === "/campaigns" || p.startsWith("/campaigns/")) {
    screen = (
      <Suspense fallback={<div class="loading" role="status">Loading campaigns…</div>}>
        <Campaigns />
      </Suspense>
    );
  } else {
    screen = <Inbox />;
  }
  return (
    <div class="shell">
      <Header />
      {screen}
    </div>
  );
}
