// Inline SVG icons (no icon font, nothing downloaded).
type P = { size?: number; title?: string };
const svg = (d: string, { size = 16, title }: P = {}) => (
  <svg width={size} height={size} viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2"
    stroke-linecap="round" stroke-linejoin="round" aria-hidden={title ? undefined : "true"} role={title ? "img" : undefined}>
    {title && <title>{title}</title>}
    <path d={d} />
  </svg>
);
export const IconBack = (p: P) => svg("M15 18l-6-6 6-6", p);
export const IconClock = (p: P) => svg("M12 7v5l3 2M12 3a9 9 0 1 0 0 18 9 9 0 0 0 0-18z", p);
export const IconCheck = (p: P) => svg("M5 12l5 5L20 7", p);
export const IconDouble = (p: P) => svg("M2 12l5 5L17 7M11 16l1 1L22 7", p);
export const IconAlert = (p: P) => svg("M12 8v5M12 16h.01M10.3 3.9L1.8 18a2 2 0 0 0 1.7 3h17a2 2 0 0 0 1.7-3L13.7 3.9a2 2 0 0 0-3.4 0z", p);
export const IconClip = (p: P) => svg("M21 12l-8.5 8.5a5 5 0 0 1-7-7L14 5a3.5 3.5 0 0 1 5 5l-8.5 8.5a2 2 0 0 1-3-3L15 8", p);
export const IconSend = (p: P) => svg("M22 2L11 13M22 2l-7 20-4-9-9-4z", p);
export const IconInfo = (p: P) => svg("M12 16v-4M12 8h.01M12 3a9 9 0 1 0 0 18 9 9 0 0 0 0-18z", p);
export const IconFlag = (p: P) => svg("M4 22V4h13l-2 4 2 4H4", p);
export const IconSmile = (p: P) => svg("M8 14s1.5 2 4 2 4-2 4-2M9 9h.01M15 9h.01M12 3a9 9 0 1 0 0 18 9 9 0 0 0 0-18z", p);
export const IconDoc = (p: P) => svg("M14 2H6a2 2 0 0 0-2 2v16a2 2 0 0 0 2 2h12a2 2 0 0 0 2-2V8zM14 2v6h6", p);
export const IconPin = (p: P) => svg("M12 22s7-6.2 7-12a7 7 0 0 0-14 0c0 5.8 7 12 7 12zM12 12.5a2.5 2.5 0 1 0 0-5 2.5 2.5 0 0 0 0 5z", p);
export const IconBot = (p: P) => svg("M12 8V4M8 4h8M5 8h14v11H5zM9 13h.01M15 13h.01", p);
export const IconX = (p: P) => svg("M18 6L6 18M6 6l12 12", p);
export const IconTemplate = (p: P) => svg("M4 4h16v16H4zM8 9h8M8 13h8M8 17h5", p);
