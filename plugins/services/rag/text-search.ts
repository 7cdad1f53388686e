/**
 * The language of a collection's full-text search (the keyword half of hybrid search): a
 * PostgreSQL text search configuration, which stems words and drops stop words in that language
 * (with `german`, "Häuser" and "Haus" are one word; with `english` they are two). Chosen when the
 * collection is made, used when its chunks are written and when it is searched.
 */

/** PostgreSQL's built-in configurations: what a collection may name (a server without one, older than 14, refuses it when the collection is made). */
export const TEXT_SEARCH_CONFIGS = [
  'simple', 'arabic', 'armenian', 'basque', 'catalan', 'danish', 'dutch', 'english', 'finnish', 'french', 'german', 'greek',
  'hindi', 'hungarian', 'indonesian', 'irish', 'italian', 'lithuanian', 'nepali', 'norwegian', 'portuguese', 'romanian',
  'russian', 'serbian', 'spanish', 'swedish', 'tamil', 'turkish', 'yiddish',
] as const

export type TextSearchConfig = (typeof TEXT_SEARCH_CONFIGS)[number]

export const TEXT_SEARCH_SCHEMA = {
  type: 'string', enum: TEXT_SEARCH_CONFIGS,
  description: 'The PostgreSQL text search configuration (a language, or `simple`: no stemming, no stop words) of the full-text half of hybrid search.',
} as const
