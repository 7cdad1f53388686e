/**
 * API keys within the caller's reach (their own, their department's, or all), with whose each is,
 * who made it, and what it has spent this UTC day and month against its budget: create one (its secret is shown once, with a copy button), rotate it after a
 * confirmation (a new secret for the same key, which keeps its id, limits and usage; the old
 * secret stops working at once or after a grace), revoke.
 */
import { KeyRoundIcon, MoreHorizontalIcon, PlusIcon, RotateCwIcon, TriangleAlertIcon, XCircleIcon } from 'lucide-react'
import { useState, type FormEvent } from 'react'
import type { CreatedKey, ListedKey } from '@/api/types'
import { useSession } from '@/auth/session'
import { ApiErrorAlert } from '@/components/api-error-alert'
import { ConfirmDialog } from '@/components/confirm-dialog'
import { CopyButton } from '@/components/copy-button'
import { PageHeader } from '@/components/page-header'
import { PageBody } from '@/components/shell'
import { EmptyState, ErrorState, LoadingRows } from '@/components/states'
import { Alert, AlertDescription } from '@/components/ui/alert'
import { Badge } from '@/components/ui/badge'
import { Button } from '@/components/ui/button'
import { Card } from '@/components/ui/card'
import { Dialog, DialogContent, DialogDescription, DialogFooter, DialogHeader, DialogTitle } from '@/components/ui/dialog'
import { DropdownMenu, DropdownMenuContent, DropdownMenuItem, DropdownMenuTrigger } from '@/components/ui/dropdown-menu'
import { Input } from '@/components/ui/input'
import { Label } from '@/components/ui/label'
import { Select, SelectContent, SelectItem, SelectTrigger, SelectValue } from '@/components/ui/select'
import { Table, TableActionsCell, TableActionsHead, TableBody, TableCell, TableHead, TableHeader, TableRow } from '@/components/ui/table'
import { formatDateTime, formatRelative, personName } from '@/lib/format'
import { useCreateKey, useKeys, useRevokeKey, useRotateKey } from './queries'
import { KeySpend } from './spend'

const STATUS_BADGE = { active: 'success', revoked: 'destructive', expired: 'secondary' } as const
const EXPIRY_DAYS = { never: 0, '30': 30, '90': 90, '365': 365 } as const

function CreateKeyDialog({ open, onOpenChange, onCreated }: { open: boolean; onOpenChange: (open: boolean) => void; onCreated: (key: CreatedKey) => void }) {
  const create = useCreateKey()
  const [name, setName] = useState('')
  const [models, setModels] = useState('')
  const [expiry, setExpiry] = useState<keyof typeof EXPIRY_DAYS>('90')

  async function submit(event: FormEvent) {
    event.preventDefault()
    const days = EXPIRY_DAYS[expiry]
    const allowed = models.split(',').map((m) => m.trim()).filter(Boolean)
    const key = await create.mutateAsync({
      name: name.trim(),
      ...(allowed.length ? { allowed_models: allowed } : {}),
      ...(days ? { expires_at: new Date(Date.now() + days * 86_400_000).toISOString() } : {}),
    })
    setName('')
    setModels('')
    onCreated(key)
  }

  return (
    <Dialog open={open} onOpenChange={(next) => { create.reset(); onOpenChange(next) }}>
      <DialogContent>
        <form onSubmit={submit} className="grid gap-4">
          <DialogHeader>
            <DialogTitle>New API key</DialogTitle>
            <DialogDescription>It acts as you, with your role and department, limited by what you set here.</DialogDescription>
          </DialogHeader>
          <div className="grid gap-2">
            <Label htmlFor="key-name">Name</Label>
            <Input id="key-name" value={name} onChange={(e) => setName(e.target.value)} placeholder="e.g. notebook, ci-pipeline" maxLength={100} required />
          </div>
          <div className="grid gap-2">
            <Label htmlFor="key-models">Allowed models <span className="font-normal text-muted-foreground">(optional, comma-separated, globs allowed)</span></Label>
            <Input id="key-models" value={models} onChange={(e) => setModels(e.target.value)} placeholder="all your role allows" />
          </div>
          <div className="grid gap-2">
            <Label htmlFor="key-expiry">Expires</Label>
            <Select value={expiry} onValueChange={(v) => setExpiry(v as keyof typeof EXPIRY_DAYS)}>
              <SelectTrigger id="key-expiry"><SelectValue /></SelectTrigger>
              <SelectContent>
                <SelectItem value="30">in 30 days</SelectItem>
                <SelectItem value="90">in 90 days</SelectItem>
                <SelectItem value="365">in a year</SelectItem>
                <SelectItem value="never">never</SelectItem>
              </SelectContent>
            </Select>
          </div>
          <ApiErrorAlert error={create.error} />
          <DialogFooter>
            <Button type="button" variant="outline" onClick={() => onOpenChange(false)}>Cancel</Button>
            <Button type="submit" disabled={create.isPending || !name.trim()}>{create.isPending ? 'Creating…' : 'Create key'}</Button>
          </DialogFooter>
        </form>
      </DialogContent>
    </Dialog>
  )
}

