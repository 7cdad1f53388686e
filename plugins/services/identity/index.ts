/**
 * The identity management API: two services from one folder, so they share their scope rules,
 * input checks and views. gateway.yaml mounts them by name:
 *
 *   services: { keys: {}, users: {} }     # → /api/v1/keys, /api/v1/users
 */
import keys from './keys.ts'
import users from './users.ts'

export default [keys, users]
