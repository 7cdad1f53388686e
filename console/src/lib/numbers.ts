/** A form's optional number field, read and checked the way the API will check it. */
export interface NumberRule {
  readonly min?: number
  /** The value must be above `min`, not equal to it. */
  readonly exclusiveMin?: boolean
  readonly max?: number
  readonly integer?: boolean
}

/** `undefined` for an empty field; otherwise the number, or why it is refused. */
export function parseOptionalNumber(text: string, rule: NumberRule): { value?: number; error?: string } {
  const trimmed = text.trim()
  if (!trimmed) return {}
  const value = Number(trimmed)
  if (!Number.isFinite(value)) return { error: 'Not a number.' }
  if (rule.integer && !Number.isInteger(value)) return { error: 'A whole number.' }
  if (rule.min !== undefined && (rule.exclusiveMin ? value <= rule.min : value < rule.min)) return { error: `Must be ${rule.exclusiveMin ? 'above' : 'at least'} ${rule.min}.` }
  if (rule.max !== undefined && value > rule.max) return { error: `At most ${rule.max}.` }
  return { value }
}
