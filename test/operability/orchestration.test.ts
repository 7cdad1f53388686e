/**
 * What the orchestrators in docker/ do around the gateway's own lifecycle, read from the files:
 * the time they allow a stop before SIGKILL covers the gateway's shutdown bound (the drain, then at
 * least 1 s each for the last usage events and the backends), Kubernetes keeps a terminating pod
 * serving while it leaves the Service's endpoints, and compose passes every variable the
 * container's config reads.
 */
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { parse as parseYaml, parseAllDocuments } from 'yaml'

const read = (file: string): string => readFileSync(path.resolve(file), 'utf8')
/** server.shutdown_timeout_ms's default (README, "The CLI": signals). */
const DEFAULT_SHUTDOWN_MS = 10_000
/** The usage flush and the plugins' disposal get at least 1 s each after the drain, and the orchestrator's clock is not the gateway's. */
const AFTER_DRAIN_S = 2 + 3

/** How long /ready waits for each backend's answer. */
const READY_DEADLINE_S = 2

/** The most a SIGTERM'd gateway running `config` may take to exit, in seconds, with room. */
function shutdownBound(config: string): number {
  const ms = (parseYaml(config) as { server?: { shutdown_timeout_ms?: number } }).server?.shutdown_timeout_ms ?? DEFAULT_SHUTDOWN_MS
  return ms / 1000 + AFTER_DRAIN_S
}

/** Compose's duration syntax (`30s`, `1m30s`), in seconds; Docker's default is 10 s. */
function composeSeconds(value: string | undefined): number {
  if (value === undefined) return 10
  const m = /^(?:(\d+)m)?(?:(\d+)s)?$/.exec(value)
  expect(m, `a duration compose reads: ${value}`).not.toBeNull()
  return Number(m![1] ?? 0) * 60 + Number(m![2] ?? 0)
}

describe('docker compose', () => {
  const compose = parseYaml(read('docker/compose.yaml'), { merge: true }) as { services: Record<string, { stop_grace_period?: string; environment?: Record<string, string>; command?: string[] }> }
  const config = read('docker/config/gateway.yaml')

  it("waits longer than the gateway's shutdown bound before it kills the gateway or the worker", () => {
    for (const name of ['gateway', 'worker']) {
      expect(composeSeconds(compose.services[name].stop_grace_period), name).toBeGreaterThanOrEqual(shutdownBound(config))
    }
  })

  it('leaves queued jobs to the worker: the gateway serves the API only', () => {
    expect(compose.services.worker.command?.[0]).toBe('worker')
    expect(compose.services.gateway.command).toEqual(['start', '--config', '/app/config/gateway.yaml', '--no-jobs'])
  })

  it("passes every variable the container's config reads (the image sets PORT's and the data folder's)", () => {
    const image = read('docker/Dockerfile')
    const read_ = [...new Set([...config.matchAll(/\$\{([A-Z_][A-Z0-9_]*)/g)].map((m) => m[1]))]
    const missing = read_.filter((name) => name !== 'PORT' && !(name in (compose.services.gateway.environment ?? {})) && !new RegExp(`\\b${name}=`).test(image))
    expect(missing).toEqual([])
  })
})

describe('kubernetes', () => {
  const docs = parseAllDocuments(read('docker/k8s/gateway.yaml')).map((d) => d.toJS() as { kind: string; metadata: { name: string }; data?: Record<string, string>; spec?: any })
  const config = docs.find((d) => d.kind === 'ConfigMap')!.data!['gateway.yaml']!
  const gateway = docs.find((d) => d.kind === 'Deployment' && d.metadata.name === 'gateway')!.spec.template.spec
  const worker = docs.find((d) => d.kind === 'Deployment' && d.metadata.name === 'gateway-worker')!.spec.template.spec

  it('keeps a terminating gateway listening while it leaves the endpoints, then allows its whole shutdown', () => {
    const preStop = gateway.containers[0].lifecycle?.preStop?.sleep?.seconds as number | undefined
    // kube-proxy and the ingress take a few seconds to stop routing to a pod being deleted.
    expect(preStop).toBeGreaterThanOrEqual(3)
    // The grace period counts from the deletion: the preStop hook's time is inside it.
    expect(gateway.terminationGracePeriodSeconds - preStop!).toBeGreaterThanOrEqual(shutdownBound(config))
    expect(worker.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(shutdownBound(config))
  })

  it('leaves queued jobs to the worker Deployment: the gateway serves the API only', () => {
    expect(worker.containers[0].args[0]).toBe('worker')
    expect(gateway.containers[0].args).toContain('--no-jobs')
  })

  it('leaves the replica count of an autoscaled Deployment to its HorizontalPodAutoscaler (a GitOps sync would reset it)', () => {
    const scaled = docs.filter((d) => d.kind === 'HorizontalPodAutoscaler').map((h) => h.spec.scaleTargetRef.name as string)
    expect(scaled).toContain('gateway')
    for (const name of scaled) expect(docs.find((d) => d.kind === 'Deployment' && d.metadata.name === name)!.spec.replicas, name).toBeUndefined()
  })

  it("lets a first start's migrations run their course, and reads /ready's answer rather than timing out first", () => {
    for (const pod of [gateway, worker]) {
      const { startupProbe, readinessProbe, livenessProbe } = pod.containers[0]
      // Without a startup probe, liveness (3 failures, 15 s apart) kills a gateway still migrating after 45 s, and the next one starts over.
      expect(startupProbe?.httpGet?.path).toBe('/health')
      expect((startupProbe.periodSeconds ?? 10) * (startupProbe.failureThreshold ?? 3)).toBeGreaterThanOrEqual(300)
      // /ready gives each backend up to 2 s (README, Health); Kubernetes' default probe timeout is 1 s.
      expect(readinessProbe.timeoutSeconds ?? 1).toBeGreaterThan(READY_DEADLINE_S)
      expect(livenessProbe.timeoutSeconds ?? 1).toBeGreaterThan(1)
    }
  })
})
