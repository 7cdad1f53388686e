/**
 * Prices and routes for the budget suites. At $1 a token (pricing: { input: 1000000, output:
 * 1000000 }), PROMPT is 7 tokens both for the mock (7 words) and for the admission estimate (27
 * bytes / 4, rounded up), and the mock answers FIVE (5 words): with max_tokens 5 each request
 * reserves $12 and costs $12. `slow` streams 20 words, one every 150 ms; `broken` answers 502;
 * `hang` answers after a minute; `cached` caches every answer.
 */
export const PROMPT = 'aaa bbb ccc ddd eee fff ggg'
export const FIVE = 'one two three four five'

/** Providers, routes and prices every budget suite here uses. */
export const PRICED_ROUTES = `providers:
  mock: { plugin: mock, reply: "${FIVE}", latency_ms: 30 }
  slow: { plugin: mock, reply: "w01 w02 w03 w04 w05 w06 w07 w08 w09 w10 w11 w12 w13 w14 w15 w16 w17 w18 w19 w20", chunk_delay_ms: 150 }
  broken: { plugin: mock, fail_status: 502 }
  hang: { plugin: mock, latency_ms: 60000 }
routes:
  - model: mock
    targets: [ { provider: mock, model: dear } ]
  - model: slow
    targets: [ { provider: slow, model: dear } ]
  - model: broken
    targets: [ { provider: broken, model: dear } ]
  - model: hang
    targets: [ { provider: hang, model: dear } ]
  - model: cached
    cache: true
    targets: [ { provider: mock, model: dear } ]
pricing:
  dear: { input: 1000000, output: 1000000 }
`
