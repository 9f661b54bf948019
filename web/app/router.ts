// A small history router: the path is a signal; links call `navigate`. The server answers
// index.html for every non-API path, so any of these paths reloads to the same screen.
import { signal } from "@preact/signals";

export const path = signal(location.pathname);

export function navigate(to: string, replace = false) {
  if (to === location.pathname + location.search) return;
  if (replace) history.replaceState(null, "", to);
  else history.pushState(null, "", to);
  path.value = location.pathname;
}

window.addEventListener("popstate", () => {
  path.value = location.pathname;
});

/** `/conversations/abc` matched against `/conversations/:id` gives `{id: "abc"}`. */
export function match(pattern: string, p: string): Record<string, string> | null {
  const a = pattern.split("/").filter(Boolean);
  const b = p.split("/").filter(Boolean);
  if (a.length !== b.length) return null;
  const out: Record<string, string> = {};
  for (let i = 0; i < a.length; i++) {
    if (a[i].startsWith(":")) out[a[i].slice(1)] = decodeURIComponent(b[i]);
    else if (a[i] !== b[i]) return null;
  }
  return out;
}
