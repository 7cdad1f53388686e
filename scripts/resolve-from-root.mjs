/**
 * A module resolve hook for `npm run build -- --out DIR` outside this checkout: the build imports
 * the freshly compiled modules (scripts/build.mjs), and from DIR no node_modules is found; a package
 * they import is then resolved from this checkout, as it will be from the image's /app.
 */
const root = new URL('../package.json', import.meta.url).href

export async function resolve(specifier, context, next) {
  try {
    return await next(specifier, context)
  } catch (err) {
    if (err?.code !== 'ERR_MODULE_NOT_FOUND' || /^[./]|^[a-z]+:/.test(specifier)) throw err
    return next(specifier, { ...context, parentURL: root })
  }
}
