/** Structured JSON logs (pino). Secrets are redacted by path wherever they might appear. */
import { pino, type Logger, type DestinationStream } from 'pino'

export type { Logger }

const REDACT = [
  'api_key', '*.api_key', '*.*.api_key', 'apiKey', '*.apiKey', 'key', '*.key', 'password', '*.password',
  'authorization', '*.authorization', '*.headers.authorization', '*.headers["x-api-key"]', 'headers.authorization', 'headers["x-api-key"]',
  'token', '*.token', 'secret', '*.secret', 'client_secret', '*.client_secret',
]

/** One JSON line per entry: ISO time, the level by name, no pid or hostname. */
const FORMAT = { base: undefined, timestamp: pino.stdTimeFunctions.isoTime, formatters: { level: (label: string) => ({ level: label }) } }

export function createLogger(level = process.env.LOG_LEVEL ?? 'info', destination?: DestinationStream): Logger {
  return pino({ ...FORMAT, level, redact: { paths: REDACT, censor: '[redacted]' } }, destination ?? pino.destination({ dest: 1, sync: false }))
}

/** The per-request access log: the same output without the redaction pass (its fields are fixed and hold no secrets), as it is written per request. */
export function accessLogger(logger: Logger): Logger {
  const access = pino({ ...FORMAT, level: logger.level }, (logger as unknown as Record<symbol, DestinationStream>)[pino.symbols.streamSym])
  // It follows the gateway logger's level (logging.level changes on reload); children follow it by themselves.
  logger.on('level-change', (level, _value, _previous, _previousValue, changed) => {
    if (changed === logger) access.level = level
  })
  return access
}

/** gateway.yaml's `logging.level`, applied at start and on every reload; a level fixed by the operator (LOG_LEVEL) wins. */
export class LogLevelControl {
  readonly #logger: Logger
  readonly #fixed: string | undefined
  readonly #initial: string

  constructor(logger: Logger, fixed: string | undefined) {
    this.#logger = logger
    this.#fixed = fixed
    this.#initial = logger.level
  }

  apply(configured: string | undefined): void {
    const level = this.#fixed ?? configured ?? this.#initial
    if (this.#logger.level === level) return
    this.#logger.level = level
    this.#logger.info({ level }, 'log level set from logging.level')
  }
}
