/** Run the real `gateway` CLI as a child process. */
import { spawn, type ChildProcess } from 'node:child_process'
import path from 'node:path'

export const GATEWAY_BIN = path.resolve('bin/gateway.js')

export function runCli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [GATEWAY_BIN, ...args], { env: { ...process.env, ...env } })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    child.on('close', (code) => resolve({ code, stdout, stderr }))
  })
}

/** Start `gateway start ...` and resolve once it listens; the URL comes from its startup line. */
export function startCli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ child: ChildProcess; url: string; output: () => string; exited: Promise<number | null> }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [GATEWAY_BIN, 'start', ...args], { env: { ...process.env, LOG_LEVEL: 'info', ...env } })
    let output = ''
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)))
    const onData = (d: Buffer) => {
      output += d
      const m = /gateway listening on (http:\/\/\S+)/.exec(output)
      if (m) resolve({ child, url: m[1], output: () => output, exited })
    }
    child.stdout.on('data', onData)
    child.stderr.on('data', onData)
    void exited.then((code) => reject(new Error(`gateway exited with ${code} before listening:\n${output}`)))
    setTimeout(() => reject(new Error(`gateway did not start in 45 s:\n${output}`)), 45_000).unref()
  })
}