/** The secret of a new or rotated key: shown here once, never again. */
function SecretDialog({ secret, onClose }: { secret: CreatedKey | undefined; onClose: () => void }) {
  const graceUntil = secret?.replaces && secret.previous_secret_expires_at && Date.parse(secret.previous_secret_expires_at) > Date.now() ? secret.previous_secret_expires_at : undefined
  return (
    // Only "I have copied it" closes it: a click outside, Escape or a corner X would lose the secret for good.
    <Dialog open={secret !== undefined} onOpenChange={(open) => !open && onClose()}>
      <DialogContent onInteractOutside={(e) => e.preventDefault()} onEscapeKeyDown={(e) => e.preventDefault()} showCloseButton={false}>
        <DialogHeader>
          <DialogTitle>{secret?.replaces ? 'Key rotated' : 'Key created'}</DialogTitle>
          <DialogDescription>
            Copy it now: the gateway keeps only a hash and cannot show it again.
            {secret?.replaces && (graceUntil
              ? ` The old secret works until ${formatDateTime(graceUntil)}, then stops; the key keeps its limits, budget and usage.`
              : ' The old secret no longer works; the key keeps its limits, budget and usage.')}
          </DialogDescription>
        </DialogHeader>
        <div className="flex items-center gap-2">
          <Input readOnly value={secret?.key ?? ''} className="font-mono text-xs" data-copy-source aria-label="New key" onFocus={(e) => e.target.select()} />
          {secret && <CopyButton text={secret.key} />}
        </div>
        <Alert variant="warning">
          <TriangleAlertIcon />
          <AlertDescription>Anyone with this key can call the gateway as {secret?.name ?? 'this key'}. Keep it in a secret store, not in code.</AlertDescription>
        </Alert>
        <DialogFooter>
          <Button onClick={onClose}>I have copied it</Button>
        </DialogFooter>
      </DialogContent>
    </Dialog>
  )
}

/** How long the old secret keeps working after a rotation (grace_s), as the rotate dialog offers it. */
const GRACE = { '0': 'at once', '3600': 'after an hour', '86400': 'after a day', '604800': 'after 7 days' } as const

