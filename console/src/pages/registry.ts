/** The console's pages, in navigation order, with the permission each needs (the API checks it too). */
import { BarChart3Icon, BookOpenIcon, BotIcon, GraduationCapIcon, KeyRoundIcon, MessageSquareIcon, ServerIcon, UsersIcon, type LucideIcon } from 'lucide-react'
import { lazy, type ComponentType, type LazyExoticComponent } from 'react'

export interface PageEntry {
  readonly path: string
  readonly label: string
  readonly icon: LucideIcon
  readonly permission: string
  readonly component: LazyExoticComponent<ComponentType>
}

// Each page is its own chunk: the first load fetches the shell and the page it opens on only.
export const PAGES: readonly PageEntry[] = [
  { path: '/chat', label: 'Chat', icon: MessageSquareIcon, permission: 'chat', component: lazy(() => import('./chat/page')) },
  { path: '/assistants', label: 'Assistants', icon: BotIcon, permission: 'view_assistants', component: lazy(() => import('./assistants/page')) },
  { path: '/knowledge', label: 'Knowledge', icon: BookOpenIcon, permission: 'chat', component: lazy(() => import('./knowledge/page')) },
  { path: '/training', label: 'Training', icon: GraduationCapIcon, permission: 'manage_training', component: lazy(() => import('./training/page')) },
  { path: '/analytics', label: 'Analytics', icon: BarChart3Icon, permission: 'view_analytics', component: lazy(() => import('./analytics/page')) },
  { path: '/keys', label: 'API keys', icon: KeyRoundIcon, permission: 'manage_keys', component: lazy(() => import('./keys/page')) },
  { path: '/users', label: 'Users', icon: UsersIcon, permission: 'view_users', component: lazy(() => import('./users/page')) },
  { path: '/gateway', label: 'Gateway', icon: ServerIcon, permission: 'manage_gateway', component: lazy(() => import('./gateway/page')) },
]
