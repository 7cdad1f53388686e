/** The model or assistant picker of the chat page. */
import { BotIcon } from 'lucide-react'
import { memo } from 'react'
import { useSession } from '@/auth/session'
import { Select, SelectContent, SelectItem, SelectTrigger, SelectValue } from '@/components/ui/select'
import { Skeleton } from '@/components/ui/skeleton'
import { useAssistants } from '../assistants/queries'
import { useModels } from './single'

/** What answers a thread: `assistant:<id>` or `model:<name>`. */
export type Pick_ = string

/** The model or assistant picker: assistants first (their instructions and tools apply), then models. */
export const Picker = memo(function Picker({ value, onChange, disabled }: { value: Pick_ | undefined; onChange: (v: Pick_) => void; disabled?: boolean }) {
  const { can } = useSession()
  const models = useModels()
  const assistants = useAssistants(can('view_assistants'))
  if (models.isPending) return <Skeleton className="h-9 w-44" />
  const usable = assistants.data ?? []
  return (
    <Select value={value} onValueChange={onChange} disabled={disabled}>
      <SelectTrigger className="w-44 sm:w-60" aria-label="Model or assistant">
        <SelectValue placeholder="Model or assistant" />
      </SelectTrigger>
      <SelectContent>
        {usable.map((a) => (
          <SelectItem key={a.id} value={`assistant:${a.id}`}>
            <BotIcon className="mr-1 inline size-3.5" />{a.name}
          </SelectItem>
        ))}
        {models.data?.map((id) => (
          <SelectItem key={id} value={`model:${id}`}>{id}</SelectItem>
        ))}
      </SelectContent>
    </Select>
  )
})
