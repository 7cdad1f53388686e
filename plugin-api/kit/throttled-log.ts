/**
 * A log line said at most once per interval for each topic, with how many times it was held back
 * since: a dead backend fails every request, and a line per request would bury the log (and cost
 * a write each) while saying nothing new.
 */
export class ThrottledLog {
  readonly #intervalMs: number
  readonly #clock: () => number
  /** Per topic: when its last line was said, and the occurrences since. */
  readonly #topics = new Map<string, { saidAt: number; held: number }>()

  constructor(intervalMs = 60_000, clock: () => number = Date.now) {
    this.#intervalMs = intervalMs
    this.#clock = clock
  }

  /**
   * One occurrence of `topic`: `say(held)` runs when the topic's last line is at least an interval
   * old (`held`: the occurrences since that line, this one included); otherwise it is only counted.
   */
  note(topic: string, say: (held: number) => void): void {
    const now = this.#clock()
    let state = this.#topics.get(topic)
    if (!state) this.#topics.set(topic, (state = { saidAt: -Infinity, held: 0 }))
    state.held++
    if (now - state.saidAt < this.#intervalMs) return
    const held = state.held
    state.saidAt = now
    state.held = 0
    say(held)
  }
}
