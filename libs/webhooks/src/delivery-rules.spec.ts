import { retryDelay } from './delivery-dispatcher';
import { isPublicAddress, receiverLookup, refuseReceiver } from './receiver-address';

describe('retryDelay (exponential backoff, full jitter)', () => {
  const defaults = { retryBaseMs: 5_000, retryMaxMs: 7_200_000 };

  it('caps at base × 2^(attempts−1), then at the maximum', () => {
    const caps = Array.from({ length: 14 }, (_, i) => retryDelay(i + 1, defaults, () => 0.999_999_9));
    expect(caps.slice(0, 12)).toEqual([
      4_999, 9_999, 19_999, 39_999, 79_999, 159_999, 319_999, 639_999, 1_279_999, 2_559_999, 5_119_999,
      7_199_999,
    ]);
    expect(caps.slice(12)).toEqual([7_199_999, 7_199_999]);
  });

  it('draws uniformly from zero to the cap', () => {
    expect(retryDelay(3, defaults, () => 0)).toBe(0);
    expect(retryDelay(3, defaults, () => 0.5)).toBe(10_000);
    const draws = Array.from({ length: 2_000 }, () => retryDelay(2, defaults));
    expect(Math.min(...draws)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...draws)).toBeLessThan(10_000);
    // Spread over the range, not bunched at its top (that would be no jitter) or bottom.
    const mean = draws.reduce((a, b) => a + b, 0) / draws.length;
    expect(mean).toBeGreaterThan(4_000);
    expect(mean).toBeLessThan(6_000);
  });
});

describe('receiver addresses (SSRF)', () => {
  it.each([
    '127.0.0.1',
    '10.0.0.1',
    '172.16.5.4',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '0.0.0.0',
    '224.0.0.1',
    '255.255.255.255',
    '::1',
    '::',
    'fe80::1',
    'fc00::1',
    '::ffff:127.0.0.1',
    '::ffff:10.0.0.1',
    'not an address',
  ])('refuses %s', (address) => {
    expect(isPublicAddress(address)).toBe(false);
  });

  it.each(['8.8.8.8', '93.184.216.34', '2606:4700:4700::1111'])('allows %s', (address) => {
    expect(isPublicAddress(address)).toBe(true);
  });

  it('refuses URLs that are not http(s), carry credentials, or name a private host', async () => {
    expect(await refuseReceiver('ftp://8.8.8.8/x', false)).toMatch(/http/);
    expect(await refuseReceiver('http://u:p@8.8.8.8/x', false)).toMatch(/credentials/);
    expect(await refuseReceiver('nope', false)).toMatch(/absolute/);
    expect(await refuseReceiver('http://127.0.0.1:8080/x', false)).toMatch(/127\.0\.0\.1/);
    expect(await refuseReceiver('http://[::1]/x', false)).toMatch(/::1/);
    expect(await refuseReceiver('http://8.8.8.8/x', false)).toBeNull();
    expect(await refuseReceiver('http://127.0.0.1:8080/x', true)).toBeNull();
  });

  it('refuses a private address at connection time too (a name that resolves there later)', async () => {
    const lookup = receiverLookup(false);
    const error = await new Promise<Error | null>((resolve) => lookup('localhost', {}, (e) => resolve(e)));
    expect(error?.message).toMatch(/not a public address/);
    const allowed = await new Promise<Error | null>((resolve) =>
      receiverLookup(true)('localhost', {}, (e) => resolve(e)),
    );
    expect(allowed).toBeNull();
  });
});
