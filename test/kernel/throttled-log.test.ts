/** ThrottledLog (plugin-api/kit/throttled-log.ts): one line per topic per interval, saying how many occurrences it stands for. */
import { describe, expect, it } from 'vitest'
import { ThrottledLog } from '../../plugin-api/index.ts'

describe('ThrottledLog', () => {
  it('says the first occurrence at once, then one line per interval with the occurrences held back, per topic', () => {
    let now = 1_000
    const log = new ThrottledLog(60_000, () => now)
    const said: string[] = []
    const note = (topic: string) => log.note(topic, (held) => said.push(`${topic}:${held}`))

    note('lookup')
    for (let i = 0; i < 9; i++) { now += 1_000; note('lookup') }
    // Another topic has its own interval.
    note('refresh')
    expect(said).toEqual(['lookup:1', 'refresh:1'])

    now += 51_000 // the first line is now 60 s old
    note('lookup')
    expect(said).toEqual(['lookup:1', 'refresh:1', 'lookup:10'])
    now += 59_999
    note('lookup')
    expect(said).toHaveLength(3)
    now += 1
    note('lookup')
    expect(said.at(-1)).toBe('lookup:2')
  })
})
