/**
 * From an OpenID Connect identity to the gateway's principal, shared by the two ways such an
 * identity arrives: a bearer JWT (auth.jwt) and a console sign-in (service.auth's ID token). The
 * same claims mapping and the same recorded user give the same principal (user, role, department)
 * either way.
 *
 * Claim mapping is data, not code: the config names the claims (with defaults for plain OIDC and
 * for Entra ID), and maps claim values to roles and departments where an identity provider
 * speaks in its own terms (Entra app roles, group ids). A user is recorded by subject: what the
 * claims say wins and is written; what they do not say (a role an admin set) comes from the store.
 */
import { unauthorized } from '../../plugin-api/index.ts'
import { CONFIG_KEY_SUBJECT_PREFIX, type UserRecord, type UserRepository } from './capabilities.ts'

/** A claim name, or several tried in order (the first present wins). A dotted path reaches a nested claim. */
export type ClaimNames = string | string[]

export interface ClaimsConfig {
  subject?: ClaimNames
  name?: ClaimNames
  email?: ClaimNames
  role?: ClaimNames
  department?: ClaimNames
}

/** The mapping part of a plugin's block: `claims`, `role_map`, `department_map`. */
export interface ClaimMappingConfig {
  claims?: ClaimsConfig
  role_map?: Record<string, string>
  department_map?: Record<string, string>
  subject_prefix?: string
}

/** Who the claims say the bearer is; role and department only when they say so. */
export interface ClaimIdentity {
  readonly subject: string
  readonly name?: string
  readonly email?: string
  readonly role?: string
  readonly department?: string
}

export interface ClaimMapping {
  /** Put before the subject claim's value: the user's subject in the store, so two issuers' subjects never meet. */
  readonly subjectPrefix: string
  readonly subject: readonly string[]
  readonly name: readonly string[]
  readonly email: readonly string[]
  readonly role: readonly string[]
  readonly department: readonly string[]
  readonly roleMap: ReadonlyMap<string, string> | undefined
  readonly departmentMap: ReadonlyMap<string, string> | undefined
}

export type Claims = Readonly<Record<string, unknown>>

const stringOrList = (description: string) => ({
  anyOf: [{ type: 'string', minLength: 1 }, { type: 'array', minItems: 1, items: { type: 'string', minLength: 1 } }],
  description,
})

/** The JSON Schema of `claims`, `role_map` and `department_map`, for a plugin's configSchema properties. */
export const CLAIM_MAPPING_SCHEMA = {
  claims: {
    type: 'object',
    additionalProperties: false,
    description: 'Which claims make the principal. Defaults: subject sub, name name, email email, role roles (entra: subject oid, email email/preferred_username, department groups when department_map is set).',
    properties: {
      subject: stringOrList('The user\'s stable id.'),
      name: stringOrList('Display name.'),
      email: stringOrList('Email.'),
      role: stringOrList('Role (a string or a list of strings).'),
      department: stringOrList('Department (a string or a list of strings).'),
    },
  },
  role_map: {
    type: 'object', additionalProperties: { type: 'string', minLength: 1 },
    description: 'Claim value → role. With several values in the token, the first entry here that the token has wins. Absent: the claim value is the role.',
  },
  department_map: {
    type: 'object', additionalProperties: { type: 'string', minLength: 1 },
    description: 'Claim value (e.g. an Entra group id) → department; the first entry the token has wins. Absent: the claim value is the department.',
  },
  subject_prefix: {
    type: 'string', minLength: 1, maxLength: 64, pattern: '^(?![Cc][Oo][Nn][Ff][Ii][Gg]:)',
    description: 'Put before every subject from this issuer (e.g. "okta:"), so its users are not another issuer\'s users of the same subject. Needed when two strategies (or a strategy and the console\'s oidc) trust different issuers; the same prefix on both says their subjects name the same people. Changing it records every user again, as new users.',
  },
} as const

/** The roles a block's `role_map` hands out, with their paths within the block (`['role_map', claim]`). */
export function roleMapRoles(mapping: unknown): [string[], unknown][] {
  const map = (mapping as { role_map?: unknown } | undefined)?.role_map
  if (typeof map !== 'object' || map === null) return []
  return Object.entries(map).map(([claim, role]) => [['role_map', claim], role])
}

