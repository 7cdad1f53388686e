/**
 * Validators for OpenAI's published response schemas (extracted into test/fixtures from
 * ../shared/specs/openai-openapi.json), so tests check the wire shape, not just a few fields.
 */
import { readFileSync } from 'node:fs'
import Ajv2020Module from 'ajv/dist/2020.js'
import addFormatsModule from 'ajv-formats'
import { expect } from 'vitest'

const Ajv2020 = ((Ajv2020Module as unknown as { default?: unknown }).default ?? Ajv2020Module) as typeof Ajv2020Module.default
const defs = JSON.parse(readFileSync(new URL('../fixtures/openai-schemas.json', import.meta.url), 'utf8')).$defs as Record<string, object>
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as typeof addFormatsModule.default
const ajv = new Ajv2020({ allErrors: true, strict: false })
addFormats(ajv)
// OpenAPI's own formats: any integer is a valid unixtime, any number a float.
ajv.addFormat('unixtime', true)
ajv.addFormat('float', true)
ajv.addSchema({ $id: 'openai', $defs: defs })

type SchemaName =
  | 'CreateChatCompletionResponse' | 'CreateChatCompletionStreamResponse' | 'CreateEmbeddingResponse' | 'ListModelsResponse' | 'Model' | 'ErrorResponse'
  | 'Response' | 'ResponseStreamEvent' | 'ResponseItemList' | 'TokenCountsResource' | 'ConversationResource' | 'ConversationItem' | 'ConversationItemList' | 'DeletedConversationResource'
  | 'OpenAIFile' | 'ListFilesResponse' | 'DeleteFileResponse' | 'FineTuningJob' | 'ListPaginatedFineTuningJobsResponse' | 'FineTuningJobEvent'
  | 'ListFineTuningJobEventsResponse' | 'FineTuningJobCheckpoint' | 'ListFineTuningJobCheckpointsResponse'
  | 'VectorStoreObject' | 'ListVectorStoresResponse' | 'DeleteVectorStoreResponse' | 'VectorStoreFileObject' | 'ListVectorStoreFilesResponse'
  | 'DeleteVectorStoreFileResponse' | 'VectorStoreFileBatchObject' | 'VectorStoreSearchResultsPage' | 'VectorStoreFileContentResponse'
  | 'Batch' | 'ListBatchesResponse' | 'CreateModerationResponse' | 'CreateCompletionResponse' | 'ImagesResponse' | 'DeleteModelResponse'
  | 'Upload' | 'UploadPart' | 'ChatCompletionList' | 'ChatCompletionDeleted'

/** Assert that `value` conforms to OpenAI's schema `name`; the failure lists every violation. */
export function expectOpenAISchema(name: SchemaName, value: unknown): void {
  const validate = ajv.getSchema(`openai#/$defs/${name}`)!
  const ok = validate(value)
  expect(ok ? [] : validate.errors!.map((e) => `${e.instancePath || '/'} ${e.message} ${JSON.stringify(e.params)}`), `${name}: ${JSON.stringify(value).slice(0, 500)}`).toEqual([])
}