function ConfirmRotate({ target, onClose, onRotated }: { target: ListedKey | undefined; onClose: () => void; onRotated: (key: CreatedKey) => void }) {
  const rotate = useRotateKey()
  const [grace, setGrace] = useState<keyof typeof GRACE>('0')
  const close = () => { rotate.reset(); setGrace('0'); onClose() }
  return (
    <Dialog open={target !== undefined} onOpenChange={(open) => { if (!open) close() }}>
      <DialogContent>
        <DialogHeader>
          <DialogTitle>Rotate {target?.name ?? target?.prefix}?</DialogTitle>
          <DialogDescription>
            A new secret replaces this key's, shown once. The key keeps its id, limits, budget and usage.
          </DialogDescription>
        </DialogHeader>
        <div className="grid gap-2">
          <Label htmlFor="rotate-grace">The old secret stops working</Label>
          <Select value={grace} onValueChange={(v) => setGrace(v as keyof typeof GRACE)}>
            <SelectTrigger id="rotate-grace"><SelectValue /></SelectTrigger>
            <SelectContent>
              {Object.entries(GRACE).map(([seconds, label]) => <SelectItem key={seconds} value={seconds}>{label}</SelectItem>)}
            </SelectContent>
          </Select>
          <p className="text-sm text-muted-foreground">
            {grace === '0'
              ? 'Whatever uses the old secret is refused from now on, until it has the new one.'
              : 'Until then both secrets work (never past the key\'s expiry), so clients can switch without an outage.'}
          </p>
        </div>
        <ApiErrorAlert error={rotate.error} prefix="Rotation failed: " />
        <DialogFooter>
          <Button variant="outline" onClick={close}>Cancel</Button>
          <Button disabled={rotate.isPending} onClick={async () => { const key = await rotate.mutateAsync({ id: target!.id, graceS: Number(grace) }); close(); onRotated(key) }}>
            {rotate.isPending ? 'Rotating…' : 'Rotate key'}
          </Button>
        </DialogFooter>
      </DialogContent>
    </Dialog>
  )
}

/** Whose key it is and, when someone else made it, who did (they saw its secret). */
function KeyOwner({ apiKey }: { apiKey: ListedKey }) {
  const owner = apiKey.owner ? personName(apiKey.owner) : apiKey.user_id
  const madeBy = apiKey.created_by !== null && apiKey.created_by !== apiKey.user_id ? (apiKey.creator ? personName(apiKey.creator) : apiKey.created_by) : undefined
  return (
    <>
      <div className="max-w-48 truncate">{owner ?? <span className="text-muted-foreground">service key</span>}</div>
      {madeBy && <div className="max-w-48 truncate text-xs text-muted-foreground">made by {madeBy}</div>}
    </>
  )
}

/** The key's name for buttons and dialogs; with its owner's when keys of several people are listed. */
function keyLabel(apiKey: ListedKey, withOwner: boolean): string {
  const name = apiKey.name ?? apiKey.prefix
  if (!withOwner) return name
  return `${name} of ${apiKey.owner ? personName(apiKey.owner) : apiKey.user_id ?? 'no one (service key)'}`
}

function ConfirmRevoke({ target, onClose }: { target: ListedKey | undefined; onClose: () => void }) {
  const revoke = useRevokeKey()
  return (
    <ConfirmDialog open={target !== undefined} title={`Revoke ${target?.name ?? target?.prefix}?`} action="Revoke key" pendingAction="Revoking…" change={revoke} onConfirm={() => revoke.mutateAsync(target!.id)} onClose={onClose}>
      Requests with this key are refused from now on. This cannot be undone.
    </ConfirmDialog>
  )
}

