/**
 * Scrolling that follows a streaming answer, as ChatGPT's does: while the reader is at the bottom
 * the view keeps the newest line in sight; once they scroll up to read, it stays where they put it,
 * and a "Scroll to the newest" button brings them back (and following on again).
 */
import { ArrowDownIcon } from 'lucide-react'
import { useCallback, useLayoutEffect, useRef, useState, type DependencyList } from 'react'
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

export function ToNewest({ onClick }: { onClick: () => void }) {
  return (
    <Button variant="outline" size="icon" className="absolute bottom-3 left-1/2 size-9 -translate-x-1/2 rounded-full shadow-md" onClick={onClick} aria-label="Scroll to the newest" title="Scroll to the newest">
      <ArrowDownIcon />
    </Button>
  )
}
