/**
 * A document's attributes as OpenAI bounds them (VectorStoreFileAttributes): at most 16 pairs,
 * keys of at most 64 characters, values strings of at most 512 characters, numbers or booleans.
 * Checked by hand rather than by the routes' JSON Schemas so the 400 names the field and is
 * worded as OpenAI words it (`Invalid 'attributes.note': string too long...`), wherever
 * attributes come in: a vector store file, a batch and each of its `files`, an upload.
 */
import { badRequest } from '../../../plugin-api/index.ts'
import type { DocumentAttributes } from '../../contracts/rag.ts'
import { kindOf } from '../../contracts/request-check.ts'

export const MAX_ATTRIBUTES = 16
export const MAX_ATTRIBUTE_KEY = 64
export const MAX_ATTRIBUTE_STRING = 512

/** The routes' schema of attributes: their shape only (checkAttributes bounds them). */
export const ATTRIBUTES_SCHEMA = {
  type: ['object', 'null'],
  description: `At most ${MAX_ATTRIBUTES} pairs; keys of at most ${MAX_ATTRIBUTE_KEY} characters; values strings of at most ${MAX_ATTRIBUTE_STRING} characters, numbers or booleans.`,
}

/** `value` as attributes (null and undefined: none), or a 400 naming `param` (or the key at fault under it). */
export function checkAttributes(value: unknown, param = 'attributes'): DocumentAttributes | undefined {
  if (value === undefined || value === null) return undefined
  if (typeof value !== 'object' || Array.isArray(value)) throw badRequest(`Invalid type for '${param}': expected an object, but got ${kindOf(value)} instead.`, param, 'invalid_type')
  const entries = Object.entries(value)
  if (entries.length > MAX_ATTRIBUTES) {
    throw badRequest(`Invalid '${param}': too many properties. Expected an object with at most ${MAX_ATTRIBUTES} properties, but got an object with ${entries.length} properties instead.`, param, 'object_above_max_properties')
  }
  for (const [key, v] of entries) {
    if (key.length > MAX_ATTRIBUTE_KEY) {
      throw badRequest(`Invalid '${param}': key too long. Expected keys with maximum length ${MAX_ATTRIBUTE_KEY}, but got a key with length ${key.length} instead.`, param, 'key_above_max_length')
    }
    const at = `${param}.${key}`
    if (typeof v === 'string') {
      if (v.length > MAX_ATTRIBUTE_STRING) throw badRequest(`Invalid '${at}': string too long. Expected a string with maximum length ${MAX_ATTRIBUTE_STRING}, but got a string with length ${v.length} instead.`, at, 'string_above_max_length')
    } else if (!(typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v)))) {
      throw badRequest(`Invalid type for '${at}': expected a string, a number or a boolean, but got ${kindOf(v)} instead.`, at, 'invalid_type')
    }
  }
  return value as DocumentAttributes
}
