/** A logger for tests that keeps every line, to assert on what was logged. */
import type { DestinationStream } from 'pino'
import { createLogger, type Logger } from '../../core/logger.ts'

export interface LogLine {
  readonly level: string
  readonly msg: string
  readonly [key: string]: unknown
}

export function capturingLogger(level = 'debug'): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = []
  // A write may carry several lines (the access log writes what gathered in its last 10 ms at once).
  const destination: DestinationStream = { write: (text: string) => { for (const line of text.split('\n')) if (line) lines.push(JSON.parse(line) as LogLine) } }
  return { logger: createLogger(level, destination), lines }
}
