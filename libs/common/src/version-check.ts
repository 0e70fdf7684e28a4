/**
 * A precondition on the version of the resource a write targets, evaluated inside the write's
 * transaction (null: the resource does not exist). Throws PreconditionFailed when it does not hold.
 * Built by the HTTP layer from If-Match / If-None-Match.
 */
export type VersionCheck = (currentVersion: number | null) => void;

/** Who writes, and why: becomes the commit's author and message. */
export interface WriteContext {
  author: string;
  message?: string;
  precondition?: VersionCheck;
}
