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
  const destination: DestinationStream = { write: (line: string) => { lines.push(JSON.parse(line) as LogLine) } }
  return { logger: createLogger(level, destination), lines }
}
