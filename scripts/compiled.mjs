/**
 * Which entry bin/gateway.js runs: the compiled dist/cli/main.js when it is there and built from
 * the sources as they are now (so an edit after `npm run build` is never silently ignored), else
 * the TypeScript sources through tsx. GATEWAY_TS=1 forces the sources.
 *
 * The build records every source file's mtime and size and every source folder's mtime
 * (`sourceManifest`, in dist/BUILD.json); a start stats those paths and compares. An edit changes
 * its file's mtime; a file added, removed or renamed changes its folder's. That is one stat per
 * path and no directory listing: walking the tree to find the newest file cost 7-15 ms CPU per
 * start (up to 170 ms wall on a loaded machine).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import path from 'node:path'

// What dist/ is built from. Not the folders as a whole: an image's /app/config is its gateway.yaml.
const SOURCES = ['core', 'plugin-api', 'cli', 'plugins', 'schemas/gateway.schema.json', 'config/models.json']

/**
 * For each source root present under `root`: `{ files: [[path, mtimeMs, size]], dirs: [[path, mtimeMs]] }`
 * (paths relative to `root`, with `/`). The build takes it before compiling, so an edit made
 * during the build still counts as newer than dist/.
 */
export function sourceManifest(root) {
  const manifest = {}
  for (const source of SOURCES) {
    const files = []
    const dirs = []
    const visit = (rel) => {
      const stat = statSync(path.join(root, rel))
      if (!stat.isDirectory()) files.push([rel, stat.mtimeMs, stat.size])
      else {
        dirs.push([rel, stat.mtimeMs])
        for (const entry of readdirSync(path.join(root, rel))) visit(`${rel}/${entry}`)
      }
    }
    if (existsSync(path.join(root, source))) {
      visit(source)
      manifest[source] = { files, dirs }
    }
  }
  return manifest
}

/**
 * Whether any source differs from `manifest`: a stat per recorded path (a plain loop: this runs
 * cold at every start). A source root absent as a whole is not a change (the image ships none);
 * one that appeared since the build is.
 */
function changed(root, manifest) {
  for (const source of SOURCES) {
    const recorded = manifest[source]
    if (!existsSync(path.join(root, source))) continue
    if (!recorded) return true
    for (const [rel, mtimeMs] of recorded.dirs) {
      if (statSync(`${root}/${rel}`, { throwIfNoEntry: false })?.mtimeMs !== mtimeMs) return true
    }
    for (const [rel, mtimeMs, size] of recorded.files) {
      const stat = statSync(`${root}/${rel}`, { throwIfNoEntry: false })
      if (stat?.mtimeMs !== mtimeMs || stat.size !== size) return true
    }
  }
  return false
}

/** `{ entry, stale }`: the compiled entry to import, or undefined (run the sources; `stale` says why). */
export function compiledEntry(root, env = process.env) {
  const entry = path.join(root, 'dist', 'cli', 'main.js')
  const stamp = path.join(root, 'dist', 'BUILD.json')
  if (env.GATEWAY_TS === '1' || !existsSync(entry) || !existsSync(stamp)) return { entry: undefined, stale: false }
  const { sources } = JSON.parse(readFileSync(stamp, 'utf8'))
  // A build from before the manifest: stale, so it is rebuilt rather than trusted.
  const stale = sources === undefined || changed(root, sources)
  return stale ? { entry: undefined, stale: true } : { entry, stale: false }
}
