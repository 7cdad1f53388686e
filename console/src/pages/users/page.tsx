/**
 * The people the gateway knows (recorded at their first request or sign-in), within the caller's
 * reach; those who may manage users set a role or a department (the user's keys follow).
 */
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { KeyRoundIcon, PencilIcon, UsersIcon } from 'lucide-react'
import { useState, type FormEvent } from 'react'
import { api } from '@/api/client'
import type { User, UserChange } from '@/api/types'
import { Can, useSession } from '@/auth/session'
import { ApiErrorAlert } from '@/components/api-error-alert'
import { Alert, AlertDescription, AlertTitle } from '@/components/ui/alert'
import { PageHeader } from '@/components/page-header'
import { PageBody } from '@/components/shell'
import { EmptyState, ErrorState, LoadingRows } from '@/components/states'
import { Badge } from '@/components/ui/badge'
import { Button } from '@/components/ui/button'
import { Card } from '@/components/ui/card'
import { Dialog, DialogContent, DialogDescription, DialogFooter, DialogHeader, DialogTitle } from '@/components/ui/dialog'
import { Input } from '@/components/ui/input'
import { Label } from '@/components/ui/label'
import { Select, SelectContent, SelectItem, SelectTrigger, SelectValue } from '@/components/ui/select'
import { Table, TableActionsCell, TableActionsHead, TableBody, TableCell, TableHead, TableHeader, TableRow } from '@/components/ui/table'
import { formatRelative, personName } from '@/lib/format'

function useUsers() {
  return useQuery({ queryKey: ['users'], queryFn: async ({ signal }) => (await api('/users', { query: { limit: 1000 }, signal })).data })
}

/** The roles and departments the pickers offer: this gateway's, from the API (never a list written here). */
function useAccess() {
  return useQuery({
    queryKey: ['users', 'access'],
    queryFn: async ({ signal }) => {
      const [roles, departments] = await Promise.all([api('/users/roles', { signal }), api('/users/departments', { signal })])
      return { roles: roles.data, departments: departments.data }
    },
    staleTime: 60_000,
  })
}

const SCOPE_LABEL = { own_data: 'own data', department_data: 'department', all_data: 'everything' } as const
const NO_DEPARTMENT = '__none__'

function EditUserDialog({ user, onClose }: { user: User | undefined; onClose: () => void }) {
  const queryClient = useQueryClient()
  const access = useAccess()
  const [role, setRole] = useState('')
  const [department, setDepartment] = useState('')
  const save = useMutation({
    mutationFn: async (change: UserChange) => (await api('/users/{id}', { params: { id: user!.id }, method: 'PATCH', body: change })).meta,
    // A department move may revoke keys (those someone else made for the user): the keys page too.
    onSuccess: () => Promise.all([queryClient.invalidateQueries({ queryKey: ['users'] }), queryClient.invalidateQueries({ queryKey: ['keys'] })]),
  })
  const [revoked, setRevoked] = useState<number>()

  function close() {
    save.reset()
    setRevoked(undefined)
    onClose()
  }

  function open(next: boolean) {
    if (!next) close()
  }

  const chosenDepartment = department === NO_DEPARTMENT ? null : department.trim() || null
  const moving = user !== undefined && access.data !== undefined && chosenDepartment !== user.department

  async function submit(event: FormEvent) {
    event.preventDefault()
    const change: { role?: string; department?: string | null } = {}
    if (role && role !== user!.role) change.role = role
    if (chosenDepartment !== user!.department) change.department = chosenDepartment
    const meta = Object.keys(change).length ? await save.mutateAsync(change) : {}
    const revokedKeys = Array.isArray(meta.revoked_keys) ? meta.revoked_keys.length : 0
    // Said before the dialog closes: keys that stopped working are news to whoever moved the user.
    if (revokedKeys > 0) setRevoked(revokedKeys)
    else close()
  }

  // Roles the caller may not give out are shown, disabled, so the list reads the same for everyone.
  const roles = access.data?.roles ?? []
  const departments = access.data?.departments ?? []
  return (
    <Dialog open={user !== undefined} onOpenChange={open}>
      <DialogContent key={user?.id} onOpenAutoFocus={() => { setRole(user?.role ?? ''); setDepartment(user?.department ?? (departments.length ? NO_DEPARTMENT : '')) }}>
        <form onSubmit={submit} className="grid gap-4">
          <DialogHeader>
            <DialogTitle>Edit {user?.name ?? user?.email ?? 'user'}</DialogTitle>
            <DialogDescription>A lower role lowers their keys. A new department takes along the keys they made themselves; keys someone else made for them are revoked.</DialogDescription>
          </DialogHeader>
          {revoked !== undefined && (
            <Alert variant="warning">
              <KeyRoundIcon />
              <div>
                <AlertTitle>Saved. {revoked === 1 ? '1 key was' : `${revoked} keys were`} revoked</AlertTitle>
                <AlertDescription className="mt-1">Keys someone else made for this user (or made before key makers were recorded) do not follow them to another department: whoever holds those keys would reach the new department's data. The user can make new keys.</AlertDescription>
              </div>
            </Alert>
          )}
          {access.isPending && <LoadingRows rows={2} />}
          {access.isError && <ErrorState error={access.error} retry={() => void access.refetch()} />}
          {access.data && (
            <>
              <div className="grid gap-2">
                <Label htmlFor="user-role">Role</Label>
                <Select value={role} onValueChange={setRole}>
                  <SelectTrigger id="user-role"><SelectValue placeholder="Role" /></SelectTrigger>
                  <SelectContent>
                    {roles.map((r) => (
                      <SelectItem key={r.name} value={r.name} disabled={!r.grantable && r.name !== user?.role}>
                        {r.name} <span className="text-xs text-muted-foreground">· {SCOPE_LABEL[r.scope]}</span>
                      </SelectItem>
                    ))}
                  </SelectContent>
                </Select>
              </div>
              <div className="grid gap-2">
                <Label htmlFor="user-department">Department</Label>
                {departments.length > 0 ? (
                  <Select value={department} onValueChange={setDepartment}>
                    <SelectTrigger id="user-department"><SelectValue placeholder="Department" /></SelectTrigger>
                    <SelectContent>
                      <SelectItem value={NO_DEPARTMENT}>none</SelectItem>
                      {departments.map((d) => (
                        <SelectItem key={d.name} value={d.name} disabled={!d.assignable}>{d.name}</SelectItem>
                      ))}
                    </SelectContent>
                  </Select>
                ) : (
                  // gateway.yaml lists no departments: any name is one.
                  <Input id="user-department" value={department} onChange={(e) => setDepartment(e.target.value)} placeholder="none" />
                )}
              </div>
            </>
          )}
          {moving && revoked === undefined && (
            <p className="text-sm text-muted-foreground">Moving them revokes the keys someone else made for them, including keys made before key makers were recorded.</p>
          )}
          <ApiErrorAlert error={save.error} />
          <DialogFooter>
            {revoked !== undefined ? (
              <Button type="button" onClick={close}>Done</Button>
            ) : (
              <>
                <Button type="button" variant="outline" onClick={close}>Cancel</Button>
                <Button type="submit" disabled={save.isPending || !access.data}>{save.isPending ? 'Saving…' : 'Save'}</Button>
              </>
            )}
          </DialogFooter>
        </form>
      </DialogContent>
    </Dialog>
  )
}

