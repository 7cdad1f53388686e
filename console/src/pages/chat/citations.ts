/**
 * A grounded answer's [n] markers as links to its sources: a remark plugin that turns each [n]
 * naming a listed source into a link (outside code, and outside links), leaving the others as the
 * text they are. Without sources an answer renders exactly as before.
 */
import { findAndReplace } from 'mdast-util-find-and-replace'
import type { Root } from 'mdast'
import type { MessageSource } from '@/api/types'

const MARKER = /\[(\d{1,3})\]/g

/** The element id of source `n` of message `messageId` (what a marker links to). */
export const sourceAnchor = (messageId: string, n: number): string => `source-${messageId}-${n}`

/** A source's number: the one the gateway gave it, else its place in the list. */
export const sourceNumber = (source: MessageSource, index: number): number => source.number ?? index + 1

export interface CitationTargets {
  readonly messageId: string
  readonly numbers: readonly number[]
}

export function remarkCitations({ messageId, numbers }: CitationTargets) {
  const known = new Set(numbers)
  return (tree: Root) => {
    findAndReplace(tree, [MARKER, (whole: string, n: string) => {
      const number = Number(n)
      if (!known.has(number)) return false
      return {
        type: 'link',
        url: `#${sourceAnchor(messageId, number)}`,
        title: `Source ${number}`,
        data: { hProperties: { 'data-cite': number, className: ['citation'] } },
        children: [{ type: 'text', value: whole }],
      }
    }], { ignore: ['link', 'linkReference', 'code', 'inlineCode'] })
  }
}
