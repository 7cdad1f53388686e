/** Structured JSON logs (pino). Secrets are redacted by path wherever they might appear. */
import { pino, type Logger, type DestinationStream } from 'pino'

export type { Logger }

const REDACT = [
  'api_key', '*.api_key', '*.*.api_key', 'apiKey', '*.apiKey', 'key', '*.key', 'password', '*.password',
  'authorization', '*.authorization', '*.headers.authorization', '*.headers["x-api-key"]', 'headers.authorization', 'headers["x-api-key"]',
  'token', '*.token', 'secret', '*.secret', 'client_secret', '*.client_secret',
]

export function createLogger(level = process.env.LOG_LEVEL ?? 'info', destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: undefined,
      redact: { paths: REDACT, censor: '[redacted]' },
      formatters: { level: (label) => ({ level: label }) },
    },
    destination ?? pino.destination({ dest: 1, sync: false }),
  )
}

/**
 * The per-request access log: the same output, without the redaction pass, because its fields are
 * fixed and hold no secrets (method, path, status, timings, ids). It is written once per request,
 * so skipping redaction is worth it.
 */
export function accessLogger(logger: Logger): Logger {
  return pino(
    { level: logger.level, base: undefined, formatters: { level: (label) => ({ level: label }) } },
    (logger as unknown as Record<symbol, DestinationStream>)[pino.symbols.streamSym],
  )
}
