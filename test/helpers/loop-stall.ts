/**
 * How long the event loop of this process (and so of an in-process test gateway) is held by
 * synchronous work, measured in CPU time of the main thread rather than wall time. A wall clock
 * (a client's latency, monitorEventLoopDelay) also counts the time the OS leaves the thread waiting
 * for a core: at load 10-15 on 2 cores a loop that never blocks shows 50-75 ms gaps. The CPU time
 * the main thread spent between two turns of a 1 ms timer is what the code itself held the loop
 * for, whatever the load. Linux: /proc/self/task/<pid>/schedstat (its first field: ns on a CPU).
 * Elsewhere, or off the main thread, the wall clock stands in (only meaningful on a quiet machine).
 */
import { readFileSync } from 'node:fs'
import { isMainThread } from 'node:worker_threads'

export interface LoopStalls {
  /** The longest CPU time the main thread spent between two turns of the loop, in ms. */
  readonly maxCpuMs: number
  /** The longest wall time between two turns, in ms (for messages: what a client would have felt). */
  readonly maxWallMs: number
  /** Whether maxCpuMs is CPU time (false: it is the wall time, no per-thread clock here). */
  readonly cpuClock: boolean
}

const SCHEDSTAT = `/proc/self/task/${process.pid}/schedstat`

/** The main thread's CPU time in ms, or undefined when this system or thread has no such clock. */
function mainThreadCpuMs(): number | undefined {
  if (!isMainThread) return undefined
  try {
    return Number(readFileSync(SCHEDSTAT, 'utf8').split(' ')[0]) / 1e6
  } catch {
    return undefined
  }
}

/** Starts measuring; `stop()` returns the longest stall seen since. */
export function measureLoopStalls(): { stop(): LoopStalls } {
  const cpuClock = mainThreadCpuMs() !== undefined
  const cpuNow = () => (cpuClock ? mainThreadCpuMs()! : performance.now())
  let lastCpu = cpuNow()
  let lastWall = performance.now()
  let maxCpuMs = 0
  let maxWallMs = 0
  const turn = () => {
    const cpu = cpuNow()
    const wall = performance.now()
    maxCpuMs = Math.max(maxCpuMs, cpu - lastCpu)
    maxWallMs = Math.max(maxWallMs, wall - lastWall)
    lastCpu = cpu
    lastWall = wall
  }
  const timer = setInterval(turn, 1)
  return {
    stop() {
      clearInterval(timer)
      turn()
      return { maxCpuMs, maxWallMs, cpuClock }
    },
  }
}
