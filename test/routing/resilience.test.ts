import { afterEach, describe, expect, it, vi } from 'vitest'
import OpenAI from 'openai'
import path from 'node:path'
import os from 'node:os'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { startTestGateway, postJson, type RunningGateway } from '../helpers/gateway.ts'
import { waitFor } from '../helpers/wait.ts'
import { backoffMs } from '../../core/pipeline/call-targets.ts'
import { upstreamError } from '../../plugin-api/errors.ts'
import type { CompiledRetry } from '../../core/runtime/routes.ts'
import { ask, provider, routingFixtures } from './helpers.ts'
import { MODEL_SERIES_MAX } from '../../plugins/stages/routing/series.ts'

const { cleanup, gateway, upstream, chat } = routingFixtures()
const gaps = (times: number[]) => times.slice(1).map((t, i) => t - times[i])

describe('retries', () => {
  it('retries the same target, waiting the drawn backoff between attempts', async () => {
    const a = await upstream('a', [{ status: 500 }, { status: 503 }, { ok: 'third time' }])
    const gw = await gateway(`providers:\n${provider('a', a)}routes:\n  - model: r\n    retry: { attempts: 2, backoff_ms: 400, max_backoff_ms: 2000 }\n    targets: [ { provider: a } ]\n`)
    // The jitter draws its least (half the exponential delay): 200 ms, then 400. Without jitter
    // the waits would be 400 and 800; without the doubling, 200 and 200. The lower bounds hold
    // whatever the load (a timer never fires early); the upper ones leave 200 ms for the attempt
    // itself, which a loaded machine stretched past the old 80 ms.
    const random = vi.spyOn(Math, 'random').mockReturnValue(0)
    const res = await chat(gw).finally(() => random.mockRestore())
    expect(res.status).toBe(200)
    expect(res.body.choices[0].message.content).toBe('third time')
    expect(res.headers.get('x-gateway-attempts')).toBe('3')
    const [first, second] = gaps(a.times)
    expect(first).toBeGreaterThanOrEqual(200)
    expect(first).toBeLessThan(400)
    expect(second).toBeGreaterThanOrEqual(400)
    expect(second).toBeLessThan(800)
  })

  it('draws the backoff between half and all of an exponential delay, capped at max_backoff_ms', () => {
    const policy: CompiledRetry = { attempts: 5, backoffMs: 100, maxBackoffMs: 1000, on: () => true }
    const failed = upstreamError(500, 'boom')
    const drawn = (random: number, retry: number, error = failed) => {
      const spy = vi.spyOn(Math, 'random').mockReturnValue(random)
      try {
        return backoffMs(policy, retry, error)
      } finally {
        spy.mockRestore()
      }
    }
    expect([0, 1, 2, 3, 4].map((retry) => drawn(0, retry))).toEqual([50, 100, 200, 400, 500])
    expect([0, 1, 2, 3, 4].map((retry) => drawn(0.5, retry))).toEqual([75, 150, 300, 600, 750])
    // A retry-after within max_backoff_ms is waited at least; a longer one gives up on the target.
    expect(drawn(0, 0, upstreamError(429, 'slow down', { retryAfter: '0.8' }))).toBe(800)
    expect(drawn(0, 0, upstreamError(429, 'slow down', { retryAfter: '2' }))).toBeUndefined()
  })

  it('honours an upstream retry-after', async () => {
    const a = await upstream('a', [{ status: 429, retryAfter: '1' }, { ok: 'after waiting' }])
    const gw = await gateway(`providers:\n${provider('a', a)}routes:\n  - model: r\n    retry: { attempts: 1, backoff_ms: 10, max_backoff_ms: 3000 }\n    targets: [ { provider: a } ]\n`)
    const res = await chat(gw)
    expect(res.status).toBe(200)
    expect(gaps(a.times)[0]).toBeGreaterThanOrEqual(990)
  })

  it('moves to the next target at once when retry-after is longer than max_backoff_ms', async () => {
    const a = await upstream('a', [{ status: 429, retryAfter: '60' }])
    const b = await upstream('b', [{ ok: 'b' }])
    const gw = await gateway(`providers:\n${provider('a', a)}${provider('b', b)}routes:\n  - model: r\n    retry: { attempts: 3, backoff_ms: 10, max_backoff_ms: 2000 }\n    targets: [ { provider: a }, { provider: b } ]\n`)
    const started = performance.now()
    const res = await chat(gw)
    expect(res.status).toBe(200)
    expect(a.requests).toHaveLength(1)
    expect(performance.now() - started).toBeLessThan(1000)
  })

  it('a single target that is rate-limited answers 429 with retry-after kept', async () => {
    const a = await upstream('a', [{ status: 429, retryAfter: '7' }])
    const gw = await gateway(`providers:\n${provider('a', a)}routes:\n  - model: r\n    targets: [ { provider: a } ]\n`)
    const res = await chat(gw)
    expect(res.status).toBe(429)
    expect(res.headers.get('retry-after')).toBe('7')
    expect(res.body.error.type).toBe('rate_limit_error')
  })

  it('retries only the failure kinds listed in `on`', async () => {
    const a = await upstream('a', [{ status: 500 }, { ok: 'retried' }])
    const gw = await gateway(`providers:\n${provider('a', a)}routes:\n  - model: r\n    retry: { attempts: 2, backoff_ms: 1, on: [429, timeout] }\n    targets: [ { provider: a } ]\n`)
    expect((await chat(gw)).status).toBe(502)
    expect(a.requests).toHaveLength(1)
  })
})

