/**
 * What the running config is doing, refreshed every few seconds: its version and reloads, the
 * last reload error, providers left out (no key in the environment), and every route with its
 * targets' circuit state (healthy, failing — paused, testing) and latency, and a glob route's
 * models whose breaker is open (GET /health, GET /api/v1/admin/routes).
 */
import { useQuery } from '@tanstack/react-query'
import { CircleAlertIcon, RouteIcon } from 'lucide-react'
import { api, plain } from '@/api/client'
import type { Health, RouteState } from '@/api/types'
import { PageHeader } from '@/components/page-header'
import { PageBody } from '@/components/shell'
import { EmptyState, ErrorState, LoadingRows } from '@/components/states'
import { Alert, AlertDescription, AlertTitle } from '@/components/ui/alert'
import { Badge } from '@/components/ui/badge'
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from '@/components/ui/card'
import { Skeleton } from '@/components/ui/skeleton'
import { formatDateTime, formatMs } from '@/lib/format'

const REFRESH_MS = 5000
/**
 * A breaker's state in plain words ("closed" read as "down" to anyone who does not know breaker
 * terms); the raw state stays in the badge's title.
 */
const CIRCUIT = {
  closed: { label: 'healthy', badge: 'success' },
  open: { label: 'failing — paused', badge: 'destructive' },
  'half-open': { label: 'testing', badge: 'warning' },
} as const
type CircuitState = keyof typeof CIRCUIT

/** A breaker's state as a badge: the plain label, the raw state and what it means in the title. */
function CircuitBadge({ state, detail, prefix, className }: { state: CircuitState; detail: string; prefix?: string; className?: string }) {
  const circuit = CIRCUIT[state]
  return (
    <Badge variant={prefix ? 'outline' : circuit?.badge ?? 'secondary'} className={className} title={`circuit ${state}: ${detail}`} data-circuit={state}>
      {prefix}{circuit?.label ?? state}
    </Badge>
  )
}
/** A glob target's open models named under it; the rest counted. */
const OPEN_MODELS_NAMED = 5

function circuitDetail(state: CircuitState, retryInMs: number, recentFailures?: number): string {
  if (state === 'open') return `requests skip it; retry in ${formatMs(retryInMs)}`
  if (state === 'half-open') return 'one probe request goes through'
  return recentFailures === undefined ? 'requests go through' : `requests go through; ${recentFailures} recent failures`
}

function useHealth() {
  return useQuery({ queryKey: ['health'], queryFn: ({ signal }) => plain<Health>('/health', { signal }), refetchInterval: REFRESH_MS })
}
function useRoutes() {
  return useQuery({ queryKey: ['admin', 'routes'], queryFn: async ({ signal }) => (await api('/admin/routes', { signal })).data, refetchInterval: REFRESH_MS })
}

function Fact({ label, children }: { label: string; children: React.ReactNode }) {
  return (
    <div className="min-w-0">
      <dt className="text-xs text-muted-foreground">{label}</dt>
      {/* Wrapped, not truncated: at phone width a cut-off "Loaded" lost its time, the part that matters. */}
      <dd className="mt-0.5 text-sm font-medium break-words">{children}</dd>
    </div>
  )
}

function ConfigCard({ health }: { health: Health }) {
  const { config } = health
  const disabled = Object.entries(config.providers_disabled)
  return (
    <Card>
      <CardHeader className="flex-row items-center justify-between">
        <div>
          <CardTitle>Configuration</CardTitle>
          <CardDescription>{config.source}</CardDescription>
        </div>
        <Badge variant={health.status === 'ok' ? 'success' : 'warning'}>{health.status}</Badge>
      </CardHeader>
      <CardContent className="space-y-4">
        <dl className="grid grid-cols-2 gap-4 sm:grid-cols-4">
          <Fact label="Version"><span className="font-mono">{config.version.slice(0, 12)}</span></Fact>
          <Fact label="Loaded">{formatDateTime(config.loaded_at)}</Fact>
          <Fact label="Reloads">{config.reloads.ok} ok · {config.reloads.failed} failed</Fact>
          <Fact label="Process">pid {health.pid}</Fact>
        </dl>
        {config.last_error && (
          <Alert variant="destructive">
            <CircleAlertIcon />
            <div>
              <AlertTitle>The last reload failed ({formatDateTime(config.last_error.at)}); the previous config keeps serving</AlertTitle>
              <AlertDescription className="mt-1 font-mono text-xs whitespace-pre-wrap">{config.last_error.message}</AlertDescription>
            </div>
          </Alert>
        )}
        {config.restart_required.length > 0 && (
          <Alert variant="warning"><AlertDescription>Changed settings need a restart: {config.restart_required.join(', ')}</AlertDescription></Alert>
        )}
        {disabled.length > 0 && (
          <div>
            <p className="mb-2 text-xs text-muted-foreground">Providers left out</p>
            {/* Why, in words (a key not in the environment): a hover title is not there on a phone. */}
            <ul className="flex flex-col gap-1.5">
              {disabled.map(([name, reason]) => (
                <li key={name} className="flex flex-wrap items-center gap-2 text-sm"><Badge variant="secondary">{name}</Badge><span className="text-muted-foreground">{reason}</span></li>
              ))}
            </ul>
            {config.routes_unavailable.length > 0 && <p className="mt-2 text-xs text-muted-foreground">Routes without a target: {config.routes_unavailable.join(', ')}</p>}
          </div>
        )}
      </CardContent>
    </Card>
  )
}

