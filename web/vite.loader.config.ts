// The widget loader, dist/widget.js: one classic script (an IIFE, no imports, fixed name) that
// sites embed. It runs after the main build (emptyOutDir off). The build prints its gzipped size
// and fails above 5 KB: it is loaded on every page of every site that embeds the widget.
import { defineConfig, type Plugin } from "vite";
import { gzipSync } from "node:zlib";

const LOADER_BUDGET = 5 * 1024;

function loaderBudget(): Plugin {
  return {
    name: "cx-loader-budget",
    apply: "build",
    generateBundle(_options, bundle) {
      const chunk = bundle["widget.js"];
      if (!chunk || chunk.type !== "chunk") return this.error("the build did not produce widget.js");
      const size = gzipSync(chunk.code, { level: 9 }).length;
      console.log(`\nwidget loader widget.js: ${(size / 1024).toFixed(2)} KB gzipped (${size} bytes; budget ${LOADER_BUDGET / 1024} KB)`);
      if (size > LOADER_BUDGET) this.error(`widget.js is ${size} bytes gzipped, over the ${LOADER_BUDGET} byte budget`);
    },
  };
}

export default defineConfig({
  plugins: [loaderBudget()],
  build: {
    outDir: "dist",
    emptyOutDir: false,
    sourcemap: false,
    target: "es2019",
    copyPublicDir: false,
    lib: {
      entry: "widget/loader.ts",
      formats: ["iife"],
      name: "cxWidgetLoader",
      fileName: () => "widget.js",
    },
  },
});