export default function KeysPage() {
  const [showRevoked, setShowRevoked] = useState(false)
  const keys = useKeys(showRevoked)
  // Someone who sees only their own keys needs no owner column; anyone else cannot tell two "notebook"s apart without it.
  const othersKeys = useSession().me.scope !== 'own_data'
  const [creating, setCreating] = useState(false)
  const [secret, setSecret] = useState<CreatedKey>()
  const [rotating, setRotating] = useState<ListedKey>()
  const [revoking, setRevoking] = useState<ListedKey>()

  const newKey = (
    <Button onClick={() => setCreating(true)}>
      <PlusIcon /> New key
    </Button>
  )

  return (
    <PageBody>
      <PageHeader
        title="API keys"
        description="Keys for scripts and applications: OpenAI's SDKs take them as their API key."
        actions={
          <>
            <Button variant="outline" onClick={() => setShowRevoked((v) => !v)} aria-pressed={showRevoked}>
              {showRevoked ? 'Hide revoked' : 'Show revoked'}
            </Button>
            {newKey}
          </>
        }
      />
      {keys.isPending && <LoadingRows rows={5} />}
      {keys.isError && <ErrorState error={keys.error} retry={() => void keys.refetch()} service="keys" />}
      {keys.data?.length === 0 && (
        <EmptyState icon={<KeyRoundIcon />} title="No keys yet" action={newKey}>
          Create a key to call the gateway from code: <code className="font-mono text-xs">base_url=…/v1</code> and the key as the API key.
        </EmptyState>
      )}
      {keys.data && keys.data.length > 0 && (
        <Card className="overflow-hidden">
          <Table>
            <TableHeader>
              <TableRow>
                <TableHead>Name</TableHead>
                {othersKeys && <TableHead>Owner</TableHead>}
                <TableHead>Key</TableHead>
                <TableHead className="hidden sm:table-cell">Status</TableHead>
                <TableHead className="hidden sm:table-cell" title="Budgets run on the UTC day and calendar month">Spend (UTC)</TableHead>
                <TableHead>Role</TableHead>
                <TableHead className="hidden lg:table-cell">Department</TableHead>
                <TableHead className="hidden md:table-cell">Last used</TableHead>
                <TableHead className="hidden lg:table-cell">Expires</TableHead>
                <TableActionsHead><span className="sr-only">Actions</span></TableActionsHead>
              </TableRow>
            </TableHeader>
            <TableBody>
              {keys.data.map((key) => (
                <TableRow key={key.id} data-key-id={key.id}>
                  {/* Cut off with an ellipsis at max-w-48: the whole name on hover. Below sm the status sits beside
                      the name: in its own column it started off-screen at phone width, so a revoked key looked live. */}
                  <TableCell className="max-w-48 font-medium">
                    <div className="flex min-w-0 items-center gap-2">
                      <span className="truncate" title={key.name ?? undefined}>{key.name ?? '—'}</span>
                      <Badge variant={STATUS_BADGE[key.status]} className="shrink-0 sm:hidden" data-key-status>{key.status}</Badge>
                    </div>
                    {/* Below sm the spend is here too: in its own column it is off-screen, an over-budget key unseen. */}
                    <div className="mt-1 sm:hidden"><KeySpend apiKey={key} compact /></div>
                  </TableCell>
                  {othersKeys && <TableCell data-owner><KeyOwner apiKey={key} /></TableCell>}
                  <TableCell className="font-mono text-xs text-muted-foreground">{key.prefix}…</TableCell>
                  <TableCell className="hidden sm:table-cell"><Badge variant={STATUS_BADGE[key.status]} data-key-status>{key.status}</Badge></TableCell>
                  <TableCell className="hidden sm:table-cell" data-spend-column><KeySpend apiKey={key} /></TableCell>
                  <TableCell>{key.role}</TableCell>
                  <TableCell className="hidden lg:table-cell">{key.department ?? '—'}</TableCell>
                  <TableCell className="hidden text-muted-foreground md:table-cell">{formatRelative(key.last_used_at)}</TableCell>
                  <TableCell className="hidden text-muted-foreground lg:table-cell">{key.expires_at ? formatDateTime(key.expires_at) : 'never'}</TableCell>
                  <TableActionsCell>
                    {key.status === 'active' && (
                      <DropdownMenu>
                        <DropdownMenuTrigger asChild>
                          <Button variant="ghost" size="icon" aria-label={`Actions for ${keyLabel(key, othersKeys)}`}>
                            <MoreHorizontalIcon />
                          </Button>
                        </DropdownMenuTrigger>
                        <DropdownMenuContent align="end">
                          <DropdownMenuItem onSelect={() => setRotating(key)}>
                            <RotateCwIcon /> Rotate
                          </DropdownMenuItem>
                          <DropdownMenuItem className="text-destructive focus:text-destructive" onSelect={() => setRevoking(key)}>
                            <XCircleIcon /> Revoke
                          </DropdownMenuItem>
                        </DropdownMenuContent>
                      </DropdownMenu>
                    )}
                  </TableActionsCell>
                </TableRow>
              ))}
            </TableBody>
          </Table>
        </Card>
      )}
      <CreateKeyDialog open={creating} onOpenChange={setCreating} onCreated={(key) => { setCreating(false); setSecret(key) }} />
      <SecretDialog secret={secret} onClose={() => setSecret(undefined)} />
      <ConfirmRotate target={rotating} onClose={() => setRotating(undefined)} onRotated={setSecret} />
      <ConfirmRevoke target={revoking} onClose={() => setRevoking(undefined)} />
    </PageBody>
  )
}
