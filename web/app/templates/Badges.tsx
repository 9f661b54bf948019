// A template's status and quality as small badges (the manager's list and editor).

/** A status badge: its color says whether the template can be sent. */
export function StatusBadge({ status }: { status: string }) {
  return <span class={"s-badge tpl-status tpl-" + status} data-testid="template-status">{status.replace("_", " ")}</span>;
}

export function QualityBadge({ quality }: { quality?: string | null }) {
  if (!quality || quality === "UNKNOWN") return null;
  const label = quality === "GREEN" ? "High quality" : quality === "YELLOW" ? "Medium quality" : quality === "RED" ? "Low quality" : quality;
  return <span class={"tpl-quality q-" + quality} data-testid="template-quality"><span aria-hidden="true" class="tpl-dot" />{label}</span>;
}
