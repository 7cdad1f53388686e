/**
 * Which entry bin/gateway.js runs: the compiled dist/cli/main.js when it is there and no source is
 * newer than its build (so an edit after `npm run build` is never silently ignored), else the
 * TypeScript sources through tsx. GATEWAY_TS=1 forces the sources.
 */
import { existsSync, readdirSync, statSync } from 'node:fs'
import path from 'node:path'

// What dist/ is built from. Not the folders as a whole: an image's /app/config is its gateway.yaml.
const SOURCES = ['core', 'cli', 'plugins', 'schemas/gateway.schema.json', 'config/models.json']

/** The newest modification time (ms) of `dir` (a file, or any file under a folder), 0 when it does not exist. */
function newest(dir) {
  if (!existsSync(dir)) return 0
  if (!statSync(dir).isDirectory()) return statSync(dir).mtimeMs
  let latest = 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name)
    const time = entry.isDirectory() ? newest(full) : statSync(full).mtimeMs
    if (time > latest) latest = time
  }
  return latest
}

/** `{ entry, stale }`: the compiled entry to import, or undefined (run the sources; `stale` says why). */
export function compiledEntry(root, env = process.env) {
  const entry = path.join(root, 'dist', 'cli', 'main.js')
  const stamp = path.join(root, 'dist', 'BUILD.json')
  if (env.GATEWAY_TS === '1' || !existsSync(entry) || !existsSync(stamp)) return { entry: undefined, stale: false }
  const built = statSync(stamp).mtimeMs
  const sourcesNewer = SOURCES.some((dir) => newest(path.join(root, dir)) > built)
  return sourcesNewer ? { entry: undefined, stale: true } : { entry, stale: false }
}
