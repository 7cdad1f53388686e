/**
 * `NAME_FILE`: a variable the config reads (`${NAME}`) taken from a file, as Kubernetes and Docker
 * mount secrets (`/run/secrets/...`) and as the official database images read `POSTGRES_PASSWORD_FILE`.
 * Only the names the config file reads are looked up (an unrelated `*_FILE`, a log's path, is left
 * alone), once at start, into the process's environment: a reload and `--workers` processes see them.
 */
import { readFileSync, statSync } from 'node:fs'

/** More than any key, token or connection string; a path to something else is refused, not read. */
const MAX_BYTES = 64 * 1024
const REFERENCE = /\$\{([A-Za-z_]\w*)(?::-[^}]*)?\}/g

/**
 * Set each `NAME` the config text reads from the file `NAME_FILE` names, when `NAME` itself is not
 * set. Returns the names set; throws a message naming the variable and the path (never the content).
 */
export function secretsFromFiles(configText: string, env: NodeJS.ProcessEnv = process.env): string[] {
  const names = new Set([...configText.matchAll(REFERENCE)].map((m) => m[1]!))
  const set: string[] = []
  for (const name of names) {
    const file = env[`${name}_FILE`]
    if (!file) continue
    if (env[name]) throw new Error(`both ${name} and ${name}_FILE are set: set one of them`)
    let text: string
    try {
      const size = statSync(file).size
      if (size > MAX_BYTES) throw new Error(`it is ${size} bytes, more than a secret's ${MAX_BYTES}`)
      text = readFileSync(file, 'utf8')
    } catch (err) {
      throw new Error(`cannot read ${name}_FILE (${file}): ${(err as Error).message.replace(/^[A-Z]+: /, '').replace(/, \w+ '.*'$/, '')}`)
    }
    // `echo secret > file` and editors end the file with a newline, which is not part of the secret.
    env[name] = text.replace(/(?:\r?\n)+$/, '')
    set.push(name)
  }
  return set
}
