// The top bar: the organization, the inbox, campaigns and (for admins) settings, presence,
// sign out.
// Presence and the live banner are filled in by the inbox's live store.
import { session, isAdmin, logout } from "./auth";
import { path, navigate } from "./router";
import { PresenceToggle } from "./inbox/Presence";
import { LiveBanner } from "./live/LiveBanner";

export function Header() {
  const s = session.value!;
  const inSettings = path.value.startsWith("/settings");
  const inCampaigns = path.value === "/campaigns" || path.value.startsWith("/campaigns/");
  return (
    <header class="topbar">
      <span class="brand">{s.organization.name}</span>
      <nav aria-label="Main">
        <a href="/" class={inSettings || inCampaigns ? "" : "active"} onClick={(e) => { e.preventDefault(); navigate("/"); }}>
          Inbox
        </a>
        <a
          href="/campaigns"
          data-testid="nav-campaigns"
          class={inCampaigns ? "active" : ""}
          onClick={(e) => { e.preventDefault(); navigate("/campaigns"); }}
        >
          Campaigns
        </a>
        {isAdmin.value && (
          <a
            href="/settings"
            data-testid="nav-settings"
            class={inSettings ? "active" : ""}
            onClick={(e) => { e.preventDefault(); navigate("/settings"); }}
          >
            Settings
          </a>
        )}
      </nav>
      <LiveBanner />
      <span class="spacer" />
      <PresenceToggle />
      <span class="who" title={s.user.email}>{s.user.name}</span>
      <button type="button" class="link" data-testid="sign-out" onClick={() => void logout()}>
        Sign out
      </button>
    </header>
  );
}