describe('timeouts', () => {
  it('gives up on an attempt after timeout_ms with 504', async () => {
    const a = await upstream('a', [{ hang: true }])
    const gw = await gateway(`providers:\n${provider('a', a)}routes:\n  - model: r\n    timeout_ms: 200\n    targets: [ { provider: a } ]\n`)
    const started = performance.now()
    const res = await chat(gw)
    expect(res.status).toBe(504)
    expect(res.body.error.code).toBe('upstream_timeout')
    expect(performance.now() - started).toBeGreaterThanOrEqual(190)
    expect(performance.now() - started).toBeLessThan(1500)
    await waitFor(() => a.aborted === 1, 1000) // the upstream request was cancelled, not left running
  })

  it('falls back when a stream gives no first token within first_token_timeout_ms', async () => {
    const a = await upstream('a', [{ stream: ['late'], firstDelayMs: 1000 }])
    const b = await upstream('b', [{ stream: ['on', ' time'] }])
    const gw = await gateway(`providers:\n${provider('a', a)}${provider('b', b)}routes:\n  - model: r\n    first_token_timeout_ms: 200\n    targets: [ { provider: a }, { provider: b } ]\n`)
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'x', maxRetries: 0 })
    const started = performance.now()
    let text = ''
    for await (const c of await client.chat.completions.create({ ...ask, stream: true } as OpenAI.ChatCompletionCreateParamsStreaming)) text += c.choices[0]?.delta?.content ?? ''
    expect(text).toBe('on time')
    expect(performance.now() - started).toBeLessThan(900)
  })

  it('a per-target timeout overrides the route\'s', async () => {
    const a = await upstream('a', [{ ok: 'slowish', delayMs: 300 }])
    const gw = await gateway(`providers:\n${provider('a', a)}routes:
  - model: r
    timeout_ms: 100
    targets: [ { provider: a, timeout_ms: 10000 } ]
  - model: route-only
    timeout_ms: 100
    targets: [ { provider: a } ]
`)
    const waited = await chat(gw)
    expect(waited.status).toBe(200)
    expect(waited.body.choices[0].message.content).toBe('slowish')
    // The same answer under the route's 100 ms alone is a timeout: the target's own setting made the difference.
    const cut = await chat(gw, { ...ask, model: 'route-only' })
    expect(cut.status).toBe(504)
    expect(cut.body.error.code).toBe('upstream_timeout')
  })
})

