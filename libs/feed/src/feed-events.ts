/** What the change feed reports (the metrics module turns it into sse_streams). */
export interface FeedEvents {
  /** The instance's open event streams, whenever the number changes. */
  streams(open: number): void;
}

export const FEED_EVENTS = Symbol('FeedEvents');

export const NO_FEED_EVENTS: FeedEvents = { streams: () => undefined };
