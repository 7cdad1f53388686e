/**
 * UUIDs (RFC 9562) made with one allocation each: the request id of every request and the id of
 * every usage event. node's randomUUID() builds its string from about twenty concatenated pieces:
 * ~590 B of garbage a call and 0.33 µs. Here the 36 characters are written into one reused buffer
 * and read out as one string: 56 B and 0.18 µs (bench/RESULTS.md). Garbage is what sets the pace of
 * the young-generation GC, and with it how long usage events live before they are promoted.
 *
 * The random bytes come from the same CSPRNG as randomUUID's (randomFillSync), 256 ids' worth at a
 * time, each byte used once.
 */
import { randomFillSync } from 'node:crypto'

const ID_BYTES = 16
const pool = Buffer.allocUnsafeSlow(ID_BYTES * 256)
let next = pool.length
const text = Buffer.allocUnsafeSlow(36)
const HEX = Buffer.from('0123456789abcdef', 'latin1')
const DASH = 0x2d

/** A random version 4 UUID, as crypto.randomUUID() makes. */
export function randomUuid(): string {
  const at = take()
  return format(at, 0x40)
}

/**
 * A version 7 UUID: the time `now` (ms since the epoch) in its first 48 bits, then 74 random bits.
 * Ids made later sort later (to the ms), so they go into an index at its right edge.
 */
export function timeOrderedUuid(now: number = Date.now()): string {
  const at = take()
  pool.writeUIntBE(now, at, 6)
  return format(at, 0x70)
}

/** The offset of 16 random bytes not used before. */
function take(): number {
  if (next === pool.length) {
    randomFillSync(pool)
    next = 0
  }
  const at = next
  next += ID_BYTES
  return at
}

/** The 16 bytes at `at` as 8-4-4-4-12 hex digits, with the version nibble and the RFC variant bits set. */
function format(at: number, version: number): string {
  pool[at + 6] = (pool[at + 6] & 0x0f) | version
  pool[at + 8] = (pool[at + 8] & 0x3f) | 0x80
  let o = 0
  for (let i = 0; i < ID_BYTES; i++) {
    if (i === 4 || i === 6 || i === 8 || i === 10) text[o++] = DASH
    const byte = pool[at + i]
    text[o++] = HEX[byte >> 4]
    text[o++] = HEX[byte & 0x0f]
  }
  return text.toString('latin1', 0, 36)
}
