/**
 * Datasets: `/api/v1/training/datasets` (upload, optionally split; list; one) over training_datasets,
 * and the fine-tune purpose's check on every upload (here or on /v1/files): refused whole with
 * every problem, or stored with a dataset record.
 */
import { badRequest, notFound, type Caller, type RouteSpec, type Tokenizer } from '../../../plugin-api/index.ts'
import type { Audit } from '../../contracts/audit.ts'
import { listOf } from '../kit/schema.ts'
import { ownerFilter, ownerOf, type Files, type FileUpload, type StoredFile } from '../../contracts/files.ts'
import type { JsonObject } from '../../contracts/capabilities.ts'
import { checkDataset, splitLines, type CheckedDataset } from './dataset-check.ts'
import type { DatasetRecord, DatasetRepository } from './datasets.ts'
import { DATASET_SCHEMA, datasetView } from './views.ts'

export const PURPOSE = 'fine-tune'

export interface DatasetDeps {
  readonly files: Files
  readonly datasets: DatasetRepository
  readonly tokenizer: Tokenizer
  readonly config: { readonly max_example_tokens: number; readonly default_epochs: number }
  readonly permission: string
  /** The audit trail, told of each dataset uploaded to /datasets. */
  readonly audit?: Audit
}

/** Set on the files of an upload to /datasets: that route records the dataset (both sides of a split) itself. */
const PART = 'dataset_part'

const check = (deps: DatasetDeps, data: Buffer, model: string | undefined): Promise<CheckedDataset> =>
  checkDataset(data, { tokenizer: deps.tokenizer, model, maxExampleTokens: deps.config.max_example_tokens, epochs: deps.config.default_epochs })

const modelOf = (upload: FileUpload): string | undefined => (typeof upload.attributes?.model === 'string' ? upload.attributes.model : undefined)

/** The fine-tune purpose's hooks for Files.checkPurpose: check every upload; record a dataset for one stored outside /datasets. */
export function purposeHooks(deps: DatasetDeps) {
  return {
    async check(upload: FileUpload): Promise<JsonObject> {
      const { stats, validation } = await check(deps, upload.data, modelOf(upload))
      return { ...stats, validation: { ...validation } }
    },
    async stored(file: StoredFile, upload: FileUpload): Promise<void> {
      if (upload.attributes?.[PART] !== undefined) return
      const { validation, ...stats } = file.metadata
      await deps.datasets.create({
        userId: file.userId, department: file.department, name: file.filename, fileId: file.id, validationFileId: null,
        model: modelOf(upload) ?? null, stats, validation: (validation ?? {}) as JsonObject, split: null,
      })
    },
  }
}

export async function reachableDataset(datasets: DatasetRepository, caller: Caller, id: string, param: string): Promise<DatasetRecord> {
  const d = await datasets.get(id)
  if (!d || !caller.reaches(d)) throw notFound(`No such dataset: ${id}`, 'dataset_not_found', param)
  return d
}

const ID_PARAMS = { type: 'object', required: ['id'], properties: { id: { type: 'string', minLength: 1, maxLength: 64 } } }

export function datasetRoutes(deps: DatasetDeps): RouteSpec[] {
  const { files, datasets, permission } = deps
  return [
    {
      method: 'POST', path: '/datasets', summary: 'Upload a JSONL chat dataset (multipart: file, model?, validation_split?), checked line by line.', permission, body: 'multipart', status: 201, response: DATASET_SCHEMA,
      async handle(req) {
        const { caller, body, files: uploaded } = req
        // A dataset uploaded here is recorded by name and file ids (its files are not file.upload entries: this route stores them).
        const recorded = async (d: DatasetRecord) => {
          await deps.audit?.(req, {
            action: 'dataset.create', target: { type: 'dataset', id: d.id }, department: d.department,
            details: { name: d.name, file_id: d.fileId, validation_file_id: d.validationFileId, model: d.model },
          })
          return datasetView(d)
        }
        const fields = body as Record<string, string | undefined>
        const file = uploaded.find((f) => f.field === 'file')
        if (!file) throw badRequest('Send the dataset in the `file` field.', 'file', 'missing_file')
        const fraction = fields.validation_split === undefined ? undefined : Number(fields.validation_split)
        if (fraction !== undefined && !(fraction > 0 && fraction < 1)) throw badRequest('`validation_split` must be a fraction between 0 and 1, e.g. 0.1.', 'validation_split', 'invalid_split')
        const model = fields.model || undefined
        const checked = await check(deps, file.data, model)
        const owner = ownerOf(caller)
        const put = (name: string, lines: readonly string[], part: string) =>
          files.put({ filename: name, purpose: PURPOSE, contentType: 'application/jsonl', data: Buffer.from(`${lines.join('\n')}\n`), owner, attributes: { [PART]: part, ...(model ? { model } : {}) } })
        const record = { userId: owner.userId, department: owner.department, name: file.filename, model: model ?? null, validation: { ...checked.validation } }
        if (fraction === undefined) {
          const train = await put(file.filename, checked.lines, 'train')
          return recorded(await datasets.create({ ...record, fileId: train.id, validationFileId: null, stats: { ...checked.stats }, split: null }))
        }
        const parts = splitLines(checked.lines, fraction)
        const train = await put(file.filename.replace(/(\.jsonl)?$/, '.train.jsonl'), parts.train, 'train')
        const validation = await put(file.filename.replace(/(\.jsonl)?$/, '.validation.jsonl'), parts.validation, 'validation')
        const { validation: _v, ...trainStats } = train.metadata
        const { validation: _w, ...validationStats } = validation.metadata
        return recorded(await datasets.create({
          ...record, fileId: train.id, validationFileId: validation.id, stats: trainStats,
          split: { fraction, train: { examples: parts.train.length, tokens: trainStats.tokens ?? null }, validation: { examples: parts.validation.length, tokens: validationStats.tokens ?? null } },
        }))
      },
    },
    {
      method: 'GET', path: '/datasets', summary: 'The fine-tuning datasets the caller may see, newest first.', permission, response: listOf(DATASET_SCHEMA),
      handle: async ({ caller }) => (await datasets.list({ ...ownerFilter(caller), limit: 1000 })).map(datasetView),
    },
    {
      method: 'GET', path: '/datasets/:id', summary: 'One dataset: its files, stats, check and split.', permission, params: ID_PARAMS, response: DATASET_SCHEMA,
      handle: async ({ caller, params }) => datasetView(await reachableDataset(datasets, caller, (params as { id: string }).id, 'id')),
    },
  ]
}