describe('streams that fail after the first byte', () => {
  it('end with an error event the SDK raises, and do not fall back', async () => {
    const a = await upstream('a', [{ stream: ['one', ' two', ' three'], dieAfter: 1 }])
    const b = await upstream('b', [{ stream: ['never'] }])
    const gw = await gateway(`providers:\n${provider('a', a)}${provider('b', b)}routes:\n  - model: r\n    targets: [ { provider: a }, { provider: b } ]\n`)
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'x', maxRetries: 0 })
    let text = ''
    const consume = async () => {
      for await (const c of await client.chat.completions.create({ ...ask, stream: true } as OpenAI.ChatCompletionCreateParamsStreaming)) text += c.choices[0]?.delta?.content ?? ''
    }
    await expect(consume()).rejects.toThrow()
    expect(text).toBe('one')
    expect(b.requests).toHaveLength(0)
  })
})

describe('circuit breaker', () => {
  it('opens after repeated failures, skips the target, then probes it after the cooldown', async () => {
    const a = await upstream('a', [{ status: 500 }])
    const b = await upstream('b', [{ ok: 'b' }])
    const gw = await gateway(`providers:\n${provider('a', a)}${provider('b', b)}routes:\n  - model: r\n    circuit: { failures: 3, window_s: 10, cooldown_s: 0.5 }\n    targets: [ { provider: a }, { provider: b } ]\n`)
    for (let i = 0; i < 3; i++) expect((await chat(gw)).status).toBe(200)
    expect(a.requests).toHaveLength(3)
    const state = async () => (await (await fetch(`${gw.url}/api/v1/admin/routes`)).json()).data[0].targets[0].circuit.state
    expect(await state()).toBe('open')

    for (let i = 0; i < 5; i++) expect((await chat(gw)).headers.get('x-gateway-attempts')).toBe('1') // a skipped
    expect(a.requests).toHaveLength(3)

    await new Promise((r) => setTimeout(r, 600))
    a.script.splice(0, a.script.length, { ok: 'a is back' })
    const probe = await chat(gw) // half-open: one probe goes to a, and succeeds
    expect(probe.body.choices[0].message.content).toBe('a is back')
    expect(await state()).toBe('closed')
  })

  it('answers 503 circuit_open with retry-after when every target is open', async () => {
    const a = await upstream('a', [{ status: 500 }])
    const gw = await gateway(`providers:\n${provider('a', a)}routes:\n  - model: r\n    circuit: { failures: 2, window_s: 10, cooldown_s: 5 }\n    targets: [ { provider: a } ]\n`)
    await chat(gw)
    await chat(gw)
    const res = await chat(gw)
    expect(res.status).toBe(503)
    expect(res.body.error.code).toBe('circuit_open')
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(4)
    expect(a.requests).toHaveLength(2)
  })

  it('keeps a breaker per model a glob target sends: gpt-4o rate limited leaves gpt-4o-mini of the same route open', async () => {
    const a = await upstream('a', [{ status: 429 }, { status: 429 }, { ok: 'mini answers' }])
    const gw = await gateway(`providers:\n${provider('a', a)}routes:\n  - model: 'gpt-*'\n    retry: { attempts: 0 }\n    circuit: { failures: 2, window_s: 10, cooldown_s: 30 }\n    targets: [ { provider: a } ]\n`)
    const big = { ...ask, model: 'gpt-4o' }
    expect((await chat(gw, big)).status).toBe(429)
    expect((await chat(gw, big)).status).toBe(429)
    expect((await chat(gw, big)).body.error.code).toBe('circuit_open')
    const mini = await chat(gw, { ...ask, model: 'gpt-4o-mini' })
    expect(mini.status, JSON.stringify(mini.body)).toBe(200)
    expect(mini.body.choices[0].message.content).toBe('mini answers')
    expect(a.requests.map((r) => r.body.model)).toEqual(['gpt-4o', 'gpt-4o', 'gpt-4o-mini'])
  })

  it('bounds gateway_circuit_state on a glob route (a model has a series only while its breaker is not closed, at most MODEL_SERIES_MAX at once), and counts and lists the rest', async () => {
    const a = await upstream('a', [{ status: 500 }])
    const gw = await gateway(`providers:\n${provider('a', a)}routes:\n  - model: 'm-*'\n    retry: { attempts: 0 }\n    circuit: { failures: 1, window_s: 10, cooldown_s: 0.3 }\n    targets: [ { provider: a } ]\n`)
    const metrics = async () => (await (await fetch(`${gw.url}/metrics`)).text()).split('\n')
    const series = async () => (await metrics()).filter((l) => l.startsWith('gateway_circuit_state{'))
    const totals = async () => (await metrics()).filter((l) => l.startsWith('gateway_circuit_glob_models'))
    const openModels = async () => (await (await fetch(`${gw.url}/api/v1/admin/routes`)).json()).data[0].targets[0].open_models as { model: string; state: string; retry_in_ms: number }[]
    const models = Array.from({ length: MODEL_SERIES_MAX + 16 }, (_, i) => `m-${i}`)
    for (const model of models) expect((await chat(gw, { ...ask, model })).status).toBe(502)
    // Every model's breaker is open; only the first MODEL_SERIES_MAX have a series, the 16 others are counted as without one.
    expect((await chat(gw, { ...ask, model: models.at(-1) })).body.error.code).toBe('circuit_open')
    const open = await series()
    expect(open).toHaveLength(MODEL_SERIES_MAX)
    expect(open).toContain('gateway_circuit_state{target="a/m-0"} 2')
    expect(await totals()).toEqual(expect.arrayContaining([
      `gateway_circuit_glob_models{state="open"} ${models.length}`, 'gateway_circuit_glob_models{state="half-open"} 0', 'gateway_circuit_glob_models_without_series 16',
    ]))
    // The admin API lists every one, series or not.
    const listed = await openModels()
    expect(listed).toHaveLength(models.length)
    expect(listed.find((m) => m.model === models.at(-1))).toMatchObject({ state: 'open', recent_failures: 0 })

    await new Promise((r) => setTimeout(r, 350))
    a.script.splice(0, a.script.length, { ok: 'back' })
    for (const model of models.slice(0, 10)) expect((await chat(gw, { ...ask, model })).status).toBe(200) // the probe closes it
    // The 10 series freed go to the 10 models waiting longest: still MODEL_SERIES_MAX series, 6 without.
    const after = await series()
    expect(after).toHaveLength(MODEL_SERIES_MAX)
    expect(after.some((l) => l.includes('"a/m-0"'))).toBe(false)
    expect(after).toContain('gateway_circuit_state{target="a/m-10"} 2')
    expect(after).toContain(`gateway_circuit_state{target="a/m-${MODEL_SERIES_MAX + 9}"} 2`)
    expect(after.some((l) => l.includes(`"a/m-${MODEL_SERIES_MAX + 10}"`))).toBe(false)
    expect(await totals()).toEqual(expect.arrayContaining([`gateway_circuit_glob_models{state="open"} ${models.length - 10}`, 'gateway_circuit_glob_models_without_series 6']))
    expect((await openModels()).map((m) => m.model)).toEqual(models.slice(10).sort())
  })

  it('reopens when the half-open probe fails', async () => {
    const a = await upstream('a', [{ status: 500 }])
    const gw = await gateway(`providers:\n${provider('a', a)}routes:\n  - model: r\n    circuit: { failures: 1, window_s: 10, cooldown_s: 0.2 }\n    targets: [ { provider: a } ]\n`)
    await chat(gw)
    expect((await chat(gw)).body.error.code).toBe('circuit_open')
    await new Promise((r) => setTimeout(r, 250))
    expect((await chat(gw)).body.error.code).toBe('upstream_error') // the probe
    expect((await chat(gw)).body.error.code).toBe('circuit_open')
    expect(a.requests).toHaveLength(2)
  })
})

