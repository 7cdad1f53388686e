/** Poll `check` until it returns a truthy value or `timeoutMs` passes; returns the value and how long it took. */
export async function waitFor<T>(check: () => T | Promise<T>, timeoutMs = 5000, intervalMs = 10): Promise<{ value: T; ms: number }> {
  const start = performance.now()
  let last: unknown
  for (;;) {
    try {
      const value = await check()
      if (value) return { value, ms: performance.now() - start }
    } catch (err) {
      last = err
    }
    if (performance.now() - start > timeoutMs) throw new Error(`condition not met within ${timeoutMs} ms${last ? `: ${String(last)}` : ''}`)
    await new Promise((r) => setTimeout(r, intervalMs))
  }
}
