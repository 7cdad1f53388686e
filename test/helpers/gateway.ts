/** Run a gateway in-process for a test, on a free port, from YAML text or a file. */
import os from 'node:os'
import { startGateway, type RunningGateway } from '../../core/gateway.ts'
import { createLogger } from '../../core/logger.ts'
import type { Token } from '../../core/plugins/api.ts'

export type { RunningGateway }

/** Logs are silent in tests; set TEST_LOG_LEVEL=debug to see them. */
export const testLogger = () => createLogger(process.env.TEST_LOG_LEVEL ?? 'silent')

export async function startTestGateway(
  config: string | { file: string },
  options: { env?: NodeJS.ProcessEnv; dir?: string; watch?: boolean; debounceMs?: number; pollMs?: number; usage?: { batchSize?: number; flushIntervalMs?: number; maxBuffer?: number } } = {},
): Promise<RunningGateway> {
  const source = typeof config === 'string' ? { text: withUsage(config, options.usage ?? { flushIntervalMs: 50 }), label: 'test.yaml', dir: options.dir ?? os.tmpdir() } : config
  return startGateway({
    source,
    port: 0,
    host: '127.0.0.1',
    env: options.env ?? process.env,
    logger: testLogger(),
    watch: options.watch ?? false,
    debounceMs: options.debounceMs ?? 50,
    pollMs: options.pollMs,
  })
}

/** Tests write usage events sooner than the default second: a `usage:` block unless the config has one. */
function withUsage(yaml: string, usage: { batchSize?: number; flushIntervalMs?: number; maxBuffer?: number }): string {
  if (/^usage:/m.test(yaml)) return yaml
  const fields = [
    usage.batchSize !== undefined ? `batch_size: ${usage.batchSize}` : '',
    usage.flushIntervalMs !== undefined ? `flush_interval_ms: ${usage.flushIntervalMs}` : '',
    usage.maxBuffer !== undefined ? `max_buffer: ${usage.maxBuffer}` : '',
  ].filter(Boolean)
  return fields.length ? `${yaml.replace(/\n*$/, '\n')}usage: { ${fields.join(', ')} }\n` : yaml
}

/** A capability of the gateway's current snapshot (a plugin's repository, the usage log...). */
export function capability<T>(gw: RunningGateway, token: Token<T>): T {
  return gw.controller.current.container.resolve<T>(token.key)
}

/** POST JSON and return status, headers and parsed body. */
export async function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; headers: Headers; body: any }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) })
  const text = await res.text()
  let parsed: unknown = text
  try { parsed = JSON.parse(text) } catch { /* not JSON */ }
  return { status: res.status, headers: res.headers, body: parsed }
}
