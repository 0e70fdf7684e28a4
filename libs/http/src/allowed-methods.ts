import type { Application } from 'express';

interface RouteLayer {
  match(path: string): unknown;
  route?: { methods: Record<string, boolean> };
}

const tables = new WeakMap<object, RouteLayer[]>();

/**
 * The methods an Express app routes for a path (GET implies HEAD), read from its router once every route
 * is registered: for `405 Method Not Allowed` with its `Allow` header (RFC 9110 §15.5.6).
 */
export function allowedMethods(app: Application, path: string): string[] {
  let layers = tables.get(app);
  if (!layers) {
    const stack = (app as unknown as { router: { stack: RouteLayer[] } }).router.stack;
    layers = stack.filter((layer) => layer.route !== undefined);
    tables.set(app, layers);
  }
  const methods = new Set<string>();
  for (const layer of layers) {
    if (!layer.match(path)) continue;
    for (const [method, on] of Object.entries(layer.route!.methods))
      if (on) methods.add(method.toUpperCase());
  }
  if (methods.has('GET')) methods.add('HEAD');
  return [...methods].filter((m) => m !== '_ALL').sort();
}
