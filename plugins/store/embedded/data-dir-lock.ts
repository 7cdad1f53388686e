/**
 * PGlite is one process's database: two processes writing one directory corrupt it (and each
 * applies the migrations again), and PGlite does not guard against that itself. A lock file
 * holding the owner's pid turns that mistake (e.g. `gateway start --workers 4` on the embedded
 * store) into a clear error at start-up.
 *
 * Processes that start together must not both win. So the file appears whole (written under a
 * private name, then hard-linked into place, which fails if it exists) rather than created empty
 * and written after, when a second process could read it empty and take it for stale; and a lock
 * left by a dead process is removed only under a second, short-lived lock, after checking it
 * still names that process, so two processes taking it over cannot remove each other's new one.
 */
import { randomBytes } from 'node:crypto'
import { linkSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs'
import path from 'node:path'

export const LOCK_FILE = 'gateway.lock'

export interface DataDirLock {
  release(): void
}

// Each round either locks, refuses, or waits a moment for another process's takeover to finish.
const ROUNDS = 200
const WAIT_MS = 10

export function lockDataDir(dir: string): DataDirLock {
  const file = path.join(dir, LOCK_FILE)
  const mine = String(process.pid)
  for (let round = 0; round < ROUNDS; round++) {
    if (createWhole(file, mine)) return heldLock(file, mine)
    const holder = readHolder(file)
    if (holder === 'gone') continue
    if (holder !== process.pid && isAlive(holder)) {
      throw new Error(
        `the embedded store at ${dir} is in use by process ${holder}; PGlite allows one process per directory ` +
        `(for several processes use store.postgres; if no gateway is running, delete ${file})`,
      )
    }
    // Left by a process that is gone (or an earlier process with this pid): take it over.
    if (!removeStale(file, holder)) sleep(WAIT_MS)
  }
  throw new Error(`could not lock ${dir}: other processes kept taking it over`)
}

function heldLock(file: string, mine: string): DataDirLock {
  return {
    release() {
      try {
        if (readFileSync(file, 'utf8').trim() === mine) unlinkSync(file)
      } catch { /* already gone */ }
    },
  }
}

/** Put `file` in place holding `content`, atomically; false when it exists. */
function createWhole(file: string, content: string): boolean {
  const draft = `${file}.${content}.${randomBytes(4).toString('hex')}`
  writeFileSync(draft, content)
  try {
    linkSync(draft, file)
    return true
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false
    throw err
  } finally {
    unlinkSync(draft)
  }
}

/** The pid a lock file names: NaN when it names none (not written by this code), 'gone' when there is no file. */
function readHolder(file: string): number | 'gone' {
  try {
    return Number.parseInt(readFileSync(file, 'utf8').trim(), 10)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'gone'
    throw err
  }
}

/**
 * Remove the lock file if it still names `holder`, under `<file>.takeover` so that one process at
 * a time does it. False when another process is taking it over (try again shortly).
 */
function removeStale(file: string, holder: number): boolean {
  const guard = `${file}.takeover`
  const mine = String(process.pid)
  if (!createWhole(guard, mine)) {
    const taker = readHolder(guard)
    // This process removes its guard before returning, so one naming this pid is a dead process's.
    if (taker !== 'gone' && (taker === process.pid || !isAlive(taker))) {
      throw new Error(`a process that died while taking over ${file} left ${guard}; if no gateway is running, delete both`)
    }
    return false
  }
  try {
    const now = readHolder(file)
    if (now === holder || (Number.isNaN(now) && Number.isNaN(holder))) unlinkSync(file)
  } finally {
    unlinkSync(guard)
  }
  return true
}

function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** A blocking pause: taking the lock is synchronous, and the wait is for another process. */
function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms)
}
