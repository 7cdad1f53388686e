/** Where a key is in the config: map keys and list indices from the root. */
export type ConfigPath = readonly (string | number)[]

/** A config problem, located in the file: printed as `FILE:LINE:COL path.to.key: message`. */
export interface ConfigIssue {
  file: string
  line: number
  col: number
  /** Dotted path to the key at fault (`providers.openai.api_key`), empty for the whole file. */
  path: string
  message: string
}

export function formatIssue(issue: ConfigIssue): string {
  return `${issue.file}:${issue.line}:${issue.col} ${issue.path || '(root)'}: ${issue.message}`
}

/** A config that cannot be used, with every problem found in it. */
export class ConfigError extends Error {
  readonly issues: ConfigIssue[]
  /** The same config may load when tried again: a plugin's setup failed (a store or an issuer briefly unreachable), not the config. */
  readonly passing: boolean
  constructor(issues: ConfigIssue[], passing = false) {
    super(issues.map(formatIssue).join('\n'))
    this.name = 'ConfigError'
    this.issues = issues
    this.passing = passing
  }
}

/** `['providers', 'openai', 'api_key']` → `providers.openai.api_key`; array indices as `[0]`. */
export function dottedPath(path: ConfigPath): string {
  let out = ''
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`
    else out += out ? `.${part}` : part
  }
  return out
}
