/**
 * Egress through the company's proxy: where the environment names one (HTTPS_PROXY, HTTP_PROXY,
 * either case, NO_PROXY for the hosts reached directly, as curl and most HTTP clients read them),
 * every upstream call goes through it: the kit's pooled clients, and fetch, on which the providers'
 * SDKs make their calls off the hot path (model lists, files, fine-tuning) and the gateway fetches
 * an issuer's keys. Without one, calls go direct and nothing of the proxy code is loaded.
 */
import { createRequire } from 'node:module'
import type { Agent as AgentType, Dispatcher, EnvHttpProxyAgent as EnvHttpProxyAgentType } from 'undici'
// Only the Agent (and the pool, client and HTTP/1.1 parser beneath it): undici's index also loads
// fetch, WebSocket, the cache and the mock agent, 110 modules and ~75 ms of CPU at every start
// against 31 modules and ~26 ms (bench/RESULTS.md, start). The same module the index re-exports.
import Agent from 'undici/lib/dispatcher/agent.js'

const require = createRequire(import.meta.url)

/** The proxy the environment names for https (else http) upstreams, if any. */
function environmentProxy(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return env.https_proxy || env.HTTPS_PROXY || env.http_proxy || env.HTTP_PROXY || undefined
}

let proxyAgent: typeof EnvHttpProxyAgentType | undefined

/** The environment's proxy agent class, loaded on first need; fetch routed through it from then on. */
function proxyAgentClass(): typeof EnvHttpProxyAgentType | undefined {
  if (!environmentProxy()) return undefined
  if (!proxyAgent) {
    // undici's index, not the agent's module alone: the index also gives dispatchers their
    // `connect()`, which a CONNECT tunnel (every https upstream) is made with. Loaded only here.
    const undici = require('undici') as typeof import('undici')
    proxyAgent = undici.EnvHttpProxyAgent
    // Undici's global dispatcher, which Node's fetch uses.
    undici.setGlobalDispatcher(new proxyAgent())
  }
  return proxyAgent
}

/** A dispatcher for upstream calls with these pool options: through the environment's proxy (hosts in NO_PROXY direct), or direct when it names none. */
export function upstreamDispatcher(options: AgentType.Options): Dispatcher {
  const ProxyAgent = proxyAgentClass()
  return ProxyAgent ? new ProxyAgent(options) : new Agent(options)
}

/** Whether upstream calls go through a proxy the environment names (fetch routed there from now on). */
export function proxyNamed(): boolean {
  return proxyAgentClass() !== undefined
}

/**
 * fetch as an upstream call makes it: through the environment's proxy where it names one, and a
 * redirect answered as it came, not followed (upstreamError turns it into a 502 that says where).
 */
export const upstreamFetch: typeof fetch = (input, init) => {
  proxyAgentClass()
  return fetch(input, { ...init, redirect: 'manual' })
}
