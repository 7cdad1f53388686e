/** What a document reads as, by every reader (extract.ts, office.ts): its own module, so the readers need not import each other. */

/** A run of text with its source: a PDF page (a slide's number), or the heading path it sits under. */
export interface Section {
  readonly text: string
  readonly page?: number
  readonly heading?: string
  /** Where the section starts in the document's extracted text (per page for a PDF). */
  readonly offset: number
}
