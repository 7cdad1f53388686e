import { cva, type VariantProps } from 'class-variance-authority'
import type { ComponentProps } from 'react'
import { cn } from '@/lib/utils'

const alertVariants = cva('relative flex w-full gap-3 rounded-lg border px-4 py-3 text-sm [&>svg]:mt-0.5 [&>svg]:size-4 [&>svg]:shrink-0', {
  variants: {
    variant: {
      default: 'bg-card text-card-foreground',
      destructive: 'border-destructive/30 bg-destructive/5 text-destructive',
      warning: 'border-amber-500/30 bg-warning text-warning-foreground',
    },
  },
  defaultVariants: { variant: 'default' },
})

export const Alert = ({ className, variant, ...props }: ComponentProps<'div'> & VariantProps<typeof alertVariants>) => (
  <div role="alert" className={cn(alertVariants({ variant }), className)} {...props} />
)
export const AlertTitle = ({ className, ...props }: ComponentProps<'div'>) => <div className={cn('font-medium', className)} {...props} />
export const AlertDescription = ({ className, ...props }: ComponentProps<'div'>) => <div className={cn('text-sm opacity-90', className)} {...props} />
