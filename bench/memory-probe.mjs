/**
 * Preloaded into a gateway under soak (`node --import ./bench/memory-probe.mjs`): every
 * GATEWAY_MEMORY_REPORT_MS it appends one JSON line of process.memoryUsage() (MB) to
 * GATEWAY_MEMORY_REPORT_FILE, so RSS growth can be split into V8 heap, external and array
 * buffers; the rest of RSS is native (malloc arenas, code, stacks). SIGUSR2 writes a heap
 * snapshot there too (v8.writeHeapSnapshot; no inspector needed). SOAK_V8_FLAGS are set at
 * start (v8.setFlagsFromString: V8 flags NODE_OPTIONS refuses, e.g. --heap-growing-percent).
 * Bench only, not shipped.
 */
import { appendFileSync } from 'node:fs'
import path from 'node:path'
import v8 from 'node:v8'

if (process.env.SOAK_V8_FLAGS) v8.setFlagsFromString(process.env.SOAK_V8_FLAGS)

const every = Number(process.env.GATEWAY_MEMORY_REPORT_MS ?? 0)
const file = process.env.GATEWAY_MEMORY_REPORT_FILE
if (every > 0 && file) {
  const mb = (n) => Math.round(n / 1048576 * 10) / 10
  const started = Date.now()
  const report = () => {
    const m = process.memoryUsage()
    const h = v8.getHeapSpaceStatistics().map((s) => [s.space_name, mb(s.space_used_size)])
    appendFileSync(file, JSON.stringify({ s: Math.round((Date.now() - started) / 1000), rss: mb(m.rss), heapTotal: mb(m.heapTotal), heapUsed: mb(m.heapUsed), external: mb(m.external), arrayBuffers: mb(m.arrayBuffers), spaces: Object.fromEntries(h) }) + '\n')
  }
  setInterval(report, every).unref()
  process.on('SIGUSR2', () => {
    const out = v8.writeHeapSnapshot(path.join(path.dirname(file), `heap-${Date.now()}.heapsnapshot`))
    appendFileSync(file, JSON.stringify({ snapshot: out }) + '\n')
  })
}
