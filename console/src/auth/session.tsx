/**
 * Who is signed in, from GET /api/v1/auth/me, and what their role may do. The console shows a
 * page or a button only when `can(permission)` says so; the API refuses the rest anyway.
 */
import { useQuery, useQueryClient } from '@tanstack/react-query'
import { createContext, useCallback, useContext, useEffect, useMemo, type ReactNode } from 'react'
import { ApiError, api, setCsrfToken, whenUnauthorized } from '@/api/client'
import type { Me } from '@/api/types'

export interface Session {
  readonly me: Me
  can(permission: string): boolean
  signOut(): Promise<void>
}

const SessionContext = createContext<Session | undefined>(undefined)

export const ME_KEY = ['auth', 'me'] as const

/** The caller, or null when not signed in (401). Other failures are errors. */
export function useMe() {
  return useQuery({
    queryKey: ME_KEY,
    queryFn: async ({ signal }): Promise<Me | null> => {
      try {
        const { data } = await api('/auth/me', { signal })
        setCsrfToken(data.session?.csrf_token)
        return data
      } catch (err) {
        if (err instanceof ApiError && err.status === 401) {
          setCsrfToken(undefined)
          return null
        }
        throw err
      }
    },
    staleTime: 60_000,
    retry: (count, err) => !(err instanceof ApiError && err.status < 500) && count < 2,
  })
}

export function SessionProvider({ me, children }: { me: Me; children: ReactNode }) {
  const queryClient = useQueryClient()
  useEffect(() => {
    // A call answered 401 means the session ended: ask again who we are (the sign-in page follows).
    whenUnauthorized(() => void queryClient.invalidateQueries({ queryKey: ME_KEY }))
  }, [queryClient])
  const can = useCallback((permission: string) => me.permissions.includes('*') || me.permissions.includes(permission), [me])
  const signOut = useCallback(async () => {
    const { data } = await api('/auth/logout', { method: 'POST' })
    setCsrfToken(undefined)
    queryClient.clear()
    window.location.assign(data.redirect)
  }, [queryClient])
  const value = useMemo(() => ({ me, can, signOut }), [me, can, signOut])
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>
}

export function useSession(): Session {
  const session = useContext(SessionContext)
  if (!session) throw new Error('useSession outside SessionProvider')
  return session
}

/** Renders its children only when the caller's role has `permission`. */
export function Can({ permission, children }: { permission: string; children: ReactNode }) {
  return useSession().can(permission) ? <>{children}</> : null
}
