/**
 * The audit trail of RAG collections (OpenAI's vector stores): created, renamed and deleted, and their
 * documents (files) added, removed, given new attributes and retried after a failure, through
 * /api/v1/rag and /v1/vector_stores alike. A route
 * that changes a collection does it through `recorded(req)`: the Rag capability, recording what
 * that request's caller changed. Names and ids only, never a document's text.
 */
import type { Audit } from '../../contracts/audit.ts'
import type { CollectionRecord, DocumentRecord, Rag } from '../../contracts/rag.ts'

type Request = Parameters<Audit>[0]

const collectionEntry = (action: string, c: CollectionRecord) => ({
  action, target: { type: 'collection', id: c.id }, department: c.department,
  details: { name: c.name, dept_scope: c.deptScope, embedding_route: c.embeddingRoute },
})

/** A document added or removed is a change of its collection: `target_id=<collection>` reads the collection's history. */
const documentEntry = (action: string, c: CollectionRecord, d: DocumentRecord) => ({
  action, target: { type: 'collection', id: c.id }, department: c.department,
  details: { collection: c.name, document_id: d.id, file_id: d.fileId, filename: d.filename, bytes: d.bytes },
})

export type RecordedRag = (req: Request) => Rag

export function recordedRag(rag: Rag, audit: Audit): RecordedRag {
  return (req) => {
    // One request may add many documents to one collection (a file batch): it is read once.
    const collections = new Map<string, Promise<CollectionRecord>>()
    const collection = (id: string): Promise<CollectionRecord> => {
      if (!collections.has(id)) collections.set(id, rag.getCollection(req.caller, id))
      return collections.get(id)!
    }
    return {
      ...rag,
      async createCollection(caller, gateway, input) {
        const created = await rag.createCollection(caller, gateway, input)
        await audit(req, collectionEntry('collection.create', created))
        return created
      },
      async updateCollection(caller, id, changes) {
        const was = await rag.getCollection(caller, id)
        const now = await rag.updateCollection(caller, id, changes)
        const entry = collectionEntry('collection.update', now)
        const changed = Object.entries(changes).filter(([, v]) => v !== undefined).map(([k]) => k).sort()
        const renamed = was.name !== now.name ? { name: { from: was.name, to: now.name } } : {}
        await audit(req, { ...entry, details: { ...entry.details, changed, ...renamed } })
        return now
      },
      async deleteCollection(caller, id) {
        const was = await rag.getCollection(caller, id)
        await rag.deleteCollection(caller, id)
        await audit(req, collectionEntry('collection.delete', was))
      },
      async addDocument(caller, collectionId, doc) {
        const added = await rag.addDocument(caller, collectionId, doc)
        await audit(req, documentEntry('document.add', await collection(collectionId), added))
        return added
      },
      async addDocuments(caller, collectionId, docs) {
        const added = await rag.addDocuments(caller, collectionId, docs)
        for (const d of added) await audit(req, documentEntry('document.add', await collection(collectionId), d))
        return added
      },
      async deleteDocument(caller, collectionId, id) {
        const was = await rag.getDocument(caller, collectionId, id)
        await rag.deleteDocument(caller, collectionId, id)
        await audit(req, documentEntry('document.delete', await collection(collectionId), was))
      },
      async updateDocument(caller, collectionId, id, changes) {
        const was = await rag.getDocument(caller, collectionId, id)
        const now = await rag.updateDocument(caller, collectionId, id, changes)
        const entry = documentEntry('document.update', await collection(collectionId), now)
        // Attributes are the caller's filter labels (as a collection's metadata): kept before and after.
        await audit(req, { ...entry, details: { ...entry.details, attributes: { from: was.attributes, to: now.attributes } } })
        return now
      },
      async retryDocument(caller, collectionId, id) {
        const was = await rag.getDocument(caller, collectionId, id)
        const retried = await rag.retryDocument(caller, collectionId, id)
        const entry = documentEntry('document.retry', await collection(collectionId), retried)
        await audit(req, { ...entry, details: { ...entry.details, previous_error: was.error?.code ?? null } })
        return retried
      },
    }
  }
}
