/**
 * The sweep that frees expired vector stores' chunks is bounded: one pass deletes at most 20,000
 * chunks, 1,000 a statement, looking at 10 stores, and leaves the rest to the next pass (a pass
 * shares the store's one connection with requests). The repository is stood in for here: the
 * gateway-level behaviour (expired stores' chunks freed, others kept) is in vector-store-expiry.test.ts.
 */
import { describe, expect, it } from 'vitest'
import { freeExpiredChunks } from '../../plugins/services/rag/expiry.ts'

function repoOf(chunks: Map<string, number>) {
  const deletes: number[] = []
  return {
    deletes,
    async expiredWithChunks(limit: number) { return [...chunks].filter(([, n]) => n > 0).slice(0, limit).map(([id]) => id) },
    async freeExpiredChunks(id: string, limit: number) {
      const n = Math.min(limit, chunks.get(id) ?? 0)
      chunks.set(id, (chunks.get(id) ?? 0) - n)
      deletes.push(limit)
      return n
    },
  }
}

describe('freeing expired vector stores\' chunks', () => {
  it('deletes at most 20,000 chunks a pass, 1,000 a statement, and the rest in later passes', async () => {
    const chunks = new Map([['a', 15_000], ['b', 15_000], ['c', 2_500]])
    const repo = repoOf(chunks)
    expect(await freeExpiredChunks(repo)).toBe(20_000)
    expect(Math.max(...repo.deletes)).toBe(1000)
    expect([...chunks.values()].reduce((a, b) => a + b)).toBe(12_500)
    expect(await freeExpiredChunks(repo)).toBe(12_500)
    expect(await freeExpiredChunks(repo)).toBe(0)
    expect([...chunks.values()]).toEqual([0, 0, 0])
  })

  it('looks at 10 stores a pass', async () => {
    const chunks = new Map(Array.from({ length: 25 }, (_, i) => [`s${i}`, 10] as [string, number]))
    const repo = repoOf(chunks)
    expect(await freeExpiredChunks(repo)).toBe(100)
    expect([...chunks.values()].filter((n) => n > 0)).toHaveLength(15)
  })
})