describe('when: conditional routing, first matching route wins', () => {
  const AUTH = `plugins: [ ${path.resolve('test/fixtures/plugins/header-auth')} ]\nauth:\n  strategies: [ { plugin: header } ]\n`
  const routes = `providers:
  research: { plugin: mock, reply: research }
  admins: { plugin: mock, reply: admins }
  alice: { plugin: mock, reply: alice }
  beta: { plugin: mock, reply: beta }
  eu: { plugin: mock, reply: eu }
  flagged: { plugin: mock, reply: flagged }
  default: { plugin: mock, reply: default }
features: { new_model: true, old_model: false }
routes:
  - { model: chat, when: { users: [alice] }, targets: [ { provider: alice } ] }
  - { model: chat, when: { departments: [research] }, targets: [ { provider: research } ] }
  - { model: chat, when: { roles: [admin] }, targets: [ { provider: admins } ] }
  - { model: chat, when: { headers: { x-tenant: [beta, beta2] } }, targets: [ { provider: beta } ] }
  - { model: chat, when: { metadata: { region: eu } }, targets: [ { provider: eu } ] }
  - { model: chat, when: { feature: old_model }, targets: [ { provider: flagged } ] }
  - { model: chat, targets: [ { provider: default } ] }
  - { model: gated, when: { feature: new_model }, targets: [ { provider: flagged } ] }
  - { model: hidden, when: { feature: old_model }, targets: [ { provider: flagged } ] }
`
  const who = (user: string, extra: Record<string, string> = {}) => ({ 'x-test-user': user, ...extra })
  const reply = async (gw: RunningGateway, headers: Record<string, string>, body: object = { ...ask, model: 'chat' }) => (await chat(gw, body, headers)).body.choices?.[0]?.message?.content

  it('matches on user, department, role, header, metadata and feature flag', async () => {
    const gw = await gateway(AUTH + routes)
    expect(await reply(gw, who('alice', { 'x-test-dept': 'research' }))).toBe('alice')
    expect(await reply(gw, who('bob', { 'x-test-dept': 'research' }))).toBe('research')
    expect(await reply(gw, who('carol', { 'x-test-role': 'admin' }))).toBe('admins')
    expect(await reply(gw, who('dave', { 'x-tenant': 'beta2' }))).toBe('beta')
    expect(await reply(gw, who('erin'), { ...ask, model: 'chat', metadata: { region: 'eu' } })).toBe('eu')
    expect(await reply(gw, who('frank'))).toBe('default')
    expect(await reply(gw, who('frank'), { ...ask, model: 'gated' })).toBe('flagged')
    expect((await chat(gw, { ...ask, model: 'hidden' }, who('frank'))).status).toBe(404)
  })

  it('lists only the routes a caller may use in /v1/models', async () => {
    const gw = await gateway(AUTH + routes + `  - { model: research-only, when: { departments: [research] }, targets: [ { provider: research } ] }\n`)
    const ids = async (headers: Record<string, string>) => ((await (await fetch(`${gw.url}/v1/models`, { headers })).json()) as { data: { id: string }[] }).data.map((m) => m.id)
    expect(await ids(who('x', { 'x-test-dept': 'research' }))).toEqual(['chat', 'gated', 'research-only'])
    expect(await ids(who('y', { 'x-test-dept': 'sales' }))).toEqual(['chat', 'gated'])
  })
})

