/**
 * Identity: the users and api_keys tables (service.identity, implied whenever a store is
 * configured, providing the Identity capability), and the management API over them, two services
 * from one folder so they share their scope rules, input checks and views:
 *
 *   services: { keys: {}, users: {} }     # → /api/v1/keys, /api/v1/users
 */
import identity from './data/index.ts'
import keys from './keys.ts'
import users from './users.ts'

export default [identity, keys, users]
