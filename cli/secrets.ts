/**
 * `gateway validate`'s warning for a secret written in the file itself rather than read from the
 * environment: a provider's `api_key`, an api-key strategy's `key`, a password, a token, a header's
 * credential, or a URL with its password (`postgres://user:pw@host/db`). gateway.yaml is reviewed
 * and kept in git; its secrets belong in the environment, as `${VAR}` (DESIGN §4).
 */
import { isScalar, LineCounter, parseDocument, visit } from 'yaml'
import { dottedPath, type ConfigIssue } from '../core/config/issues.ts'
import { pathOf } from '../core/config/load.ts'

/** Keys whose value is a credential (the names the logger redacts, and credential headers). */
const SECRET_KEYS = new Set(['api_key', 'apikey', 'key', 'password', 'token', 'secret', 'client_secret', 'authorization', 'x-api-key'])
/** A URL that carries a password: scheme://user:password@host. */
const URL_WITH_PASSWORD = /^[a-z][a-z0-9+.-]*:\/\/[^/@\s:]*:[^/@\s]+@/i
const REFERENCE = /\$\{[A-Za-z_]\w*(?::-([^}]*))?\}/g

/** Every secret `text` writes itself, at its line: a value from `${VAR}` is not one, a default (`${VAR:-pw}`) is. */
export function secretsInFile(text: string, file: string): ConfigIssue[] {
  const lineCounter = new LineCounter()
  const doc = parseDocument(text, { lineCounter })
  const found: ConfigIssue[] = []
  visit(doc, {
    Pair(_key, pair, ancestors) {
      if (!isScalar(pair.key) || !isScalar(pair.value) || typeof pair.value.value !== 'string') return
      const value = pair.value.value
      // `$KEY` and `os.environ/KEY` are meant as references: the loader refuses them, and says so.
      if (/^\$\w+$|^os\.environ\//.test(value)) return
      // What the file itself supplies: the defaults (`${NAME:-default}`), not what the environment does.
      const written = value.replace(REFERENCE, (_m, fallback: string | undefined) => fallback ?? '')
      const url = URL_WITH_PASSWORD.test(written)
      const literal = value !== '' && (!value.includes('${') || /\$\{[A-Za-z_]\w*:-[^}]+\}/.test(value))
      if (!url && !(literal && SECRET_KEYS.has(String(pair.key.value).toLowerCase()))) return
      found.push({
        file, ...lineCounter.linePos(pair.value.range?.[0] ?? 0), path: dottedPath(pathOf([...ancestors, pair])),
        message: `${url ? 'a URL with its password' : 'a secret'} written in the file (reviewed, and kept in git): keep it in the environment and write "\${NAME}" here`,
      })
    },
  })
  return found
}
