/**
 * PGlite is one process's database: two processes writing one directory corrupt it, and PGlite
 * does not guard against that itself. A lock file holding the owner's pid turns that mistake
 * (e.g. `gateway start --workers 4` on the embedded store) into a clear error at start-up.
 */
import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs'
import path from 'node:path'

export const LOCK_FILE = 'gateway.lock'

export interface DataDirLock {
  release(): void
}

export function lockDataDir(dir: string): DataDirLock {
  const file = path.join(dir, LOCK_FILE)
  const mine = String(process.pid)
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx')
      try { writeSync(fd, mine) } finally { closeSync(fd) }
      return {
        release() {
          try {
            if (readFileSync(file, 'utf8').trim() === mine) unlinkSync(file)
          } catch { /* already gone */ }
        },
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
      const holder = Number.parseInt(readFileSync(file, 'utf8').trim(), 10)
      if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && isAlive(holder)) {
        throw new Error(
          `the embedded store at ${dir} is in use by process ${holder}; PGlite allows one process per directory ` +
          `(for several processes use store.postgres; if no gateway is running, delete ${file})`,
        )
      }
      // Left by a process that is gone: take it over.
      unlinkSync(file)
    }
  }
  throw new Error(`could not lock ${dir}`)
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}
