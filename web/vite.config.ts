import { defineConfig, type Plugin } from "vite";
import preact from "@preact/preset-vite";
import { gzipSync } from "node:zlib";

// The initial JavaScript of each page (its entry chunk and what it imports statically) must stay
// under its budget in gzipped bytes; the build prints the figures and fails above one.
const BUDGETS = [
  { page: "the agent app", entry: "app/main.tsx", bytes: 100 * 1024 },
  { page: "the widget iframe app", entry: "widget/main.tsx", bytes: 30 * 1024 },
];

function initialJsBudget(): Plugin {
  return {
    name: "cx-initial-js-budget",
    apply: "build",
    generateBundle(_options, bundle) {
      for (const budget of BUDGETS) {
        const seen = new Set<string>();
        const walk = (name: string) => {
          if (seen.has(name)) return;
          const chunk = bundle[name];
          if (!chunk || chunk.type !== "chunk") return;
          seen.add(name);
          chunk.imports.forEach(walk);
        };
        for (const [name, chunk] of Object.entries(bundle)) {
          if (chunk.type === "chunk" && chunk.isEntry && (chunk.facadeModuleId?.endsWith(budget.entry) || chunk.moduleIds.some((id) => id.endsWith(budget.entry)))) walk(name);
        }
        if (seen.size === 0) this.error(`no entry chunk for ${budget.entry}`);
        let total = 0;
        for (const name of seen) {
          const chunk = bundle[name];
          if (chunk.type === "chunk") total += gzipSync(chunk.code, { level: 9 }).length;
        }
        const kb = (total / 1024).toFixed(1);
        console.log(`\ninitial JS of ${budget.page}: ${kb} KB gzipped (budget ${budget.bytes / 1024} KB)`);
        if (total > budget.bytes) {
          this.error(`initial JS of ${budget.page} is ${kb} KB gzipped, over the ${budget.bytes / 1024} KB budget`);
        }
      }
    },
  };
}

export default defineConfig({
  plugins: [preact(), initialJsBudget()],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    assetsDir: "assets",
    sourcemap: false,
    target: "es2022",
    rollupOptions: {
      // Two pages: the agent app and the widget's iframe app (the loader has its own build,
      // vite.loader.config.ts, run after this one).
      input: { index: "index.html", widget: "widget.html" },
    },
  },
  server: {
    proxy: {
      "/api": { target: process.env.CX_API_URL ?? "http://127.0.0.1:8080", ws: true },
    },
  },
});
