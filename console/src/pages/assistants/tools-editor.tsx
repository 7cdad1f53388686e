/**
 * An assistant's function tools, one card each: name, description and the JSON Schema of the
 * arguments, checked as JSON while typed (the API takes OpenAI's `{type: "function", function}`).
 */
import { PlusIcon, Trash2Icon } from 'lucide-react'
import { Field, invalidProps } from '@/components/field'
import { Button } from '@/components/ui/button'
import { Input, Textarea } from '@/components/ui/input'
import { checkParameters, emptyTool, type Problems, type ToolDraft } from './draft'

export function ToolsEditor({ tools, problems, onChange }: { tools: readonly ToolDraft[]; problems: Problems; onChange: (tools: readonly ToolDraft[]) => void }) {
  const update = (i: number, change: Partial<ToolDraft>) => onChange(tools.map((t, j) => (j === i ? { ...t, ...change } : t)))
  return (
    <fieldset className="grid gap-3">
      <legend className="mb-2 text-sm font-medium">Function tools <span className="font-normal text-muted-foreground">(the model may call them; your code runs them)</span></legend>
      {tools.length === 0 && <p className="text-sm text-muted-foreground">No tools.</p>}
      {tools.map((tool, i) => {
        // Checked while typing (the save runs the same check): a JSON mistake is easiest to fix where it was made.
        const jsonProblem = checkParameters(tool.parameters).error
        const id = (field: string) => `tool-${tool.key}-${field}`
        return (
          <div key={tool.key} className="grid gap-3 rounded-md border p-3" data-tool={i}>
            <div className="flex items-end gap-2">
              <Field id={id('name')} label={`Tool ${i + 1} name`} error={problems[`tools.${i}.name`]} className="flex-1">
                <Input id={id('name')} value={tool.name} onChange={(e) => update(i, { name: e.target.value })} placeholder="get_order_status" className="font-mono" {...invalidProps(id('name'), problems[`tools.${i}.name`])} />
              </Field>
              <Button type="button" variant="ghost" size="icon" aria-label={`Remove tool ${i + 1}`} onClick={() => onChange(tools.filter((_, j) => j !== i))}><Trash2Icon /></Button>
            </div>
            <Field id={id('description')} label={`Tool ${i + 1} description`}>
              <Input id={id('description')} value={tool.description} onChange={(e) => update(i, { description: e.target.value })} maxLength={1024} placeholder="What it does, for the model" />
            </Field>
            <Field id={id('parameters')} label={`Tool ${i + 1} parameters`} hint="JSON Schema" error={jsonProblem}>
              <Textarea id={id('parameters')} rows={5} spellCheck={false} className="font-mono text-xs" value={tool.parameters} onChange={(e) => update(i, { parameters: e.target.value })} {...invalidProps(id('parameters'), jsonProblem)} />
            </Field>
          </div>
        )
      })}
      <div><Button type="button" variant="outline" size="sm" onClick={() => onChange([...tools, emptyTool()])}><PlusIcon /> Add tool</Button></div>
    </fieldset>
  )
}
