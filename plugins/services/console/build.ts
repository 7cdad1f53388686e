/**
 * The console's build as it is on disk now. It is read into memory at setup (assets.ts) and read
 * again when it changes under a running gateway: the first `npm run build:console` after a start
 * without one (the not-built page says "then reload this page"), or a new build. Its stamp (the
 * `.source-hash` console/scripts/build.mjs writes last, else index.html) is looked at on a page
 * load, at most once a second; files are always answered from memory. While a build is under way
 * (its folder emptied, half written) the last one read keeps being served, and the build before
 * it keeps its hashed files, so a tab opened on it can still load its pages' chunks.
 */
import { stat } from 'node:fs/promises'
import path from 'node:path'
import { loadAssets, withBasePath, type Asset } from './assets.ts'

const CHECK_EVERY_MS = 1000

async function stampOf(dir: string): Promise<number | undefined> {
  for (const name of ['.source-hash', 'index.html']) {
    const found = await stat(path.join(dir, name)).catch(() => undefined)
    if (found) return found.mtimeMs
  }
  return undefined
}

export class ConsoleBuild {
  private files: ReadonlyMap<string, Asset> | undefined
  private previous: ReadonlyMap<string, Asset> | undefined
  private stamp: number | undefined
  private checkedAt = 0
  private reading: Promise<void> | undefined

  /** `basePath`: the page's <base href> (`/`, or `/gateway/` behind a reverse proxy). */
  constructor(private readonly dir: string, private readonly basePath: string) {}

  /** Whether a build is served; reads the folder again first if its stamp changed (at most once a second). */
  async refresh(): Promise<boolean> {
    if (Date.now() - this.checkedAt >= CHECK_EVERY_MS) {
      this.checkedAt = Date.now()
      await (this.reading ??= this.read().finally(() => { this.reading = undefined }))
    }
    return this.files !== undefined
  }

  /** A file of the build by URL path (`/index.html`, `/assets/x.js`); a hashed one of the build before too. */
  file(urlPath: string): Asset | undefined {
    return this.files?.get(urlPath) ?? (urlPath.startsWith('/assets/') ? this.previous?.get(urlPath) : undefined)
  }

  private async read(): Promise<void> {
    const stamp = await stampOf(this.dir)
    if (stamp === undefined || stamp === this.stamp) return
    // A file deleted between the listing and its read (a build under way): the next look reads it again.
    const files = await loadAssets(this.dir).catch(() => undefined)
    if (!files) return
    files.set('/index.html', withBasePath(files.get('/index.html')!, this.basePath))
    this.previous = this.files
    this.files = files
    this.stamp = stamp
  }
}
