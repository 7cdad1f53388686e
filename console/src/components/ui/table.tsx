import type { ComponentProps } from 'react'
import { cn } from '@/lib/utils'

export const Table = ({ className, ...props }: ComponentProps<'table'>) => (
  <div className="relative w-full overflow-x-auto">
    <table className={cn('w-full caption-bottom text-sm', className)} {...props} />
  </div>
)
export const TableHeader = ({ className, ...props }: ComponentProps<'thead'>) => <thead className={cn('[&_tr]:border-b', className)} {...props} />
export const TableBody = ({ className, ...props }: ComponentProps<'tbody'>) => <tbody className={cn('[&_tr:last-child]:border-0', className)} {...props} />
export const TableRow = ({ className, ...props }: ComponentProps<'tr'>) => (
  <tr className={cn('border-b transition-colors hover:bg-muted/40 data-[state=selected]:bg-muted', className)} {...props} />
)
export const TableHead = ({ className, ...props }: ComponentProps<'th'>) => (
  <th className={cn('h-10 px-3 text-left align-middle text-xs font-medium uppercase tracking-wide whitespace-nowrap text-muted-foreground', className)} {...props} />
)
export const TableCell = ({ className, ...props }: ComponentProps<'td'>) => (
  <td className={cn('px-3 py-2.5 align-middle whitespace-nowrap', className)} {...props} />
)

/**
 * A row's actions, the last column: it stays at the right edge while a narrow screen scrolls the
 * table sideways (a phone would otherwise have the buttons off-screen), its shadow the cue that
 * more of the row is underneath.
 */
const STICKY_END = 'sticky right-0 z-10 w-10 bg-card shadow-[-6px_0_6px_-6px_rgb(0_0_0/0.25)] md:shadow-none'
export const TableActionsHead = ({ className, ...props }: ComponentProps<'th'>) => <TableHead className={cn(STICKY_END, className)} {...props} />
export const TableActionsCell = ({ className, ...props }: ComponentProps<'td'>) => <TableCell className={cn(STICKY_END, className)} {...props} />
