/**
 * One load run (autocannon) with its latencies kept exactly. autocannon's own percentiles come from
 * a histogram of whole milliseconds: at the bare proxy's p99 of 4-5 ms, one step of it moves the
 * gateway's "p99 vs bare" by a fifth or a quarter. Each 2xx response's time (autocannon measures it
 * with hrtime, as a fraction of a millisecond) is kept here instead, and the percentiles are read
 * from the sorted times.
 */
import autocannon from 'autocannon'

export interface LoadRun {
  readonly result: autocannon.Result
  /** Exact percentiles of the 2xx responses' times, in ms (0 when there were none). */
  readonly p50: number
  readonly p99: number
}

export async function load(options: autocannon.Options): Promise<LoadRun> {
  let times = new Float64Array(1 << 16)
  let count = 0
  let run: autocannon.Instance | undefined
  const done = new Promise<autocannon.Result>((resolve, reject) => {
    run = autocannon(options, (err: unknown, result: autocannon.Result) => (err ? reject(err) : resolve(result)))
  })
  run!.on('response', (_client, status, _bytes, ms) => {
    if (status < 200 || status >= 300) return
    if (count === times.length) {
      const grown = new Float64Array(times.length * 2)
      grown.set(times)
      times = grown
    }
    times[count++] = ms
  })
  const result = await done
  const sorted = times.subarray(0, count).sort()
  const at = (q: number): number => (count === 0 ? 0 : sorted[Math.min(count - 1, Math.ceil(q * count) - 1)])
  return { result, p50: at(0.5), p99: at(0.99) }
}