describe('names: globs and aliases', () => {
  it('matches a glob, passing the requested name through, and answers aliases', async () => {
    const a = await upstream('a', [{ ok: 'a' }])
    const gw = await gateway(`providers:\n${provider('a', a)}  m: { plugin: mock }\nroutes:\n  - { model: "claude-*", targets: [ { provider: a } ] }\n  - { model: fast, aliases: [quick, speedy], targets: [ { provider: m } ] }\n`)
    expect((await chat(gw, { ...ask, model: 'claude-3-5-haiku' })).status).toBe(200)
    expect(a.requests[0].body.model).toBe('claude-3-5-haiku')
    expect((await chat(gw, { ...ask, model: 'quick' })).headers.get('x-gateway-route')).toBe('fast')
    expect((await chat(gw, { ...ask, model: 'gpt-4o' })).status).toBe(404)
    const ids = ((await (await fetch(`${gw.url}/v1/models`)).json()) as { data: { id: string }[] }).data.map((m) => m.id)
    expect(ids).toEqual(['fast', 'quick', 'speedy'])
  })
})

describe('per-target overrides', () => {
  it('sends the target\'s model, default params (client values win) and headers', async () => {
    const a = await upstream('a', [{ ok: 'a' }])
    const gw = await gateway(`providers:\n${provider('a', a)}routes:\n  - model: r\n    targets: [ { provider: a, model: up-1, params: { max_tokens: 77, temperature: 0.1 }, headers: { x-team: blue } } ]\n`)
    await chat(gw, { ...ask, temperature: 0.9 })
    // provider.openai sends max_tokens under the name OpenAI's reasoning models require.
    expect(a.requests[0].body).toMatchObject({ model: 'up-1', max_completion_tokens: 77, temperature: 0.9 })
    expect(a.requests[0].headers['x-team']).toBe('blue')
  })
})

