import type { Application } from 'express';

interface RouteLayer {
  match(path: string): unknown;
  route?: { path: string; methods: Record<string, boolean> };
}

const tables = new WeakMap<object, RouteLayer[]>();

/** The app's route layers, read from its router once (every route is registered by the first request). */
function routeLayers(app: Application): RouteLayer[] {
  let layers = tables.get(app);
  if (!layers) {
    const stack = (app as unknown as { router: { stack: RouteLayer[] } }).router.stack;
    layers = stack.filter((layer) => layer.route !== undefined);
    tables.set(app, layers);
  }
  return layers;
}

/** Whether a route layer serves a path; a path it cannot decode (bad percent-encoding) it does not. */
function serves(layer: RouteLayer, path: string): boolean {
  try {
    return Boolean(layer.match(path));
  } catch {
    return false;
  }
}

/**
 * The methods an Express app routes for a path (GET implies HEAD): for `405 Method Not Allowed` with its
 * `Allow` header (RFC 9110 §15.5.6).
 */
export function allowedMethods(app: Application, path: string): string[] {
  const methods = new Set<string>();
  for (const layer of routeLayers(app)) {
    if (!serves(layer, path)) continue;
    for (const [method, on] of Object.entries(layer.route!.methods))
      if (on) methods.add(method.toUpperCase());
  }
  if (methods.has('GET')) methods.add('HEAD');
  return [...methods].filter((m) => m !== '_ALL').sort();
}

/**
 * The template of the route a request is for, when the router never reached it (its body did not parse, or
 * the method is not served there): the route of its method, else any route of its path; undefined for a
 * path no route serves.
 */
export function routeTemplate(app: Application, method: string, path: string): string | undefined {
  const wanted = method.toLowerCase();
  let any: string | undefined;
  for (const layer of routeLayers(app)) {
    if (!serves(layer, path)) continue;
    const { methods, path: template } = layer.route!;
    if (methods[wanted] || (wanted === 'head' && methods.get)) return template;
    any ??= template;
  }
  return any;
}
