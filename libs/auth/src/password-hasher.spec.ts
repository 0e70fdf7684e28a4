import { CapacityExceeded } from '@oms/resilience';
import * as bcryptjs from 'bcryptjs';
import { PasswordHasher } from './password-hasher';

// Made by bcryptjs, which stored every hash before @node-rs/bcrypt: both prefixes it wrote must still verify.
const BCRYPTJS_2B = '$2b$10$3de2Cy8pBpoJG5OaTcc6KerfdiSCjY21dJus8HsScYOZ5HWj7MU3q';
const BCRYPTJS_2A = '$2a$10$3de2Cy8pBpoJG5OaTcc6KerfdiSCjY21dJus8HsScYOZ5HWj7MU3q';
const BCRYPTJS_PASSWORD = 'old-bcryptjs-password';

describe('PasswordHasher', () => {
  const hasher = new PasswordHasher();

  it.each([BCRYPTJS_2B, BCRYPTJS_2A])('verifies a hash bcryptjs stored (%s)', async (stored) => {
    await expect(hasher.verify(BCRYPTJS_PASSWORD, stored)).resolves.toBe(true);
    await expect(hasher.verify('another-password', stored)).resolves.toBe(false);
  });

  it('verifies a hash bcryptjs makes now', async () => {
    const stored = bcryptjs.hashSync('made-by-bcryptjs', 10);
    await expect(hasher.verify('made-by-bcryptjs', stored)).resolves.toBe(true);
  });

  it('makes cost-10 bcrypt hashes that bcryptjs reads too', async () => {
    const stored = await hasher.hash('a-new-password');
    expect(stored).toMatch(/^\$2b\$10\$[./A-Za-z0-9]{53}$/);
    expect(bcryptjs.compareSync('a-new-password', stored)).toBe(true);
    await expect(hasher.verify('a-new-password', stored)).resolves.toBe(true);
  });

  it('never accepts a password for a user without a hash', async () => {
    await expect(hasher.verify('not-a-real-password', undefined)).resolves.toBe(false);
  });

  it('runs one hash at a time, queues 16 and sheds the rest at once', async () => {
    const bounded = new PasswordHasher();
    const outcomes = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) => bounded.hash(`password-${i}`)),
    );
    // 20 at once: 1 running + 16 waiting are admitted (with 2 running, 18 would be), 3 shed.
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(17);
    const shed = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
    expect(shed).toHaveLength(3);
    for (const o of shed) expect(o.reason).toBeInstanceOf(CapacityExceeded);
  });

  it('hashes off the event loop', async () => {
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    try {
      await Promise.all([
        hasher.hash('p-1-password'),
        hasher.hash('p-2-password'),
        hasher.hash('p-3-password'),
      ]);
    } finally {
      clearInterval(timer);
    }
    expect(ticks).toBeGreaterThan(3); // the loop kept turning while three hashes ran
  });
});
