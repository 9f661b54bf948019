import { defineConfig, type Plugin } from "vite";
import preact from "@preact/preset-vite";
import { gzipSync } from "node:zlib";

// The agent app's initial JavaScript (the entry chunk and what it imports statically) must stay
// under this many gzipped bytes; the build prints the figure and fails above it.
const INITIAL_JS_BUDGET = 100 * 1024;

function initialJsBudget(): Plugin {
  return {
    name: "cx-initial-js-budget",
    apply: "build",
    generateBundle(_options, bundle) {
      const seen = new Set<string>();
      const walk = (name: string) => {
        if (seen.has(name)) return;
        const chunk = bundle[name];
        if (!chunk || chunk.type !== "chunk") return;
        seen.add(name);
        chunk.imports.forEach(walk);
      };
      for (const [name, chunk] of Object.entries(bundle)) {
        if (chunk.type === "chunk" && chunk.isEntry) walk(name);
      }
      let total = 0;
      for (const name of seen) {
        const chunk = bundle[name];
        if (chunk.type === "chunk") total += gzipSync(chunk.code, { level: 9 }).length;
      }
      const kb = (total / 1024).toFixed(1);
      console.log(`\ninitial JS of the agent app: ${kb} KB gzipped (budget ${INITIAL_JS_BUDGET / 1024} KB)`);
      if (total > INITIAL_JS_BUDGET) {
        this.error(`initial JS is ${kb} KB gzipped, over the ${INITIAL_JS_BUDGET / 1024} KB budget`);
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
  },
  server: {
    proxy: {
      "/api": { target: process.env.CX_API_URL ?? "http://127.0.0.1:8080", ws: true },
    },
  },
});