const list = (names: ClaimNames | undefined, fallback: readonly string[]): readonly string[] =>
  names === undefined ? fallback : typeof names === 'string' ? [names] : names

/** `entra`: the issuer is Microsoft Entra ID, whose claims differ from plain OIDC's. */
export function claimMapping(config: ClaimMappingConfig, entra: boolean): ClaimMapping {
  const claims: ClaimsConfig = config.claims ?? {}
  const map = (m: Record<string, string> | undefined) => (m ? new Map(Object.entries(m)) : undefined)
  return {
    subjectPrefix: config.subject_prefix ?? '',
    // Entra's `sub` differs per application; `oid` is the user's id in the tenant.
    subject: list(claims.subject, entra ? ['oid', 'sub'] : ['sub']),
    name: list(claims.name, ['name']),
    email: list(claims.email, entra ? ['email', 'preferred_username', 'upn'] : ['email']),
    role: list(claims.role, ['roles']),
    // Entra's `groups` are object ids: useful as departments only through department_map.
    department: list(claims.department, entra && config.department_map ? ['groups'] : []),
    roleMap: map(config.role_map),
    departmentMap: map(config.department_map),
  }
}

/**
 * The claims' identity, or undefined when they have no subject. A subject in the config keys'
 * namespace (`config:`, any case) is refused with a 401 `reserved_subject`: it would be recorded
 * as that config key's user and act as them (see CONFIG_KEY_SUBJECT_PREFIX).
 */
export function identityOf(payload: Claims, mapping: ClaimMapping): ClaimIdentity | undefined {
  const claimed = firstString(payload, mapping.subject)
  if (claimed === undefined) return undefined
  const subject = mapping.subjectPrefix + claimed
  if (subject.toLowerCase().startsWith(CONFIG_KEY_SUBJECT_PREFIX)) {
    throw unauthorized(`The subject (${mapping.subject.join(' or ')} claim) starts with '${CONFIG_KEY_SUBJECT_PREFIX}', which this gateway keeps for the users of its config keys: map claims.subject to a claim users cannot set.`, 'reserved_subject')
  }
  const name = firstString(payload, mapping.name)
  const email = firstString(payload, mapping.email)
  const role = pick(values(payload, mapping.role), mapping.roleMap)
  const department = pick(values(payload, mapping.department), mapping.departmentMap)
  return {
    subject,
    ...(name !== undefined ? { name } : {}),
    ...(email !== undefined ? { email } : {}),
    ...(role !== undefined ? { role } : {}),
    ...(department !== undefined ? { department } : {}),
  }
}

/** Where users are recorded from an issuer's subjects: a jwt strategy, or the console's OIDC sign-in. */
interface SubjectSource {
  readonly path: readonly (string | number)[]
  readonly issuers: readonly string[]
  readonly prefix: string | undefined
}

const JWT_PLUGINS = new Set(['jwt', 'auth.jwt'])

/** The issuers a block trusts (`issuer`, one or a list, or Entra's from its tenant), trailing slashes aside; empty when it names none. */
function issuersOf(block: Record<string, unknown>): string[] {
  const trim = (s: string) => s.replace(/\/+$/, '')
  if (typeof block.issuer === 'string') return [trim(block.issuer)]
  if (Array.isArray(block.issuer)) return block.issuer.filter((s): s is string => typeof s === 'string').map(trim)
  const entra = block.entra as { tenant_id?: unknown; authority?: unknown } | undefined
  if (typeof entra?.tenant_id !== 'string') return []
  const authority = typeof entra.authority === 'string' ? entra.authority : 'https://login.microsoftonline.com'
  return [`${trim(authority)}/${entra.tenant_id}/v2.0`]
}

function subjectSources(config: Readonly<Record<string, unknown>>): SubjectSource[] {
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)
  const source = (path: readonly (string | number)[], block: Record<string, unknown>): SubjectSource =>
    ({ path, issuers: issuersOf(block), prefix: typeof block.subject_prefix === 'string' ? block.subject_prefix : undefined })
  const sources: SubjectSource[] = []
  const strategies = isObject(config.auth) ? config.auth.strategies : undefined
  if (Array.isArray(strategies)) {
    strategies.forEach((s: unknown, i) => {
      if (isObject(s) && typeof s.plugin === 'string' && JWT_PLUGINS.has(s.plugin)) sources.push(source(['auth', 'strategies', i], s))
    })
  }
  const oidc = isObject(config.services) && isObject(config.services.auth) ? config.services.auth.oidc : undefined
  if (isObject(oidc)) sources.push(source(['services', 'auth', 'oidc'], oidc))
  return sources
}

