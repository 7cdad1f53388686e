/**
 * A third party's plugin as the README's "Plugins" section writes it, run as written: its code and
 * its gateway.yaml are read from the README, put in a folder outside the gateway (an npm-style
 * package of its own, which node's resolution cannot reach `ai-gateway` from), and served by the
 * real `gateway` CLI to the official OpenAI SDK, against a mock of the wire the example speaks.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import os from 'node:os'
import path from 'node:path'
import OpenAI from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runCli, startCli } from '../helpers/cli.ts'
import { readmeBlock } from '../helpers/readme.ts'

describe("the README's plugin, from a folder outside the gateway", () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gw-outside-plugin-'))
  const seen: { authorization?: string; body: { model: string; prompt: string } }[] = []
  let upstream: Server
  let gateway: Awaited<ReturnType<typeof startCli>> | undefined

  beforeAll(async () => {
    // Acme's wire, as the example's comment describes it.
    upstream = createServer((req, res) => {
      let body = ''
      req.on('data', (d) => (body += d))
      req.on('end', () => {
        const parsed = JSON.parse(body) as { model: string; prompt: string }
        seen.push({ authorization: req.headers.authorization, body: parsed })
        if (req.url !== '/complete' || req.method !== 'POST') return res.writeHead(404).end('no such route')
        if (parsed.prompt === 'busy') return res.writeHead(429, { 'retry-after': '7' }).end('slow down')
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ text: `acme heard: ${parsed.prompt}`, tokens_in: 3, tokens_out: 4 }))
      })
    })
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve))

    mkdirSync(path.join(dir, 'acme'))
    writeFileSync(path.join(dir, 'acme', 'package.json'), JSON.stringify({ name: 'acme-gateway-plugin', version: '1.0.0', type: 'module', main: 'index.ts' }))
    writeFileSync(path.join(dir, 'acme', 'index.ts'), readmeBlock('\n## Plugins\n', 'ts'))
    writeFileSync(path.join(dir, 'gateway.yaml'), readmeBlock('Put it in a folder of its own', 'yaml'))
    gateway = await startCli(['--config', path.join(dir, 'gateway.yaml'), '--port', '0', '--no-watch'], {
      ACME_URL: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`, ACME_API_KEY: 'acme-secret-1', GATEWAY_DATA_DIR: dir,
    })
  }, 90_000)
  afterAll(async () => {
    gateway?.child.kill('SIGTERM')
    await gateway?.exited
    upstream?.close()
    rmSync(dir, { recursive: true, force: true })
  })

  const client = () => new OpenAI({ baseURL: `${gateway!.url}/v1`, apiKey: 'unused', maxRetries: 0 })

  it('answers through the official SDK, calling the upstream with its configured key and the target model', async () => {
    const answer = await client().chat.completions.create({ model: 'acme-small', messages: [{ role: 'user', content: 'hello' }] })
    expect(answer.choices[0].message.content).toBe('acme heard: hello')
    expect(answer.usage).toMatchObject({ prompt_tokens: 3, completion_tokens: 4 })
    expect(seen.at(-1)).toEqual({ authorization: 'Bearer acme-secret-1', body: { model: 'small', prompt: 'hello' } })
  })

  it('streams to a client that asks for a stream, though the provider answers whole', async () => {
    let text = ''
    let usage: OpenAI.CompletionUsage | undefined | null
    for await (const chunk of await client().chat.completions.create({ model: 'acme-small', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'one two' }] })) {
      text += chunk.choices[0]?.delta?.content ?? ''
      usage = chunk.usage ?? usage
    }
    expect(text).toBe('acme heard: one two')
    expect(usage).toMatchObject({ prompt_tokens: 3, completion_tokens: 4 })
  })

  it("passes the upstream's refusal on by its shape: status, retry-after, the provider named", async () => {
    const refused = await client().chat.completions.create({ model: 'acme-small', messages: [{ role: 'user', content: 'busy' }] }).catch((err: unknown) => err)
    expect(refused).toBeInstanceOf(OpenAI.RateLimitError)
    expect((refused as InstanceType<typeof OpenAI.RateLimitError>).headers.get('retry-after')).toBe('7')
    expect((refused as Error).message).toMatch(/acme: slow down/)
  })

  it('refuses, naming what is published, a plugin that imports the gateway beyond its exports', async () => {
    mkdirSync(path.join(dir, 'reaching'))
    writeFileSync(path.join(dir, 'reaching', 'index.mjs'), "export { builtinRegistry as default } from 'ai-gateway/core/plugins/loader'\n")
    writeFileSync(path.join(dir, 'reaching.yaml'), 'version: 1\nplugins: [ ./reaching ]\n')
    const { code, stdout } = await runCli(['validate', path.join(dir, 'reaching.yaml')])
    expect(code).toBe(1)
    expect(stdout).toContain(`reaching.yaml:2:12 plugins[0]: cannot load plugin './reaching': 'ai-gateway/core/plugins/loader' is not part of the gateway's published API (ai-gateway/plugin, ai-gateway/contracts/*, ai-gateway/data, ai-gateway/schema)`)
  })
})
