import { defineConfig, type Plugin } from 'vite'

const root = decodeURIComponent(new URL('.', import.meta.url).pathname)

/** A strict Content-Security-Policy for the built page only (the dev server injects inline styles). */
function csp(): Plugin {
  const policy = [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ')
  return {
    name: 'sealpost-csp',
    apply: 'build',
    transformIndexHtml: (html) =>
      html.replace('<head>', `<head>\n    <meta http-equiv="Content-Security-Policy" content="${policy}" />`),
  }
}

export default defineConfig({
  root,
  base: './',
  plugins: [csp()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    assetsInlineLimit: 0,
    chunkSizeWarningLimit: 200,
  },
  // `npm run dev:web` talks to a running `sealpost up --demo` (dashboard port 8788 by default), or use ?fixture=1.
  server: {
    port: 5173,
    proxy: { '/events': { target: process.env.SEALPOST_DASHBOARD ?? 'http://127.0.0.1:8788' } },
  },
})
