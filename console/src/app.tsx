/** The console: who is signed in decides between the sign-in page and the pages their role may use. */
import { Suspense } from 'react'
import { BrowserRouter, Link, Navigate, Route, Routes } from 'react-router'
import { BASE_PATH } from '@/api/client'
import { SessionProvider, useMe, useSession } from '@/auth/session'
import { PageBody, Shell } from '@/components/shell'
import { ErrorState, LoadingRows } from '@/components/states'
import { EmptyState } from '@/components/states'
import { Button } from '@/components/ui/button'
import SignInPage from '@/pages/sign-in/page'
import { PAGES } from '@/pages/registry'

function Home() {
  const { can } = useSession()
  const first = PAGES.find((p) => can(p.permission))
  return first ? <Navigate to={first.path} replace /> : <NoPages />
}

function NoPages() {
  return (
    <PageBody>
      <EmptyState title="Nothing to show for your role">Your role has none of the permissions the console's pages need; ask an admin.</EmptyState>
    </PageBody>
  )
}

function NotFound() {
  return (
    <PageBody>
      <EmptyState title="No such page" action={<Button asChild variant="outline"><Link to="/">Go to the start page</Link></Button>}>
        This page does not exist, or your role may not use it.
      </EmptyState>
    </PageBody>
  )
}

function SignedIn() {
  const { can } = useSession()
  return (
    <Shell>
      <Suspense fallback={<PageBody><LoadingRows rows={6} /></PageBody>}>
        <Routes>
          <Route path="/" element={<Home />} />
          <Route path="/sign-in" element={<Home />} />
          {/* A page the role may not use is not routed at all: it reads as "no such page". */}
          {PAGES.filter((p) => can(p.permission)).map(({ path, component: Page }) => (
            <Route key={path} path={`${path}/*`} element={<Page />} />
          ))}
          <Route path="*" element={<NotFound />} />
        </Routes>
      </Suspense>
    </Shell>
  )
}

function Gate() {
  const me = useMe()
  if (me.isPending) {
    return (
      <div className="flex h-full items-center justify-center">
        <LoadingRows rows={3} className="w-64" />
      </div>
    )
  }
  if (me.isError) {
    return (
      <div className="mx-auto max-w-xl p-6">
        <ErrorState error={me.error} retry={() => void me.refetch()} service="auth" />
      </div>
    )
  }
  if (me.data === null) return <SignInPage />
  return (
    <SessionProvider me={me.data}>
      <SignedIn />
    </SessionProvider>
  )
}

export function App() {
  return (
    // Behind a reverse proxy at /gateway/, the console's routes live under that prefix.
    <BrowserRouter basename={BASE_PATH.replace(/\/$/, '') || undefined}>
      <Gate />
    </BrowserRouter>
  )
}