export default function UsersPage() {
  const users = useUsers()
  const { me } = useSession()
  const [editing, setEditing] = useState<User>()
  return (
    <PageBody>
      <PageHeader title="Users" description="Everyone who has signed in or called the gateway, with their role and department." />
      {users.isPending && <LoadingRows rows={5} />}
      {users.isError && <ErrorState error={users.error} retry={() => void users.refetch()} service="users" />}
      {users.data?.length === 0 && (
        <EmptyState icon={<UsersIcon />} title="No users yet">
          {/* Without auth: every caller is the one anonymous admin, whom the store does not record. */}
          {me.anonymous
            ? <>Without sign-in (<code className="font-mono text-xs">auth:</code> in gateway.yaml) every caller is the anonymous admin, and no one is recorded. With it, people appear here after their first sign-in or request.</>
            : 'People appear here after their first sign-in or request.'}
        </EmptyState>
      )}
      {users.data && users.data.length > 0 && (
        <Card className="overflow-hidden">
          <Table>
            <TableHeader>
              <TableRow>
                <TableHead>User</TableHead>
                <TableHead>Role</TableHead>
                <TableHead>Department</TableHead>
                <TableHead className="hidden md:table-cell">Last seen</TableHead>
                <Can permission="manage_users"><TableActionsHead><span className="sr-only">Edit</span></TableActionsHead></Can>
              </TableRow>
            </TableHeader>
            <TableBody>
              {users.data.map((user) => (
                <TableRow key={user.id}>
                  <TableCell>
                    <div className="font-medium">{personName(user)}</div>
                    <div className="max-w-64 truncate text-xs text-muted-foreground">{user.email ?? user.external_subject}</div>
                  </TableCell>
                  <TableCell><Badge variant={user.role === 'admin' ? 'default' : 'secondary'}>{user.role}</Badge></TableCell>
                  <TableCell>{user.department ?? <span className="text-muted-foreground">—</span>}</TableCell>
                  <TableCell className="hidden text-muted-foreground md:table-cell">{formatRelative(user.last_seen_at)}</TableCell>
                  <Can permission="manage_users">
                    <TableActionsCell>
                      <Button variant="ghost" size="icon" aria-label={`Edit ${user.name ?? user.email ?? user.id}`} onClick={() => setEditing(user)}>
                        <PencilIcon />
                      </Button>
                    </TableActionsCell>
                  </Can>
                </TableRow>
              ))}
            </TableBody>
          </Table>
        </Card>
      )}
      <EditUserDialog user={editing} onClose={() => setEditing(undefined)} />
    </PageBody>
  )
}
