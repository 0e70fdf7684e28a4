import { lookup } from 'node:dns';
import type { LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';

/**
 * Receivers must be on the public internet: an address in any special range (loopback, private,
 * link-local, unique-local, carrier-grade NAT, multicast, reserved, unspecified...) is refused, so a
 * webhook cannot make OMS call into its own network (SSRF). ipaddr.js names the ranges; only `unicast` is
 * public.
 */
export function isPublicAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  return ipaddr.process(address).range() === 'unicast';
}

export class ReceiverRefused extends Error {}

/** How long making a webhook waits for its host's addresses. */
const LOOKUP_TIMEOUT_MS = 2_000;

/**
 * A DNS lookup for http.request that refuses non-public addresses (unless private targets are allowed):
 * checked on the address the connection is made to, so a name that resolves differently later (DNS
 * rebinding) is caught at delivery, not only when the webhook was made.
 */
export function receiverLookup(allowPrivate: boolean): LookupFunction {
  return (hostname, options, callback) => {
    lookup(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, '', 0);
      const refused = addresses.find((a) => !allowPrivate && !isPublicAddress(a.address));
      if (refused) {
        return callback(
          new ReceiverRefused(`${hostname} resolves to ${refused.address}, which is not a public address`),
          '',
          0,
        );
      }
      if (options.all) return (callback as (e: null, a: typeof addresses) => void)(null, addresses);
      const [first] = addresses;
      if (!first) return callback(new Error(`${hostname} has no address`), '', 0);
      callback(null, first.address, first.family);
    });
  };
}

/** Why a receiver URL is refused, or null: scheme, credentials, and every address its host resolves to now. */
export async function refuseReceiver(url: string, allowPrivate: boolean): Promise<string | null> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'must be an absolute http(s) URL';
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return 'must be an http or https URL';
  if (parsed.username || parsed.password) return 'must not carry credentials (the signature authenticates)';
  if (allowPrivate) return null;
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
  const addresses = await new Promise<string[]>((resolve) => {
    // A resolver that does not answer does not hold the request: the delivery's own lookup checks later.
    const timer = setTimeout(() => resolve([]), LOOKUP_TIMEOUT_MS);
    lookup(host, { all: true }, (error, found) => {
      clearTimeout(timer);
      resolve(error ? [] : found.map((a) => a.address));
    });
  });
  // A name that does not resolve now may later: the delivery's own lookup checks it then.
  const refused = addresses.find((a) => !isPublicAddress(a));
  return refused
    ? `its host resolves to ${refused}, a loopback, private or link-local address (set WEBHOOK_ALLOW_PRIVATE_TARGETS=true to allow)`
    : null;
}
