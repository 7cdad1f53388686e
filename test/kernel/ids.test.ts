import { describe, expect, it } from 'vitest'
import { randomUuid, timeOrderedUuid } from '../../plugin-api/index.ts'

const V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/
const V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

describe('ids (the plugin API)', () => {
  it('makes version 4 UUIDs, none repeated across many refills of its random pool', () => {
    const ids = Array.from({ length: 20_000 }, () => randomUuid())
    for (const id of ids.slice(0, 600)) expect(id).toMatch(V4)
    expect(new Set(ids).size).toBe(ids.length)
    // Random bits: every hex digit turns up in every free position over many ids.
    const seen = Array.from({ length: 36 }, () => new Set<string>())
    for (const id of ids) for (let i = 0; i < 36; i++) seen[i].add(id[i])
    const free = [...Array(36).keys()].filter((i) => ![8, 13, 14, 18, 19, 23].includes(i))
    for (const i of free) expect(seen[i].size, `position ${i}`).toBe(16)
  })

  it('makes version 7 UUIDs that carry their time and sort by it', () => {
    const at = Date.UTC(2026, 11, 6, 10, 30, 0, 123)
    const id = timeOrderedUuid(at)
    expect(id).toMatch(V7)
    expect(Number.parseInt(id.slice(0, 8) + id.slice(9, 13), 16)).toBe(at)
    const later = Array.from({ length: 600 }, (_, i) => timeOrderedUuid(at + i))
    expect([...later].sort()).toEqual(later)
    expect(new Set(Array.from({ length: 5000 }, () => timeOrderedUuid(at))).size).toBe(5000)
    const now = Date.now()
    const stamped = Number.parseInt(timeOrderedUuid().replace('-', '').slice(0, 12), 16)
    expect(stamped).toBeGreaterThanOrEqual(now)
    expect(stamped).toBeLessThan(now + 1000)
  })
})
