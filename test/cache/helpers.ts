/** What the cache suites share beyond the OpenAI-shaped upstream (test/helpers/openai-upstream.ts). */

/** Parse an SSE body into its `data:` payloads (JSON where it parses). */
export function sseData(text: string): unknown[] {
  return text.split('\n\n').filter((f) => f.includes('data: ')).map((f) => {
    const data = f.slice(f.indexOf('data: ') + 6)
    try { return JSON.parse(data) } catch { return data }
  })
}
