import { Injectable } from '@nestjs/common';
import { hash, verify } from '@node-rs/bcrypt';
import { Bulkhead, NO_EVENTS } from '@oms/resilience';

const COST = 10;

/**
 * bcrypt, natively on libuv's thread pool (@node-rs/bcrypt; it also verifies the `$2a$`/`$2b$` hashes
 * bcryptjs stored before). One hash at a time per process, with a short queue: a login burst cannot take
 * every thread of the pool (file and DNS work share it) nor pile up CPU work without bound; past the queue
 * a login is shed at once with CapacityExceeded (503 + Retry-After).
 */
@Injectable()
export class PasswordHasher {
  private readonly bulkhead = new Bulkhead(
    { maxConcurrent: 1, maxQueue: 16, queueTimeoutMs: 5000 },
    NO_EVENTS,
  );
  // Compared against when the user does not exist, so a miss costs as long as a wrong password.
  private dummyHash?: Promise<string>;

  hash(password: string): Promise<string> {
    return this.bulkhead.execute(() => hash(password, COST));
  }

  async verify(password: string, stored: string | undefined): Promise<boolean> {
    const against = stored ?? (await this.dummy());
    const matches = await this.bulkhead.execute(() => verify(password, against));
    return matches && stored !== undefined;
  }

  private dummy(): Promise<string> {
    this.dummyHash ??= this.hash('not-a-real-password').catch((error: unknown) => {
      this.dummyHash = undefined; // shed: make it on a later call
      throw error;
    });
    return this.dummyHash;
  }
}
