#!/usr/bin/env node
/**
 * Start time and memory of `gateway start`, compiled (dist/) against the TypeScript sources (tsx):
 *   node scripts/start-figures.mjs [CONFIG] [RUNS]
 * Each run starts the CLI on a free port, times it to its "gateway listening" line, sends one chat
 * request, reads the process's resident memory (Linux /proc), and stops it with SIGTERM.
 */
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const config = path.resolve(process.argv[2] ?? path.join(root, 'gateway.yaml'))
const runs = Number(process.argv[3] ?? 3)

function once(env) {
  return new Promise((resolve, reject) => {
    const started = performance.now()
    const child = spawn(process.execPath, [path.join(root, 'bin', 'gateway.js'), 'start', '--config', config, '--port', '0', '--no-watch'], { env: { ...process.env, LOG_LEVEL: 'warn', ...env } })
    let output = ''
    const onData = async (data) => {
      output += data
      const match = /gateway listening on (http:\/\/\S+)/.exec(output)
      if (!match) return
      child.stderr.off('data', onData)
      child.off('exit', early)
      const startMs = performance.now() - started
      await fetch(`${match[1]}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'mock', messages: [{ role: 'user', content: 'hi' }] }) }).then((r) => r.text())
      const rssKb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))[1])
      child.kill('SIGTERM')
      child.once('exit', () => resolve({ startMs, rssMb: rssKb / 1024 }))
    }
    child.stderr.on('data', onData)
    const early = (code) => reject(new Error(`exited ${code}: ${output}`))
    child.once('exit', early)
  })
}

const median = (values) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)]
const figures = {}
for (const [name, env] of [['compiled', {}], ['tsx', { GATEWAY_TS: '1' }]]) {
  const samples = []
  for (let i = 0; i < runs; i++) samples.push(await once(env))
  figures[name] = { start_ms: Math.round(median(samples.map((s) => s.startMs))), rss_mb: Math.round(median(samples.map((s) => s.rssMb))) }
}
console.log(JSON.stringify({ config: path.relative(root, config), runs, ...figures }))
