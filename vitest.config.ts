import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

/**
 * Test files that assert an upper bound on elapsed time (a timeout fired within N ms, a lookup took
 * under N µs, a latency percentile) or compare two timings. They run one at a time, after the rest,
 * so that another file's CPU on this 2-core machine cannot fail them. A new test that bounds a
 * duration belongs here.
 */
const TIMED = [
  'cache/cache', 'cache/redis-cache',
  'conversations/responses-background',
  'hardening/redis-hung', 'hardening/shutdown-hung-store', 'hardening/slow-clients', 'hardening/soak-usage', 'hardening/tokens-event-loop',
  'identity/constant-time',
  'kernel/cli', 'kernel/logging', 'kernel/reload',
  'limits/budget-redis', 'limits/performance', 'limits/redis-gateway',
  'messages/count-tokens',
  // An idle connection closed after 1 s; a stop within 5 s of SIGTERM; two gateway processes migrating one schema.
  'operability/keep-alive', 'operability/pid1', 'operability/replicas-migrate',
  'providers/anthropic/errors', 'providers/gemini/stream', 'providers/mistral/stream', 'providers/openai/passthrough', 'providers/openai/wire-client-stream',
  'queue/memory', 'queue/rabbitmq',
  'rag/extraction-limits',
  'routing/resilience', 'routing/strategies',
  // Six gateways migrating one schema at once: many connections and processes of its own.
  'store/gateway-ready', 'store/migrations',
  'training/training',
  'usage/durability', 'usage/usage',
].map((name) => `test/${name}.test.ts`)

// A renamed or removed file would otherwise drop out of the timed group silently and run with the rest.
const missing = TIMED.filter((file) => !existsSync(fileURLToPath(new URL(file, import.meta.url))))
if (missing.length > 0) throw new Error(`vitest.config.ts lists timed test files that do not exist: ${missing.join(', ')}`)

// Suite files share their worker's modules (isolate: false below): a module mock there would reach
// the files that run after it in the same worker. Such a file belongs in TIMED, which is isolated.
const testDir = fileURLToPath(new URL('test/', import.meta.url))
const mocking = readdirSync(testDir, { recursive: true, encoding: 'utf8' })
  .filter((file) => file.endsWith('.test.ts') && !TIMED.includes(`test/${file}`) && /\bvi\.(mock|doMock)\(/.test(readFileSync(testDir + file, 'utf8')))
if (mocking.length > 0) throw new Error(`vitest.config.ts: these suite files mock modules, which would leak into other files (move them to TIMED): ${mocking.join(', ')}`)

export default defineConfig({
  test: {
    // Tests start real HTTP servers and child processes; give them room on a 2-core machine.
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    projects: [
      {
        extends: true,
        // Most files wait on sockets, child processes and timers more than they compute: two at a
        // time take the suite from ~840 to ~500 s here (one at a time is vitest's default on 2 cores).
        // Files share a worker's loaded modules (isolate: false): each file importing the gateway, the
        // SDKs and their dependencies afresh cost about 40% of the suite's CPU here. Files therefore
        // restore what they change of the process (env, fake timers); module mocks belong in TIMED,
        // which stays isolated.
        test: { name: 'suite', include: ['test/**/*.test.ts'], exclude: TIMED, maxWorkers: 2, isolate: false, sequence: { groupOrder: 0 } },
      },
      {
        extends: true,
        test: { name: 'timed', include: TIMED, maxWorkers: 1, sequence: { groupOrder: 1 } },
      },
    ],
  },
})
