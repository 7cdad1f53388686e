/**
 * The built console (console/dist), read into memory once: each file with its precompressed .br
 * and .gz siblings (written by the console's build), a content type and an ETag. The folder is a
 * few hundred kilobytes; serving from memory costs no disk read per request.
 */
import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import { readdir, readFile } from 'node:fs/promises'
import path from 'node:path'
import { brotliCompressSync, gzipSync } from 'node:zlib'

export interface Asset {
  readonly body: Buffer
  readonly br: Buffer | undefined
  readonly gzip: Buffer | undefined
  readonly contentType: string
  readonly etag: string
  /** Its name carries a hash of its content (dist/assets/*): cacheable forever. */
  readonly hashed: boolean
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
  '.woff2': 'font/woff2',
  '.webmanifest': 'application/manifest+json',
}

/** Served files by URL path (`/index.html`, `/assets/index-Cgl9eJOr.js`), or undefined when the folder has no index.html. */
export async function loadAssets(dir: string): Promise<Map<string, Asset> | undefined> {
  if (!existsSync(path.join(dir, 'index.html'))) return undefined
  const assets = new Map<string, Asset>()
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || /\.(br|gz)$/.test(entry.name) || entry.name.startsWith('.')) continue
    const file = path.join(entry.parentPath, entry.name)
    const urlPath = '/' + path.relative(dir, file).split(path.sep).join('/')
    const body = await readFile(file)
    const sibling = async (ext: string) => (existsSync(file + ext) ? readFile(file + ext) : undefined)
    assets.set(urlPath, assetOf(body, TYPES[path.extname(entry.name).toLowerCase()] ?? 'application/octet-stream', urlPath.startsWith('/assets/'), await sibling('.br'), await sibling('.gz')))
  }
  return assets
}

function assetOf(body: Buffer, contentType: string, hashed: boolean, br?: Buffer, gzip?: Buffer): Asset {
  return { body, br, gzip, contentType, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`, hashed }
}

/**
 * The page with its <base href> set to `basePath` (`/`, or `/gateway/` behind a reverse proxy): the
 * build's URLs are relative to it, and the console reads its API's and its routes' prefix from it.
 */
export function withBasePath(page: Asset, basePath: string): Asset {
  const html = page.body.toString('utf8')
  const rewritten = html.replace(/<base href="[^"]*"\s*\/?>/, `<base href="${basePath.replace(/[&"<>]/g, (c) => `&#${c.charCodeAt(0)};`)}" />`)
  if (rewritten === html) return page
  const body = Buffer.from(rewritten)
  return assetOf(body, page.contentType, false, brotliCompressSync(body), gzipSync(body))
}

/** The encoding to send, from the client's Accept-Encoding: brotli, then gzip, then none. */
export function pickEncoding(acceptEncoding: string | undefined, asset: Asset): 'br' | 'gzip' | undefined {
  if (!acceptEncoding) return undefined
  const accepted = new Set<string>()
  for (const part of acceptEncoding.split(',')) {
    const [name, ...params] = part.trim().toLowerCase().split(';')
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='))
    if (q === undefined || Number(q.slice(2)) > 0) accepted.add(name!)
  }
  if (asset.br && accepted.has('br')) return 'br'
  if (asset.gzip && (accepted.has('gzip') || accepted.has('*'))) return 'gzip'
  return undefined
}
