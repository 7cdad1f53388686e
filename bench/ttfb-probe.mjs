/**
 * Preloaded into a gateway (`node --import ./bench/ttfb-probe.mjs`) for bench/ttfb.ts: stamps each
 * request (sequential requests only) at request in, upstream request created and its headers sent
 * (undici's diagnostics channels), first upstream response byte, and the first byte written to the
 * client; on SIGUSR2 appends the median of each gap (ms) to GATEWAY_TTFB_REPORT_FILE. Bench only.
 */
import { appendFileSync } from 'node:fs'
import diagnostics from 'node:diagnostics_channel'
import http from 'node:http'

const file = process.env.GATEWAY_TTFB_REPORT_FILE
if (file) {
  const now = () => performance.now()
  const rows = []
  let cur
  const origEmit = http.Server.prototype.emit
  http.Server.prototype.emit = function (event, ...args) {
    if (event === 'request') cur = { in: now() }
    return origEmit.call(this, event, ...args)
  }
  diagnostics.subscribe('undici:request:create', () => { if (cur) cur.create ??= now() })
  diagnostics.subscribe('undici:client:sendHeaders', () => { if (cur) cur.sent ??= now() })
  diagnostics.subscribe('undici:request:headers', () => { if (cur) cur.upstream ??= now() })
  const origWrite = http.ServerResponse.prototype.write
  http.ServerResponse.prototype.write = function (...args) {
    if (cur && cur.in && !cur.out) { cur.out = now(); rows.push(cur) }
    return origWrite.apply(this, args)
  }
  const med = (xs) => { const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b); return s.length ? +s[Math.floor(s.length / 2)].toFixed(3) : null }
  process.on('SIGUSR2', () => {
    const r = rows.splice(0)
    appendFileSync(file, JSON.stringify({
      n: r.length,
      'in→upstream request created': med(r.map((x) => x.create - x.in)),
      'created→headers sent': med(r.map((x) => x.sent - x.create)),
      'sent→first upstream byte (upstream)': med(r.map((x) => x.upstream - x.sent)),
      'first upstream byte→first byte written': med(r.map((x) => x.out - x.upstream)),
      'in→first byte written': med(r.map((x) => x.out - x.in)),
    }) + '\n')
  })
}
