/// <reference types="vitest/config" />
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// The console is served by the gateway from dist/ (same origin as /api/v1). `npm run dev` proxies
// the API to a gateway started by `make run`.
const gateway = (globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env.CRM_GATEWAY_URL ?? "http://127.0.0.1:8000";

export default defineConfig({
  plugins: [react()],
  build: {
    outDir: "dist",
    assetsDir: "assets",
    chunkSizeWarningLimit: 1500,
    rollupOptions: {
      output: {
        // Ant Design and its rc-components one chunk per component, so a screen (the sign-in
        // page above all) loads only the components it shows, not every component of the app.
        manualChunks(id: string) {
          if (id.includes("node_modules/echarts") || id.includes("node_modules/zrender")) return "charts";
          if (/node_modules\/(antd|@rc-component\/[^/]+)\/(es|lib)\/(.*\/)?locale\//.test(id)) return "antd-locale";
          const antd = /node_modules\/antd\/es\/([^/]+)\//.exec(id);
          if (antd) return antd[1].startsWith("_") || antd[1] === "style" || antd[1] === "theme" || antd[1] === "config-provider" ? "antd-core" : `antd-${antd[1]}`;
          const rc = /node_modules\/@rc-component\/([^/]+)\//.exec(id);
          if (rc) return ["util", "motion", "resize-observer", "portal", "trigger", "context"].includes(rc[1]) ? "antd-core" : `rc-${rc[1]}`;
          if (/node_modules\/@ant-design\/(cssinjs|colors|fast-color|cssinjs-utils)\//.test(id)) return "antd-core";
          if (id.includes("node_modules/@ant-design/icons")) return "icons";
          return undefined;
        },
      },
    },
  },
  server: {
    proxy: { "/api": gateway, "/openapi.json": gateway, "/docs": gateway },
  },
  test: {
    environment: "jsdom",
    globals: true,
    setupFiles: ["src/test/setup.ts"],
    css: false,
    // Ant Design in jsdom on a busy 2-core machine: generous, the assertions are what matter
    testTimeout: 30_000,
  },
});
