/**
 * The usage journal: where usage events wait on local disk when the store cannot take them in
 * time — the writer's memory buffer is full (a long outage at full load), or the gateway is
 * stopping and the store did not answer. Nothing here talks to the store; the writer replays.
 *
 * Each spill is one immutable segment (JSON lines), written under a temporary name, fsync'ed,
 * then renamed (and the directory fsync'ed): a segment is whole or absent. Segments are replayed
 * oldest first and deleted once every event in them is stored. A replay cut short and done again
 * is harmless: each event has its own id, and the store skips an event it already has.
 *
 * Several processes may share the directory (workers, the next run): a segment's name holds its
 * writer (process id and a per-writer tag). A writer replays its own segments and claims, by an
 * atomic rename, those of writers that are gone — the previous run's included. Disk use is
 * bounded: a spill that would pass `maxBytes` is refused whole (JournalFullError).
 */
import { randomBytes } from 'node:crypto'
import { constants } from 'node:fs'
import { access, mkdir, open, readdir, readFile, rename, stat, unlink } from 'node:fs/promises'
import path from 'node:path'
import type { Logger } from '../../../plugin-api/index.ts'
import type { UsageEvent } from '../../contracts/capabilities.ts'

export interface JournalSegment {
  /** The file's name in the journal directory. */
  readonly file: string
  /** Orders segments: oldest first. */
  readonly key: string
  readonly events: number
  readonly bytes: number
}

export class JournalFullError extends Error {
  constructor(dir: string, needed: number, used: number, max: number) {
    super(`the usage journal at ${dir} is full: ${used} of ${max} bytes used, a spill needs ${needed} more`)
  }
}

export interface UsageJournalOptions {
  readonly dir: string
  readonly maxBytes: number
  readonly logger: Logger
}

// u-<writer start ms>-<pid>-<tag>-<seq>-<events>.jsonl, then `.claimed-<pid>-<tag>` once another writer took it over.
const SEGMENT = /^(u-\d{13}-(\d+)-([0-9a-f]{8})-\d{10}-(\d+)\.jsonl)(?:\.claimed-(\d+)-([0-9a-f]{8}))?$/
const TEMPORARY = /^u-\d{13}-(\d+)-([0-9a-f]{8})-\d{10}-\d+\.jsonl\.tmp$/
/** Lines per write call: a 50,000-event spill is written in pieces, not one 20 MB string. */
const LINES_PER_WRITE = 2000

/** Writers alive in this process (several gateways share a process in tests). */
const liveTags = new Set<string>()

export class UsageJournal {
  readonly dir: string
  readonly #maxBytes: number
  readonly #logger: Logger
  readonly #tag = randomBytes(4).toString('hex')
  readonly #prefix = `u-${String(Date.now()).padStart(13, '0')}-${process.pid}-${this.#tag}`
  #seq = 0
  #segments: JournalSegment[] = []
  #bytes = 0
  #events = 0
  #created = false
  #writable = true

  private constructor(options: UsageJournalOptions) {
    this.dir = options.dir
    this.#maxBytes = options.maxBytes
    this.#logger = options.logger
  }

