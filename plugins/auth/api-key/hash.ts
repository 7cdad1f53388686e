import { hash } from 'node:crypto'

/**
 * sha256 of a key, as bytes: compared with the configured keys' (timingSafeEqual), and in hex what
 * the store keeps and looks up (the same as hashApiKey in core/data/keys.ts). The one-shot
 * `crypto.hash` costs a quarter of createHash per request.
 */
export const sha256 = (key: string): Buffer => hash('sha256', key, 'buffer')
