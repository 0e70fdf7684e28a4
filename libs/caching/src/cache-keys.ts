/**
 * Every cache key, in one place. Keys are grouped per branch (`b:<branch>:…`) so a branch can be purged
 * by prefix when it is deleted or re-created. Branch names cannot contain ':' (see the branch pattern).
 */
export class CacheKeys {
  constructor(private readonly prefix: string) {}

  document(branch: string, id: string): string {
    return `${this.branchPrefix(branch)}doc:${id}`;
  }

  objectType(branch: string, name: string): string {
    return `${this.branchPrefix(branch)}type:${name}`;
  }

  objectTypeList(branch: string): string {
    return `${this.branchPrefix(branch)}types`;
  }

  /** A user's roles and token version. Users are not versioned: outside every branch's prefix. */
  user(username: string): string {
    return `${this.prefix}u:${username}`;
  }

  /** Everything cached for a branch starts with this. */
  branchPrefix(branch: string): string {
    return `${this.prefix}b:${branch}:`;
  }

  /** The pub/sub channel of invalidations. */
  get invalidationChannel(): string {
    return `${this.prefix}invalidate`;
  }

  /** Where an instance collects acknowledgements of the invalidations it published. */
  ackChannel(instance: string): string {
    return `${this.prefix}ack:${instance}`;
  }
}
