import { AdmissionMode, LogLevel, OmsEnv } from './environment';

/** The validated configuration, nested by concern. Built once at start by loadConfig; nothing else reads process.env. */
export class OmsConfig {
  env: OmsEnv;
  logLevel: LogLevel;
  http: {
    port: number;
    bodyLimit: string;
    /** Bulk imports (POST /documents/bulk): their own body limit and time bound. */
    bulkBodyLimit: string;
    bulkTimeoutMs: number;
    shutdownTimeoutMs: number;
    jsonMaxDepth: number;
    /** Express's `trust proxy`: which hops' X-Forwarded-For names the client (per-address login throttle). */
    trustProxy: boolean | number | string;
  };
  /** How far a document delete may reach through cascade and nullify links before it is refused (409). */
  documents: { maxCascade: number };
  metrics: { port: number; host: string };
  store: { databaseUrl?: string; dataDir: string; timeoutMs: number };
  redis: { url?: string; keyPrefix: string; timeoutMs: number };
  auth: {
    jwtSecret?: string;
    jwtExpiresInSeconds: number;
    bootstrapAdmin?: { username: string; password: string };
    /** How long an instance may use a user's roles and token version before reading them again. */
    userCacheTtlSeconds: number;
    login: { maxFailuresPerUsername: number; maxFailuresPerAddress: number; windowSeconds: number };
  };
  etag: { enabled: boolean; requireIfMatch: boolean };
  backpressure: { maxConcurrent: number; maxQueue: number; queueTimeoutMs: number };
  /** Edge admission (before the framework): see libs/resilience/src/admission. */
  admission: {
    mode: AdmissionMode;
    minLimit: number;
    /** The ceiling: the fixed limit, and the adaptive limit's upper bound. */
    maxLimit: number;
    /** The event-loop delay allowed above the smallest one seen (ms). */
    targetDelayMs: number;
  };
  breaker: {
    failureThreshold: number;
    errorRateThreshold: number;
    windowSeconds: number;
    minCalls: number;
    halfOpenAfterSeconds: number;
    halfOpenMaxCalls: number;
  };
  faultInjection: { enabled: boolean };
  cache: { memoryTtlSeconds: number; memoryMaxEntries: number; redisTtlSeconds: number };
  /** The change feed: retention of the outbox, and server-sent event streams. */
  feed: { retentionDays: number; heartbeatSeconds: number; maxStreams: number; maxBufferBytes: number };
  webhooks: {
    retryBaseMs: number;
    retryMaxMs: number;
    maxAttempts: number;
    timeoutMs: number;
    /** Deliveries one instance sends at once. */
    maxInFlight: number;
    /** Webhooks in all (each has its breaker, a metric label value). */
    max: number;
    allowPrivateTargets: boolean;
  };
}