/**
 * Users are recorded by subject, and a subject is unique only within its issuer: two issuers
 * (two jwt strategies, or a strategy and the console's sign-in) that could each give out `12345`
 * would make one user of two people, the second acting with the first's role, keys and data.
 * So each such pair must tell its subjects apart with `subject_prefix`, or say with the same
 * prefix on both that their subjects name the same people (e.g. `claims.subject: email` at two
 * identity providers of one company). Reported at the later block of the pair, the one at `self`.
 */
export function subjectPrefixIssues(config: Readonly<Record<string, unknown>>, self: readonly (string | number)[]): { path: (string | number)[]; message: string }[] {
  const sources = subjectSources(config)
  const at = sources.findIndex((s) => s.path.join('.') === self.join('.'))
  const mine = sources[at]
  if (!mine || mine.issuers.length === 0) return []
  const issues: { path: (string | number)[]; message: string }[] = []
  for (const other of sources.slice(0, at)) {
    if (other.issuers.length === 0 || other.issuers.some((i) => mine.issuers.includes(i))) continue
    if ((other.prefix ?? '') !== (mine.prefix ?? '')) continue
    if (other.prefix !== undefined && mine.prefix !== undefined) continue
    const where = other.path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i ? `.${p}` : p)).join('')
    issues.push({
      path: [...self, 'subject_prefix'],
      message: `this issuer (${mine.issuers[0]}) and ${where}'s (${other.issuers[0]}) record users by subject alike, so a subject given out by both would be one user: set subject_prefix on one of them (e.g. "${hostLabel(mine.issuers[0]!)}:"), or the same subject_prefix on both if their subjects name the same people`,
    })
  }
  return issues
}

const hostLabel = (issuer: string): string => {
  try {
    return new URL(issuer).hostname.split('.')[0] || 'idp'
  } catch {
    return 'idp'
  }
}

/** Record the identity's user (upserted by subject): what the claims say is written, the rest kept. */
export function recordUser(users: UserRepository, identity: ClaimIdentity): Promise<UserRecord> {
  return users.upsertBySubject({
    externalSubject: identity.subject,
    ...(identity.name !== undefined ? { name: identity.name } : {}),
    ...(identity.email !== undefined ? { email: identity.email } : {}),
    ...(identity.role !== undefined ? { role: identity.role } : {}),
    ...(identity.department !== undefined ? { department: identity.department } : {}),
  })
}

/** A claim by name, or by a dotted path into nested objects (`realm_access.roles`) when no claim has that name. */
function claim(payload: Claims, name: string): unknown {
  if (name in payload) return payload[name]
  if (!name.includes('.')) return undefined
  let node: unknown = payload
  for (const part of name.split('.')) {
    if (typeof node !== 'object' || node === null) return undefined
    node = (node as Record<string, unknown>)[part]
  }
  return node
}

function firstString(payload: Claims, names: readonly string[]): string | undefined {
  for (const name of names) {
    const value = claim(payload, name)
    if (typeof value === 'string' && value.length > 0) return value
  }
  return undefined
}

/** The string values of the first present claim (a string or a list of strings). */
function values(payload: Claims, names: readonly string[]): readonly string[] {
  for (const name of names) {
    const value = claim(payload, name)
    if (typeof value === 'string' && value.length > 0) return [value]
    if (Array.isArray(value)) {
      const strings = value.filter((v): v is string => typeof v === 'string' && v.length > 0)
      if (strings.length) return strings
    }
  }
  return []
}

/** With a map: its first entry the token has (map order is the precedence). Without: the first value. */
function pick(found: readonly string[], map: ReadonlyMap<string, string> | undefined): string | undefined {
  if (found.length === 0) return undefined
  if (!map) return found[0]
  const present = new Set(found)
  for (const [value, mapped] of map) if (present.has(value)) return mapped
  return undefined
}
