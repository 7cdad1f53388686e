/**
 * What a turn adds to its context before the model is called, and the citations of its answer.
 * Server tools (`file_search`) prepare from their declarations; an assistant with attached
 * collections (and a thread with its own) is grounded by the registered Grounding (the RAG service's), searched as the
 * caller. Their passages are numbered [1]..[n] together in the instructions; the reply lists them
 * as its sources, and each [n] its text cites becomes a `file_citation` annotation.
 */
import { badRequest, type GatewayCalls } from '../../../plugin-api/index.ts'
import type { JsonObject } from '../../contracts/capabilities.ts'
import { lastUserText, partText, type ContentPart, type Grounding, type ItemContent, type MessageSource, type Passage, type ServerTool, type TurnInput } from '../../contracts/conversations.ts'

export interface GatheredContext {
  readonly instructions: string[]
  readonly output: JsonObject[]
  /** The server tools' output items, kept with the turn's items (a grounding's show in the response only: the management API lists its sources instead). */
  readonly kept: (ItemContent & { readonly id: string })[]
  readonly passages: Passage[]
}

export async function gatherContext(
  input: TurnInput, gateway: GatewayCalls, tools: ReadonlyMap<string, ServerTool>, grounding: Grounding | undefined,
): Promise<GatheredContext> {
  const turn = { input: input.input, owner: input.owner, caller: input.caller, gateway, signal: input.signal }
  const instructions: string[] = []
  const output: JsonObject[] = []
  const passages: Passage[] = []
  const kept: (ItemContent & { id: string })[] = []
  const add = (prepared: { instructions?: string; output?: readonly JsonObject[]; passages?: readonly Passage[] }): void => {
    if (prepared.instructions) instructions.push(prepared.instructions)
    output.push(...(prepared.output ?? []))
    passages.push(...(prepared.passages ?? []))
  }
  for (const declaration of input.serverTools ?? []) {
    const tool = tools.get(String(declaration.type))
    if (!tool) throw badRequest(`The tool type '${String(declaration.type)}' is not offered by this gateway.`, 'tools', 'unsupported_tool')
    const prepared = await tool.prepare(declaration, turn)
    add(prepared)
    kept.push(...(prepared.output ?? []).flatMap(keptItem))
  }
  const collections = [...new Set([...(input.assistant?.ragCollections ?? []), ...(input.collections ?? [])])]
  const query = lastUserText(input.input)
  if (collections.length && grounding && query.trim()) add(await grounding.retrieve(collections, query, turn))
  if (passages.length) instructions.push(passageInstructions(passages))
  return { instructions, output, kept, passages }
}

/** A server tool's output item as a thread keeps it (a `file_search_call`), under the id the response shows. */
function keptItem(item: JsonObject): (ItemContent & { id: string })[] {
  if (item.type !== 'file_search_call' || typeof item.id !== 'string') return []
  return [{ id: item.id, type: 'file_search_call', queries: (item.queries as string[] | undefined) ?? [], results: (item.results as JsonObject[] | null | undefined) ?? null }]
}

/** The passages as the model reads them, numbered from 1. */
export function passageInstructions(passages: readonly Passage[]): string {
  const numbered = passages.map(({ text, source: s }, i) => `[${i + 1}] (${s.filename}${s.page ? `, page ${s.page}` : ''}${s.heading ? `, ${s.heading}` : ''})\n${text}`)
  return `Answer from these passages of the user's documents and cite each one you use by its number, like [1]:\n\n${numbered.join('\n\n')}`
}

const MARKER = /\[(\d{1,3})\]/g

/** OpenAI's `file_citation` annotations for the [n] markers of `text` that name a passage. */
export function fileCitations(text: string, passages: readonly Passage[]): JsonObject[] {
  const annotations: JsonObject[] = []
  for (const m of text.matchAll(MARKER)) {
    const source = passages[Number(m[1]) - 1]?.source
    if (source) annotations.push({ type: 'file_citation', file_id: source.file_id ?? source.document_id, filename: source.filename, index: m.index })
  }
  return annotations
}

/** Every passage of the context as a source of the reply `text`, marked cited when the text cites it. */
export function sourcesOf(text: string, passages: readonly Passage[]): MessageSource[] {
  const cited = new Set([...text.matchAll(MARKER)].map((m) => Number(m[1])))
  return passages.map((p, i) => ({ number: i + 1, cited: cited.has(i + 1), ...p.source }))
}

/** An assistant message with its citations annotated and its sources listed; other items unchanged. */
export function withCitations(content: ItemContent, passages: readonly Passage[]): ItemContent {
  if (!passages.length || content.type !== 'message' || content.role !== 'assistant') return content
  const parts: ContentPart[] = content.content.map((p) => (p.type === 'output_text' ? { ...p, annotations: fileCitations(p.text, passages) } : p))
  return { ...content, content: parts, sources: sourcesOf(parts.map(partText).join('\n'), passages) }
}