describe('client cancellation', () => {
  it('aborts the upstream call when the client goes away', async () => {
    const a = await upstream('a', [{ ok: 'too late', delayMs: 3000 }])
    const gw = await gateway(`providers:\n${provider('a', a)}routes:\n  - model: r\n    targets: [ { provider: a } ]\n`)
    const controller = new AbortController()
    const request = fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(ask), signal: controller.signal })
    await waitFor(() => a.requests.length === 1, 2000)
    controller.abort()
    await expect(request).rejects.toThrow()
    await waitFor(() => a.aborted === 1, 1000)
  })

  it('aborts the upstream call when the client goes away on a route with a timeout (the attempt follows the client)', async () => {
    const a = await upstream('a', [{ ok: 'too late', delayMs: 3000 }])
    const gw = await gateway(`providers:\n${provider('a', a)}routes:\n  - model: r\n    timeout_ms: 10000\n    targets: [ { provider: a } ]\n`)
    const controller = new AbortController()
    const request = fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(ask), signal: controller.signal })
    await waitFor(() => a.requests.length === 1, 2000)
    controller.abort()
    await expect(request).rejects.toThrow()
    await waitFor(() => a.aborted === 1, 1000)
  })

  it('aborts an upstream stream when the client stops reading', async () => {
    const a = await upstream('a', [{ stream: Array.from({ length: 50 }, (_, i) => ` w${i}`), delayMs: 40 }])
    const gw = await gateway(`providers:\n${provider('a', a)}routes:\n  - model: r\n    targets: [ { provider: a } ]\n`)
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'x', maxRetries: 0 })
    const stream = await client.chat.completions.create({ ...ask, stream: true } as OpenAI.ChatCompletionCreateParamsStreaming)
    let n = 0
    for await (const _ of stream) if (++n === 3) break // breaking aborts the SDK's request
    await waitFor(() => a.aborted === 1, 2000)
  })
})

describe('hot reload of routes', () => {
  it('sends new requests to the new target while an in-flight one finishes on the old', async () => {
    const old = await upstream('old', [{ ok: 'old', delayMs: 400 }])
    const fresh = await upstream('fresh', [{ ok: 'fresh' }])
    const dir = await mkdtemp(path.join(os.tmpdir(), 'gw-route-reload-'))
    cleanup.push(() => rm(dir, { recursive: true, force: true }))
    const file = path.join(dir, 'gateway.yaml')
    const yaml = (p: string) => `version: 1\nproviders:\n${provider('old', old)}${provider('fresh', fresh)}routes:\n  - model: r\n    targets: [ { provider: ${p} } ]\n`
    await writeFile(file, yaml('old'))
    const gw = await startTestGateway({ file }, { watch: true })
    cleanup.push(() => gw.close())
    const inflight = chat(gw)
    await waitFor(() => old.requests.length === 1, 2000)
    const before = gw.controller.current.version
    await writeFile(file, yaml('fresh'))
    await waitFor(() => gw.controller.current.version !== before, 1000)
    expect((await chat(gw)).body.choices[0].message.content).toBe('fresh')
    const finished = await inflight
    expect(finished.status).toBe(200)
    expect(finished.body.choices[0].message.content).toBe('old')
    expect(old.requests).toHaveLength(1)
  })
})
