/** Run a gateway in-process for a test, on a free port, from YAML text or a file. */
import { randomBytes } from 'node:crypto'
import os from 'node:os'
import path from 'node:path'
import { startGateway, type RunningGateway } from '../../core/gateway.ts'
import { createLogger } from '../../core/logger.ts'
import type { UsageOptions } from '../../core/runtime/controller.ts'

export type { RunningGateway }

/** Logs are silent in tests; set TEST_LOG_LEVEL=debug to see them. */
export const testLogger = () => createLogger(process.env.TEST_LOG_LEVEL ?? 'silent')

/**
 * A usage journal directory of the gateway's own (created only if events spill): gateways of
 * other tests never replay its events into their store.
 */
export const freshJournalDir = (): string => path.join(os.tmpdir(), `gw-usage-journal-${process.pid}-${randomBytes(4).toString('hex')}`)

export async function startTestGateway(
  config: string | { file: string },
  options: { env?: NodeJS.ProcessEnv; dir?: string; watch?: boolean; debounceMs?: number; pollMs?: number; usage?: UsageOptions } = {},
): Promise<RunningGateway> {
  const source = typeof config === 'string' ? { text: config, label: 'test.yaml', dir: options.dir ?? os.tmpdir() } : config
  return startGateway({
    source,
    port: 0,
    host: '127.0.0.1',
    env: options.env ?? process.env,
    logger: testLogger(),
    watch: options.watch ?? false,
    debounceMs: options.debounceMs ?? 50,
    pollMs: options.pollMs,
    usage: { journalDir: freshJournalDir(), ...(options.usage ?? { flushIntervalMs: 50 }) },
  })
}

/** POST JSON and return status, headers and parsed body. */
export async function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; headers: Headers; body: any }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) })
  const text = await res.text()
  let parsed: unknown = text
  try { parsed = JSON.parse(text) } catch { /* not JSON */ }
  return { status: res.status, headers: res.headers, body: parsed }
}
