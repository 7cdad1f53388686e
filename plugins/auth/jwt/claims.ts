/**
 * Claim mapping: which claims of a verified token make the principal. Data, not code: the config
 * names the claims (with defaults for plain OIDC and for Entra ID), and maps claim values to roles
 * and departments where an identity provider speaks in its own terms (Entra app roles, group ids).
 */
import type { JWTPayload } from 'jose'
import type { ClaimNames, ClaimsConfig, JwtConfig } from './schema.ts'

/** Who a token says its bearer is; role and department only when the token says so. */
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

const list = (names: ClaimNames | undefined, fallback: readonly string[]): readonly string[] =>
  names === undefined ? fallback : typeof names === 'string' ? [names] : names

export function claimMapping(config: JwtConfig): ClaimMapping {
  const entra = config.entra !== undefined
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

/** The claims' identity, or undefined when the token has no subject. */
export function identityOf(payload: JWTPayload, mapping: ClaimMapping): ClaimIdentity | undefined {
  const subject = firstString(payload, mapping.subject)
  if (subject === undefined) return undefined
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

/** A claim by name, or by a dotted path into nested objects (`realm_access.roles`) when no claim has that name. */
function claim(payload: JWTPayload, name: string): unknown {
  if (name in payload) return payload[name]
  if (!name.includes('.')) return undefined
  let node: unknown = payload
  for (const part of name.split('.')) {
    if (typeof node !== 'object' || node === null) return undefined
    node = (node as Record<string, unknown>)[part]
  }
  return node
}

function firstString(payload: JWTPayload, names: readonly string[]): string | undefined {
  for (const name of names) {
    const value = claim(payload, name)
    if (typeof value === 'string' && value.length > 0) return value
  }
  return undefined
}

/** The string values of the first present claim (a string or a list of strings). */
function values(payload: JWTPayload, names: readonly string[]): readonly string[] {
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
