/** Every repository bound to one SqlClient: the store's pool, or one transaction. */
import type { SqlClient } from '../../plugins/types.ts'
import type { Repositories } from '../types.ts'
import { apiKeyRepository } from './api-keys.ts'
import { assistantRepository } from './assistants.ts'
import { chatMessageRepository, chatThreadRepository } from './chat.ts'
import { usageEventRepository } from './usage-events.ts'
import { userRepository } from './users.ts'

export function repositories(db: SqlClient): Repositories {
  return {
    users: userRepository(db),
    apiKeys: apiKeyRepository(db),
    usage: usageEventRepository(db),
    assistants: assistantRepository(db),
    threads: chatThreadRepository(db),
    messages: chatMessageRepository(db),
  }
}
