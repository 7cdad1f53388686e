/** placeholder replaced below */
import { definePlugin, type Surface } from '../../../core/plugins/api.ts'
export default definePlugin<Record<string, never>, Surface>({ id: 'surface.vector-stores', kind: 'surface', configSchema: { type: 'object', additionalProperties: false, properties: {} }, setup: () => ({ endpoints: [] }) })
