/** A bound on waiting for a backend: a stage or plugin never waits without one. */

/** `promise`, or a rejection with `message` after `ms` (the promise itself is not cancelled). */
export function withDeadline<T>(promise: Promise<T>, ms: number, message = `no answer within ${ms} ms`): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms)
  })
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer))
}

/** Wait for `work` (its failure too), at most `ms`: whether it ended in time. */
export const within = (work: Promise<unknown>, ms: number): Promise<'done' | 'timeout'> =>
  withDeadline(work.then(() => 'done' as const, () => 'done' as const), ms).catch(() => 'timeout' as const)
