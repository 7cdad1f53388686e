/**
 * Requests to models without a price are recorded at $0 (the gateway cannot know what they cost):
 * a total that leaves them out must say so, or an admin reads it as the whole spend. The API counts
 * them (`unpriced_requests`) and names their models (`unpriced_models`); this says it on the page.
 */
import { CircleDollarSignIcon } from 'lucide-react'
import type { UsageRow } from '@/api/types'
import { Alert, AlertDescription } from '@/components/ui/alert'
import { formatCount, formatUsd } from '@/lib/format'

type Unpriced = Pick<UsageRow, 'unpriced_requests' | 'unpriced_models'>

const requests = (n: number) => `${formatCount(n)} ${n === 1 ? 'request' : 'requests'}`

/** "3 requests to models without a price: my-llm, other — cost not counted", with how to fix it. */
export function UnpricedNote({ total }: { total: Unpriced | undefined }) {
  if (!total || total.unpriced_requests === 0) return null
  const models = total.unpriced_models.length ? total.unpriced_models.join(', ') : 'unnamed models'
  return (
    <Alert variant="warning" role="note" data-unpriced-note>
      <CircleDollarSignIcon />
      <AlertDescription>
        <p className="break-words">
          <strong>{requests(total.unpriced_requests)} to models without a price: {models} — cost not counted.</strong>
        </p>
        <p className="mt-1">The costs shown leave them out. Give each model a price under <code>pricing:</code> in gateway.yaml (USD per 1M input and output tokens) to count them from then on.</p>
      </AlertDescription>
    </Alert>
  )
}

/** A cost cell: the figure, marked when some of its requests had no price (so it is a lower bound). */
export function CostFigure({ row }: { row: Pick<UsageRow, 'cost_usd'> & Unpriced }) {
  if (row.unpriced_requests === 0) return <>{formatUsd(row.cost_usd)}</>
  const why = `${requests(row.unpriced_requests)} to models without a price not counted`
  return (
    <span title={why} data-unpriced={row.unpriced_requests}>
      {row.cost_usd === 0 ? 'unknown' : `≥ ${formatUsd(row.cost_usd)}`}
      <span className="sr-only"> ({why})</span>
    </span>
  )
}
