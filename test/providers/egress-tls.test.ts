/**
 * An https upstream signed by a company's own CA, reached through the company's egress proxy: the
 * real CLI, started with NODE_EXTRA_CA_CERTS and HTTPS_PROXY as an operator would, sends a chat
 * completion over TLS inside the proxy's CONNECT tunnel; without the CA the same call is a 502
 * (the certificate is not trusted), so the CA is what makes it work.
 */
import { execFileSync, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import https from 'node:https'
import type { AddressInfo } from 'node:net'
import os from 'node:os'
import path from 'node:path'
import OpenAI from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startCli } from '../helpers/cli.ts'
import { startForwardProxy, type ForwardProxy } from '../helpers/forward-proxy.ts'

const COMPLETION = {
  id: 'chatcmpl-tls', object: 'chat.completion', created: 1700000000, model: 'gpt-4o',
  choices: [{ index: 0, message: { role: 'assistant', content: 'Over TLS, through the proxy.', refusal: null }, finish_reason: 'stop', logprobs: null }],
  usage: { prompt_tokens: 3, completion_tokens: 6, total_tokens: 9 },
}

describe('an https upstream with a private CA, through the egress proxy', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gw-tls-'))
  let upstream: https.Server
  let proxy: ForwardProxy
  let config: string
  const children: ChildProcess[] = []

  beforeAll(async () => {
    // A self-signed certificate for localhost: its own CA.
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem'),
      '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost'], { stdio: 'ignore' })
    upstream = https.createServer({ key: readFileSync(path.join(dir, 'key.pem')), cert: readFileSync(path.join(dir, 'cert.pem')) }, (req, res) => {
      req.resume()
      req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(COMPLETION)))
    })
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve))
    proxy = await startForwardProxy()
    config = path.join(dir, 'gateway.yaml')
    writeFileSync(config, `version: 1
providers:
  oa: { plugin: openai, api_key: sk-test, base_url: "https://localhost:${(upstream.address() as AddressInfo).port}/v1" }
routes:
  - { model: chat, targets: [ { provider: oa, model: gpt-4o } ] }
`)
  })
  afterAll(async () => {
    for (const child of children) child.kill('SIGKILL')
    await proxy?.close()
    await new Promise((resolve) => upstream?.close(resolve))
  })

  const ask = async (env: NodeJS.ProcessEnv) => {
    const gw = await startCli(['--config', config, '--port', '0', '--no-watch'], { LOG_LEVEL: 'warn', HTTPS_PROXY: proxy.url, NO_PROXY: '127.0.0.1', ...env })
    children.push(gw.child)
    return new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', maxRetries: 0 }).chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'hi' }] })
  }

  it('with NODE_EXTRA_CA_CERTS the completion comes over TLS through the tunnel', async () => {
    const seenBefore = proxy.seen.length
    const answer = await ask({ NODE_EXTRA_CA_CERTS: path.join(dir, 'cert.pem') })
    expect(answer.choices[0].message.content).toBe('Over TLS, through the proxy.')
    expect(proxy.seen.slice(seenBefore)).toEqual([`localhost:${(upstream.address() as AddressInfo).port}`])
  })

  it('without the CA the certificate is refused: a 502', async () => {
    const failure = await ask({ NODE_EXTRA_CA_CERTS: '' }).then(() => undefined, (err: unknown) => err as InstanceType<typeof OpenAI.APIError>)
    expect(failure).toBeInstanceOf(OpenAI.APIError)
    expect(failure!.status).toBe(502)
    expect(failure!.message).toMatch(/CERT/)
  })
})
