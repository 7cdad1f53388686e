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
  const subject = firstString(payload, mapping.subject)
  if (subject === undefined) return undefined
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
