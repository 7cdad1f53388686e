/**
 * What is typed in a thread's message box and not sent yet, kept per thread in this tab's session
 * storage: it survives a reload, opening another thread and back, and a session that ended under
 * it (the sign-in page takes the place of the chat; signed in again, the draft is back).
 */
import { useCallback, useEffect, useRef, useState } from 'react'

const PREFIX = 'console.chat.draft:'

function read(key: string): string {
  try { return sessionStorage.getItem(PREFIX + key) ?? '' } catch { return '' }
}

function write(key: string, text: string): void {
  try {
    if (text) sessionStorage.setItem(PREFIX + key, text)
    else sessionStorage.removeItem(PREFIX + key)
  } catch { /* private mode or full: the draft lives as long as the page */ }
}

/** The draft of thread `key` ('' for a new chat) and its setter; `setFor` sets another thread's. */
export function useDraft(key: string): { draft: string; setDraft: (text: string) => void; setFor: (key: string, text: string) => void } {
  const [draft, setState] = useState(() => read(key))
  // The thread shown now, for a send that ends after another was opened.
  const shown = useRef(key)
  // Another thread opened: its own draft.
  useEffect(() => {
    shown.current = key
    setState(read(key))
  }, [key])
  const setDraft = useCallback((text: string) => { write(key, text); setState(text) }, [key])
  const setFor = useCallback((other: string, text: string) => {
    write(other, text)
    if (other === shown.current) setState(text)
  }, [])
  return { draft, setDraft, setFor }
}
