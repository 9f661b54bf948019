// "Reconnecting…" while the live socket is down after having been up; gone once it is back.
import { connection, everOpened } from "./socket";

export function LiveBanner() {
  const c = connection.value;
  if (!everOpened.value || c === "open") return null;
  return (
    <span class="live-banner" data-testid="live-banner" role="status" aria-live="polite">
      <span class="live-dot" aria-hidden="true" />
      {c === "offline" ? "Reconnecting… (offline)" : "Reconnecting…"}
    </span>
  );
}
