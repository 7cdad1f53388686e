/**
 * A role a plugin's config hands out (an API key's `role`, a claims mapping's `role_map`) must be
 * defined, built in or under `roles:`, or every request carrying it would be a 403 at run time.
 * Each plugin knows its own role fields and names them from its manifest's `checkConfig`; this
 * says which of them name no role, in the words `gateway validate` prints.
 */
import type { ConfigCheckContext, ConfigCheckIssue } from '../../plugin-api/index.ts'

/** Paths are within the plugin's block; values that are not strings are the schema's to report. */
export type NamedRoles = Iterable<readonly [path: readonly (string | number)[], role: unknown]>

export function undefinedRoles(named: NamedRoles, at: ConfigCheckContext): ConfigCheckIssue[] {
  const issues: ConfigCheckIssue[] = []
  for (const [path, role] of named) {
    if (typeof role === 'string' && !at.roles.has(role)) {
      issues.push({ path: [...at.path, ...path], message: `no role named '${role}' (have: ${[...at.roles].join(', ')}); define it under roles:` })
    }
  }
  return issues
}