function RouteCard({ route }: { route: RouteState }) {
  return (
    <Card data-route={route.model}>
      <CardHeader className="flex-row items-center justify-between gap-2">
        <CardTitle className="truncate font-mono">{route.model}</CardTitle>
        <div className="flex shrink-0 gap-1.5">
          {route.conditional && <Badge variant="outline">conditional</Badge>}
          <Badge variant="secondary">{route.strategy}</Badge>
        </div>
      </CardHeader>
      <CardContent>
        <ul className="divide-y">
          {route.targets.map((t, i) => (
            <li key={i} className="py-2 text-sm">
              <div className="flex items-center justify-between gap-3">
                <span className="min-w-0 truncate">
                  <span className="font-medium">{t.provider}</span>
                  <span className="text-muted-foreground"> · {t.model ?? 'model as asked'}</span>
                </span>
                <span className="flex shrink-0 items-center gap-2 text-xs text-muted-foreground">
                  {t.circuit?.latency_ms != null && <span>{formatMs(t.circuit.latency_ms)}</span>}
                  {/* null: the gateway runs without stage.routing, so no breakers. A glob target's own is only its latency: its models' follow. */}
                  {t.circuit && !t.open_models && (
                    <CircuitBadge state={t.circuit.state} detail={circuitDetail(t.circuit.state, t.circuit.retry_in_ms, t.circuit.recent_failures)} />
                  )}
                  {t.open_models && t.open_models.length === 0 && <CircuitBadge state="closed" detail="no model's breaker is open" />}
                  {t.open_models && t.open_models.length > 0 && (
                    <Badge variant="destructive" title={`circuit open or half-open for ${t.open_models.length} ${t.open_models.length === 1 ? 'model' : 'models'}`}>
                      {t.open_models.length} {t.open_models.length === 1 ? 'model' : 'models'} failing
                    </Badge>
                  )}
                </span>
              </div>
              {/* Each model a glob target sends has its own breaker: the open ones by name, so a rate-limited model is seen. */}
              {t.open_models && t.open_models.length > 0 && (
                <ul className="mt-1.5 flex flex-wrap gap-1.5" aria-label={`Failing models of ${t.provider}`}>
                  {t.open_models.slice(0, OPEN_MODELS_NAMED).map((m) => (
                    <li key={m.model}>
                      <CircuitBadge state={m.state} detail={circuitDetail(m.state, m.retry_in_ms)} prefix={`${m.model} · `} className="max-w-full font-mono font-normal break-all" />
                    </li>
                  ))}
                  {t.open_models.length > OPEN_MODELS_NAMED && <li className="text-xs text-muted-foreground self-center">and {t.open_models.length - OPEN_MODELS_NAMED} more</li>}
                </ul>
              )}
            </li>
          ))}
        </ul>
      </CardContent>
    </Card>
  )
}

export default function GatewayPage() {
  const health = useHealth()
  const routes = useRoutes()
  return (
    <PageBody>
      <PageHeader
        title="Gateway"
        description="The running configuration and the state of every route. Refreshes every 5 seconds."
        actions={<span className="flex items-center gap-2 text-xs text-muted-foreground"><span className="size-2 animate-pulse rounded-full bg-emerald-500" /> live</span>}
      />
      <div className="space-y-6">
        {health.isPending && <Skeleton className="h-40 w-full rounded-xl" />}
        {health.isError && <ErrorState error={health.error} retry={() => void health.refetch()} />}
        {health.data && <ConfigCard health={health.data} />}
        <section>
          <h2 className="mb-3 text-sm font-semibold">Routes</h2>
          {routes.isPending && <LoadingRows rows={4} />}
          {routes.isError && <ErrorState error={routes.error} retry={() => void routes.refetch()} />}
          {routes.data?.length === 0 && <EmptyState icon={<RouteIcon />} title="No routes">Add routes under <code className="font-mono text-xs">routes:</code> in gateway.yaml.</EmptyState>}
          {routes.data && routes.data.length > 0 && (
            <div className="grid gap-4 md:grid-cols-2">
              {routes.data.map((route, i) => <RouteCard key={`${route.model}-${i}`} route={route} />)}
            </div>
          )}
        </section>
      </div>
    </PageBody>
  )
}
