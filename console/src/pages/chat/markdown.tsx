/**
 * An answer's Markdown (GitHub's flavour), with code blocks highlighted by highlight.js, each
 * under a bar with its language and a Copy button, tables that scroll sideways inside the answer
 * (a phone's screen does not), and, for a grounded answer, its [n] markers as links to its
 * sources below it.
 */
import { CheckIcon, CopyIcon } from 'lucide-react'
import { memo, useMemo, useRef, useState, type ComponentProps, type MouseEvent } from 'react'
import ReactMarkdown, { type Components, type ExtraProps } from 'react-markdown'
import { Button } from '@/components/ui/button'
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

/** The language a fenced block names (```python), from its <code>'s `language-…` class. */
function languageOf(node: ExtraProps['node']): string | undefined {
  const code = node?.children.find((c) => c.type === 'element' && c.tagName === 'code')
  const classes = code?.type === 'element' ? code.properties.className : undefined
  const name = Array.isArray(classes) ? classes.map(String).find((c) => c.startsWith('language-')) : undefined
  return name?.slice('language-'.length)
}

/** A fenced code block: its language and a Copy button above the code (copied as written, without the bar). */
function CodeBlock({ node, children, ...props }: ComponentProps<'pre'> & ExtraProps) {
  const pre = useRef<HTMLPreElement>(null)
  const [copied, setCopied] = useState(false)
  const language = languageOf(node)
  async function copy() {
    await navigator.clipboard.writeText(pre.current?.textContent ?? '')
    setCopied(true)
    setTimeout(() => setCopied(false), 2000)
  }
  return (
    <div className="code-block my-3 overflow-hidden rounded-lg border bg-muted" data-code-block data-language={language}>
      <div className="flex items-center justify-between border-b bg-background/40 py-0.5 pr-1 pl-3 text-xs text-muted-foreground">
        <span className="font-mono">{language ?? 'text'}</span>
        <Button type="button" variant="ghost" size="sm" className="h-7 gap-1 px-2 text-xs" onClick={() => void copy()} aria-label={copied ? 'Copied' : 'Copy code'}>
          {copied ? <CheckIcon className="size-3.5" /> : <CopyIcon className="size-3.5" />} {copied ? 'Copied' : 'Copy'}
        </Button>
      </div>
      <pre ref={pre} {...props}>{children}</pre>
    </div>
  )
}

const components: Components = {
  a: ({ node: _node, ...props }) =>
    props.href?.startsWith('#') ? <a {...props} onClick={toSource} /> : <a {...props} target="_blank" rel="noreferrer noopener" />,
  pre: CodeBlock,
  // A wide table scrolls inside the answer instead of widening the page.
  table: ({ node: _node, ...props }) => <div className="table-scroll my-3 overflow-x-auto"><table {...props} /></div>,
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
