/**
 * The frame around every page: the navigation (only the pages the caller's role may use), the
 * signed-in user with sign-out, and the anonymous-admin banner of a gateway without `auth:`.
 * A sidebar on wide screens, a top bar with a menu sheet on phones.
 */
import { Dialog as DialogPrimitive } from 'radix-ui'
import { LogOutIcon, MenuIcon, ShieldAlertIcon, XIcon } from 'lucide-react'
import { useState, type ReactNode } from 'react'
import { NavLink } from 'react-router'
import { useSession } from '@/auth/session'
import { Button } from '@/components/ui/button'
import { DropdownMenu, DropdownMenuContent, DropdownMenuItem, DropdownMenuLabel, DropdownMenuSeparator, DropdownMenuTrigger } from '@/components/ui/dropdown-menu'
import { PAGES } from '@/pages/registry'
import { cn } from '@/lib/utils'

function Logo() {
  return (
    <div className="flex items-center gap-2 px-2 font-semibold tracking-tight">
      <img src="favicon.svg" alt="" className="size-7" />
      <span>AI Gateway</span>
    </div>
  )
}

function Nav({ onNavigate }: { onNavigate?: () => void }) {
  const { can } = useSession()
  return (
    <nav aria-label="Main" className="flex flex-col gap-1">
      {PAGES.filter((p) => can(p.permission)).map(({ path, label, icon: Icon }) => (
        <NavLink
          key={path}
          to={path}
          onClick={onNavigate}
          className={({ isActive }) =>
            cn(
              'flex items-center gap-3 rounded-md px-3 py-2 text-sm font-medium text-muted-foreground transition-colors hover:bg-accent hover:text-accent-foreground',
              isActive && 'bg-accent text-accent-foreground',
            )
          }
        >
          <Icon className="size-4" />
          {label}
        </NavLink>
      ))}
    </nav>
  )
}

function UserMenu({ compact = false }: { compact?: boolean }) {
  const { me, signOut } = useSession()
  const name = me.anonymous ? 'Anonymous admin' : me.name ?? me.email ?? me.user_id
  const initials = name.split(/[\s@._-]+/).filter(Boolean).slice(0, 2).map((s) => s[0]!.toUpperCase()).join('')
  return (
    <DropdownMenu>
      <DropdownMenuTrigger asChild>
        <button type="button" className={cn('flex min-w-0 items-center gap-3 rounded-md p-2 text-left hover:bg-accent', !compact && 'w-full')} aria-label="Account">
          <span className="flex size-8 shrink-0 items-center justify-center rounded-full bg-primary/10 text-xs font-semibold text-primary">{initials || '?'}</span>
          {!compact && (
            <span className="min-w-0">
              <span className="block truncate text-sm font-medium">{name}</span>
              <span className="block truncate text-xs text-muted-foreground">
                {me.role}
                {me.department ? ` · ${me.department}` : ''}
              </span>
            </span>
          )}
        </button>
      </DropdownMenuTrigger>
      <DropdownMenuContent align="end" className="w-56">
        <DropdownMenuLabel>
          <div className="truncate font-medium">{name}</div>
          <div className="truncate text-xs font-normal text-muted-foreground">{me.email ?? me.user_id}</div>
        </DropdownMenuLabel>
        {me.session && (
          <>
            <DropdownMenuSeparator />
            <DropdownMenuItem onSelect={() => void signOut()}>
              <LogOutIcon /> Sign out
            </DropdownMenuItem>
          </>
        )}
      </DropdownMenuContent>
    </DropdownMenu>
  )
}

function AnonymousBanner() {
  return (
    <div role="status" className="flex items-center gap-2 border-b border-amber-500/30 bg-warning px-4 py-2 text-sm text-warning-foreground">
      <ShieldAlertIcon className="size-4 shrink-0" />
      <span>
        <strong className="font-semibold">No sign-in configured:</strong> you are the anonymous admin, and so is anyone who can reach this gateway. Add{' '}
        <code className="font-mono text-xs">auth:</code> to gateway.yaml before exposing it.
      </span>
    </div>
  )
}

export function Shell({ children }: { children: ReactNode }) {
  const { me } = useSession()
  const [open, setOpen] = useState(false)
  return (
    <div className="flex h-full flex-col">
      {me.anonymous && <AnonymousBanner />}
      <div className="flex min-h-0 flex-1">
        <aside className="hidden w-60 shrink-0 flex-col justify-between border-r bg-card p-3 md:flex">
          <div className="space-y-6">
            <div className="pt-2">
              <Logo />
            </div>
            <Nav />
          </div>
          <UserMenu />
        </aside>
        <div className="flex min-w-0 flex-1 flex-col">
          <header className="flex items-center justify-between border-b bg-card px-3 py-2 md:hidden">
            <DialogPrimitive.Root open={open} onOpenChange={setOpen}>
              <DialogPrimitive.Trigger asChild>
                <Button variant="ghost" size="icon" aria-label="Open navigation">
                  <MenuIcon />
                </Button>
              </DialogPrimitive.Trigger>
              <DialogPrimitive.Portal>
                <DialogPrimitive.Overlay className="fixed inset-0 z-50 bg-black/40" />
                <DialogPrimitive.Content className="fixed inset-y-0 left-0 z-50 flex w-72 max-w-[85vw] flex-col gap-6 border-r bg-card p-4 shadow-lg">
                  <div className="flex items-center justify-between">
                    <DialogPrimitive.Title asChild>
                      <div><Logo /></div>
                    </DialogPrimitive.Title>
                    <DialogPrimitive.Close asChild>
                      <Button variant="ghost" size="icon" aria-label="Close navigation">
                        <XIcon />
                      </Button>
                    </DialogPrimitive.Close>
                  </div>
                  <DialogPrimitive.Description className="sr-only">Pages of the console</DialogPrimitive.Description>
                  <Nav onNavigate={() => setOpen(false)} />
                </DialogPrimitive.Content>
              </DialogPrimitive.Portal>
            </DialogPrimitive.Root>
            <Logo />
            <UserMenu compact />
          </header>
          <main className="min-h-0 flex-1 overflow-y-auto">{children}</main>
        </div>
      </div>
    </div>
  )
}

/** The usual width and padding of a page's content. */
export function PageBody({ children, className }: { children: ReactNode; className?: string }) {
  return <div className={cn('mx-auto w-full max-w-6xl px-4 py-6 sm:px-6 lg:py-8', className)}>{children}</div>
}