  /** Open the journal: take over the segments of writers that are gone. Creates nothing until the first spill. */
  static async open(options: UsageJournalOptions): Promise<UsageJournal> {
    const journal = new UsageJournal(options)
    liveTags.add(journal.#tag)
    await journal.#claimOrphans()
    await journal.#checkWritable()
    return journal
  }

  /** Whether the directory (or the nearest folder that exists on its path) could be written at open. */
  get writable(): boolean {
    return this.#writable
  }

  /** Segments waiting to be replayed, oldest first. */
  get segments(): readonly JournalSegment[] {
    return this.#segments
  }

  get events(): number {
    return this.#events
  }

  get bytes(): number {
    return this.#bytes
  }

  /** Write `events` as one new segment; durable once this resolves. Throws JournalFullError past the bound. */
  async append(events: readonly UsageEvent[]): Promise<JournalSegment> {
    const chunks: string[] = []
    let bytes = 0
    for (let i = 0; i < events.length; i += LINES_PER_WRITE) {
      const chunk = events.slice(i, i + LINES_PER_WRITE).map((e) => JSON.stringify(e)).join('\n') + '\n'
      bytes += Buffer.byteLength(chunk)
      chunks.push(chunk)
    }
    if (this.#bytes + bytes > this.#maxBytes) throw new JournalFullError(this.dir, bytes, this.#bytes, this.#maxBytes)
    if (!this.#created) {
      await mkdir(this.dir, { recursive: true })
      this.#created = true
    }
    const name = `${this.#prefix}-${String(++this.#seq).padStart(10, '0')}-${events.length}.jsonl`
    const temporary = path.join(this.dir, `${name}.tmp`)
    const file = await open(temporary, 'wx')
    try {
      for (const chunk of chunks) await file.write(chunk)
      await file.sync()
    } catch (err) {
      await file.close().catch(() => undefined)
      await unlink(temporary).catch(() => undefined)
      throw err
    }
    await file.close()
    await rename(temporary, path.join(this.dir, name))
    await this.#syncDirectory()
    const segment = { file: name, key: name, events: events.length, bytes }
    this.#add(segment)
    return segment
  }

  /** A segment's events, in the order they were written. A line that does not parse is logged and skipped. */
  async read(segment: JournalSegment): Promise<UsageEvent[]> {
    const text = await readFile(path.join(this.dir, segment.file), 'utf8')
    const events: UsageEvent[] = []
    const lines = text.split('\n')
    for (let i = 0; i < lines.length; i++) {
      if (lines[i] === '') continue
      try {
        const parsed = JSON.parse(lines[i]) as UsageEvent & { time: string }
        events.push({ ...parsed, time: new Date(parsed.time) })
      } catch {
        this.#logger.error({ file: segment.file, line: i + 1 }, 'usage journal: a line that is not JSON was skipped')
      }
    }
    return events
  }

  /** Forget a segment whose events are all stored. */
  async remove(segment: JournalSegment): Promise<void> {
    await unlink(path.join(this.dir, segment.file)).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err
    })
    const index = this.#segments.indexOf(segment)
    if (index < 0) return
    this.#segments.splice(index, 1)
    this.#bytes -= segment.bytes
    this.#events -= segment.events
  }

  /** This writer is done: its segments become claimable by the next one. */
  close(): void {
    liveTags.delete(this.#tag)
  }

  #add(segment: JournalSegment): void {
    this.#segments.push(segment)
    this.#segments.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    this.#bytes += segment.bytes
    this.#events += segment.events
  }

  async #claimOrphans(): Promise<void> {
    let names: string[]
    try {
      names = await readdir(this.dir)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return
      throw err
    }
    this.#created = true
    let claimed = 0
    for (const name of names) {
      const temporary = TEMPORARY.exec(name)
      if (temporary && isGone(Number(temporary[1]), temporary[2])) {
        // A spill cut short by a crash: its events were in that process's memory, never durable.
        await unlink(path.join(this.dir, name)).catch(() => undefined)
        continue
      }
      const match = SEGMENT.exec(name)
      if (!match) continue
      const [, key, pid, tag, events, claimerPid, claimerTag] = match
      if (!isGone(Number(claimerPid ?? pid), claimerTag ?? tag)) continue
      const file = `${key}.claimed-${process.pid}-${this.#tag}`
      try {
        await rename(path.join(this.dir, name), path.join(this.dir, file))
      } catch (err) {
        // Another writer claimed it first.
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue
        throw err
      }
      const { size } = await stat(path.join(this.dir, file))
      this.#add({ file, key, events: Number(events), bytes: size })
      claimed++
    }
    if (claimed) this.#logger.info({ dir: this.dir, segments: claimed, events: this.#events }, 'usage journal: events left by an earlier run are replayed once the store answers')
  }

  /** Known at start, not in the middle of an outage: whether the journal can be written. */
  async #checkWritable(): Promise<void> {
    let dir = this.dir
    for (;;) {
      try {
        await access(dir, constants.W_OK)
        return
      } catch (err) {
        const parent = path.dirname(dir)
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || parent === dir) break
        dir = parent
      }
    }
    this.#writable = false
  }

  async #syncDirectory(): Promise<void> {
    const dir = await open(this.dir, 'r')
    try {
      await dir.sync()
    } catch {
      // Some file systems do not sync directories; the rename is still atomic.
    } finally {
      await dir.close()
    }
  }
}

/** Whether the writer that owns a segment is gone: its process has ended, or it was this process's and is closed. */
function isGone(pid: number, tag: string): boolean {
  if (pid === process.pid) return !liveTags.has(tag)
  try {
    process.kill(pid, 0)
    return false
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code !== 'EPERM'
  }
}
