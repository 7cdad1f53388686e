/** Run a gateway in-process for a test, on a free port, from YAML text or a file. */
import { randomBytes } from 'node:crypto'
import os from 'node:os'
import path from 'node:path'
import { startGateway, type RunningGateway } from '../../core/gateway.ts'
import { createLogger } from '../../core/logger.ts'
import type { Token } from '../../plugin-api/index.ts'
import type { UsageWriter } from '../../plugins/stages/usage/writer.ts'

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
  options: { env?: NodeJS.ProcessEnv; dir?: string; watch?: boolean; debounceMs?: number; pollMs?: number; usage?: UsageOptions; runsJobs?: boolean } = {},
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
    runsJobs: options.runsJobs,
  })
}

/** The usage stage's tuning, as a test sets it (written into the config's `usage:` block). */
export interface UsageOptions {
  batchSize?: number
  catchUpBatchSize?: number
  flushIntervalMs?: number
  maxBuffer?: number
  maxBackoffMs?: number
  /** Default: a fresh directory of this gateway's own. */
  journalDir?: string
}

/**
 * Tests write usage events sooner than the default second, and each gateway journals to a
 * directory of its own: a `usage:` block unless the config has one.
 */
export function withUsage(yaml: string, usage: UsageOptions = {}): string {
  if (/^usage:/m.test(yaml)) return yaml
  const fields = [
    usage.batchSize !== undefined ? `batch_size: ${usage.batchSize}` : '',
    usage.catchUpBatchSize !== undefined ? `catch_up_batch_size: ${usage.catchUpBatchSize}` : '',
    usage.flushIntervalMs !== undefined ? `flush_interval_ms: ${usage.flushIntervalMs}` : '',
    usage.maxBuffer !== undefined ? `buffer_events: ${usage.maxBuffer}` : '',
    usage.maxBackoffMs !== undefined ? `max_backoff_ms: ${usage.maxBackoffMs}` : '',
    `journal_dir: "${usage.journalDir ?? freshJournalDir()}"`,
  ].filter(Boolean)
  return `${yaml.replace(/\n*$/, '\n')}usage: { ${fields.join(', ')} }\n`
}

/** The gateway's usage writer (kept by the usage stage across reloads), to see what it holds. */
export function usageWriterOf(gw: RunningGateway): UsageWriter {
  const kept = gw.controller.shared.kept.get('stage.usage:usage:writer') as { writer: UsageWriter } | undefined
  if (!kept) throw new Error('this gateway has no usage writer (no store configured?)')
  return kept.writer
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
