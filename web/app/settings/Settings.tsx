// The admin settings area: a sub-nav on the left and one screen per section on the right.
// `/settings` shows the first section.
import type { FunctionComponent } from "preact";
import { useEffect } from "preact/hooks";
import { path, navigate } from "../router";
import { WhatsAppSettings } from "./WhatsApp";
import { TemplatesSettings } from "./Templates";
import { UsersSettings } from "./Users";
import { TeamsSettings } from "./Teams";
import { RoutingSettings } from "./Routing";
import { BotSettings } from "./Bot";
import { KnowledgeSettings } from "./Knowledge";
import { TagsSettings } from "./Tags";
import { InboxesSettings } from "./Inboxes";
import { refreshUnreadAlerts, unreadAlerts } from "./alerts";

const SECTIONS: { slug: string; label: string; screen: FunctionComponent }[] = [
  { slug: "whatsapp", label: "WhatsApp", screen: WhatsAppSettings },
  { slug: "inboxes", label: "Inboxes", screen: InboxesSettings },
  { slug: "templates", label: "Templates", screen: TemplatesSettings },
  { slug: "users", label: "Users & invitations", screen: UsersSettings },
  { slug: "teams", label: "Teams", screen: TeamsSettings },
  { slug: "routing", label: "Routing & hours", screen: RoutingSettings },
  { slug: "bot", label: "Bot", screen: BotSettings },
  { slug: "knowledge", label: "Knowledge", screen: KnowledgeSettings },
  { slug: "tags", label: "Tags", screen: TagsSettings },
];

export function Settings() {
  const slug = path.value.split("/")[2] ?? "";
  const current = SECTIONS.find((s) => s.slug === slug) ?? SECTIONS[0];
  const Screen = current.screen;
  useEffect(() => void refreshUnreadAlerts(), []);
  return (
    <main class="settings" data-testid="settings">
      <nav class="settings-nav" aria-label="Settings">
        <h1>Settings</h1>
        <ul>
          {SECTIONS.map((s) => (
            <li key={s.slug}>
              <a
                href={"/settings/" + s.slug}
                data-testid={"settings-nav-" + s.slug}
                aria-current={s === current ? "page" : undefined}
                onClick={(e) => {
                  e.preventDefault();
                  navigate("/settings/" + s.slug);
                }}
              >
                {s.label}
                {s.slug === "whatsapp" && unreadAlerts.value > 0 && (
                  <span class="badge" data-testid="settings-whatsapp-alerts" title="Unread alerts from Meta">
                    {unreadAlerts.value}
                  </span>
                )}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      <section class="settings-body" aria-label={current.label} data-testid={"settings-" + current.slug}>
        <Screen key={current.slug} />
      </section>
    </main>
  );
}
