/**
 * An answer's Markdown (GitHub's flavour), with code blocks highlighted by highlight.js and, for a
 * grounded answer, its [n] markers as links to its sources below it.
 */
import { memo, useMemo, type MouseEvent } from 'react'
import ReactMarkdown, { type Components } from 'react-markdown'
import rehypeHighlight from 'rehype-highlight'
import remarkGfm from 'remark-gfm'
import { remarkCitations, type CitationTargets } from './citations'

const rehypePlugins = [[rehypeHighlight, { detect: true, ignoreMissing: true }]] as never

/**
 * To a source of this answer: scrolled into view and focused. Not the browser's own fragment jump,
 * which resolves `#…` against the page's <base href> and would leave the chat.
 */
function toSource(event: MouseEvent<HTMLAnchorElement>): void {
  const target = document.getElementById(event.currentTarget.hash.slice(1))
  if (!target) return
  event.preventDefault()
  target.scrollIntoView({ block: 'nearest', behavior: 'smooth' })
  target.focus({ preventScroll: true })
}

const components: Components = {
  a: ({ node: _node, ...props }) =>
    props.href?.startsWith('#') ? <a {...props} onClick={toSource} /> : <a {...props} target="_blank" rel="noreferrer noopener" />,
}

const Markdown = memo(function Markdown({ text, citations }: { text: string; citations?: CitationTargets }) {
  const numbers = citations?.numbers.join(',')
  const remarkPlugins = useMemo(
    () => (citations?.numbers.length ? [remarkGfm, [remarkCitations, citations]] : [remarkGfm]) as never,
    // The numbers as a string: a new array of the same sources keeps the parsed tree.
    [citations?.messageId, numbers],
  )
  return (
    <div className="markdown min-w-0 break-words">
      <ReactMarkdown remarkPlugins={remarkPlugins} rehypePlugins={rehypePlugins} components={components}>
        {text}
      </ReactMarkdown>
    </div>
  )
})

export default Markdown
