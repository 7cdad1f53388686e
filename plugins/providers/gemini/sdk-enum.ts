/**
 * The SDK's enums (FunctionCallingConfigMode, ThinkingLevel, ...) are TypeScript string enums,
 * nominal at compile time; on the wire they are plain strings. Naming the value as a string keeps
 * the SDK out of this module at runtime (it is imported lazily, in setup).
 */
export const sdkEnum = <T extends string>(value: string): T => value as T
