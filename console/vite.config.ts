/**
 * Builds the console to dist/: hashed files under dist/assets (served with a year-long cache by
 * service.console), index.html (served with no-cache), and a .br and .gz beside every text asset,
 * so the gateway sends them compressed without compressing on each request.
 */
import { readdir, readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { brotliCompressSync, constants, gzipSync } from 'node:zlib'
import tailwindcss from '@tailwindcss/vite'
import react from '@vitejs/plugin-react'
import { defineConfig, type Plugin } from 'vite'

const COMPRESSIBLE = /\.(js|css|html|svg|json|txt|map)$/

function precompress(): Plugin {
  let outDir = 'dist'
  return {
    name: 'gateway:precompress',
    apply: 'build',
    configResolved(config) {
      outDir = path.resolve(config.root, config.build.outDir)
    },
    async closeBundle() {
      for (const entry of await readdir(outDir, { recursive: true, withFileTypes: true })) {
        if (!entry.isFile() || !COMPRESSIBLE.test(entry.name)) continue
        const file = path.join(entry.parentPath, entry.name)
        const data = await readFile(file)
        await writeFile(`${file}.br`, brotliCompressSync(data, { params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: data.length } }))
        await writeFile(`${file}.gz`, gzipSync(data, { level: 9 }))
      }
    },
  }
}

export default defineConfig({
  // Relative URLs, resolved against the page's <base href>, which service.console sets to the path the
  // console is served under (`/`, or `/gateway/` behind a reverse proxy: services.auth.public_url).
  base: './',
  plugins: [react(), tailwindcss(), precompress()],
  resolve: { alias: { '@': path.resolve(import.meta.dirname, 'src') } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // Source maps stay out of the served folder: the console is small and readable in dev mode.
    sourcemap: false,
    // Minified sizes; what counts is the compressed first load, which test/console/browser.test.ts keeps under 300 kB.
    chunkSizeWarningLimit: 500,
  },
  server: {
    // `npm run dev -w console` beside a running gateway: the API calls go to it.
    proxy: { '/api': 'http://127.0.0.1:8080', '/v1': 'http://127.0.0.1:8080', '/health': 'http://127.0.0.1:8080' },
  },
})
