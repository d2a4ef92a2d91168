import { readFileSync } from 'node:fs';
import { defineConfig } from 'vitest/config';

const pkg = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8')) as { version: string };

// Where `vite dev` / `vite preview` forward `/api` (the gateway, or e2e/mock-server.mjs).
const apiTarget = process.env.MM_API_URL ?? 'http://127.0.0.1:18090';
const proxy = { '/api': { target: apiTarget, changeOrigin: false } };

export default defineConfig({
  // Relative asset URLs: dist/ can be served at `/` or below a prefix.
  base: './',
  define: {
    __UI_VERSION__: JSON.stringify(pkg.version),
  },
  esbuild: {
    jsx: 'automatic',
    jsxImportSource: 'preact',
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    assetsDir: 'assets',
    // Never inline assets as data: URIs (keeps the CSP simple).
    assetsInlineLimit: 0,
    target: 'es2020',
    sourcemap: false,
    modulePreload: { polyfill: false },
    chunkSizeWarningLimit: 400,
  },
  server: { proxy, strictPort: true },
  preview: { proxy, strictPort: true },
  test: {
    environment: 'node',
    include: ['src/**/*.test.ts'],
  },
});
