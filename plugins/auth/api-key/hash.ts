import { hash } from 'node:crypto'

/**
 * sha256 of a key, hex: what the store keeps and looks up (the same as hashApiKey in
 * core/data/keys.ts). The one-shot `crypto.hash` costs a quarter of createHash per request.
 */
export const sha256Hex = (key: string): string => hash('sha256', key, 'hex')

/** The digest as bytes, for timingSafeEqual. */
export const digestBytes = (hex: string): Buffer => Buffer.from(hex, 'hex')
