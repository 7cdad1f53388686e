/** A bound on waiting for a backend: a stage or plugin never waits without one. */

/** `promise`, or a rejection with `message` after `ms` (the promise itself is not cancelled). */
export function withDeadline<T>(promise: Promise<T>, ms: number, message = `no answer within ${ms} ms`): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms)
  })
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer))
}
