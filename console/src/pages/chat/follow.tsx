/**
 * Scrolling that follows a streaming answer, as ChatGPT's does: while the reader is at the bottom
 * the view keeps the newest line in sight; once they scroll up to read, it stays where they put it,
 * and a "Scroll to the newest" button brings them back (and following on again).
 */
import { ArrowDownIcon } from 'lucide-react'
import { useCallback, useLayoutEffect, useRef, useState, type DependencyList, type RefObject } from 'react'
import { Button } from '@/components/ui/button'

/** Within this many pixels of the bottom, the view follows the stream. */
const SLACK_PX = 80

export function useFollowScroll(grew: DependencyList) {
  const scroller = useRef<HTMLDivElement>(null)
  const following = useRef(true)
  const [away, setAway] = useState(false)

  useLayoutEffect(() => {
    const el = scroller.current
    if (el && following.current) el.scrollTop = el.scrollHeight
    // The caller says what makes the conversation grow.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, grew)

  const onScroll = useCallback(() => {
    const el = scroller.current
    if (!el) return
    const atBottom = el.scrollHeight - el.scrollTop - el.clientHeight < SLACK_PX
    following.current = atBottom
    setAway(!atBottom)
  }, [])

  /** Follow again (a new message sent, another thread opened) and go to the bottom. */
  const follow = useCallback(() => {
    following.current = true
    setAway(false)
    const el = scroller.current
    el?.scrollTo({ top: el.scrollHeight })
  }, [])

  return { scroller, onScroll, away, follow }
}

/**
 * Keep the reader's place while earlier messages are put in front of the ones shown: call the
 * returned function before loading them; once the first message shown changes (`firstId`), the
 * message that was at the top of the view is put back where it was, not left to jump.
 */
export function useKeepPlace(scroller: RefObject<HTMLDivElement | null>, firstId: string | undefined): () => void {
  const anchor = useRef<{ el: Element; top: number }>(undefined)
  useLayoutEffect(() => {
    const el = scroller.current
    const mark = anchor.current
    if (!el || !mark || !mark.el.isConnected) return
    el.scrollTop += mark.el.getBoundingClientRect().top - mark.top
    anchor.current = undefined
  }, [scroller, firstId])
  return useCallback(() => {
    const el = scroller.current
    if (!el) return
    const viewTop = el.getBoundingClientRect().top
    // The first message still (partly) in view.
    const first = [...el.querySelectorAll('[data-role]')].find((m) => m.getBoundingClientRect().bottom > viewTop)
    anchor.current = first ? { el: first, top: first.getBoundingClientRect().top } : undefined
  }, [scroller])
}

export function ToNewest({ onClick }: { onClick: () => void }) {
  return (
    <Button variant="outline" size="icon" className="absolute bottom-3 left-1/2 size-9 -translate-x-1/2 rounded-full shadow-md" onClick={onClick} aria-label="Scroll to the newest" title="Scroll to the newest">
      <ArrowDownIcon />
    </Button>
  )
}
