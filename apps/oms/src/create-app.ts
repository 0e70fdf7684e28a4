import { INestApplication, LoggerService } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import { OmsConfig } from '@oms/config';
import { json } from 'express';
import helmet from 'helmet';
import { answerClientErrors } from './client-errors';
import {
  API_PREFIX,
  IdentifierPipe,
  KnownQueryParameters,
  ProblemFilter,
  createValidationPipe,
  requestContext,
} from '@oms/http';
import { HttpMetricsMiddleware, createMetricsApp } from '@oms/metrics';
import { AdmissionController, EDGE_ADMISSION, admitAtTheEdge } from '@oms/resilience';
import { AppModule } from './app.module';
import {
  disableExpressFreshness,
  inspectJsonBodies,
  keepRawBody,
  onlyWithBodies,
  parsesAsJson,
  rejectMalformedBodies,
  rejectUnsafeTargets,
  requireJsonBodies,
} from './http-middleware';
import { createLogger } from './logger';
import { setupSwagger } from './swagger';

export interface OmsApplications {
  /** The API, Swagger UI and health, on PORT. */
  api: INestApplication;
  /** GET /metrics, on METRICS_PORT. */
  metrics: INestApplication;
}

/** Builds the applications (not listening yet): used by main.ts and by the e2e suites alike. */
export async function createApps(config: OmsConfig): Promise<OmsApplications> {
  const logger = createLogger(config.logLevel);
  return { api: await createApp(config, logger), metrics: await createMetricsApp(logger) };
}

async function createApp(config: OmsConfig, logger: LoggerService): Promise<INestApplication> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forConfig(config), {
    bodyParser: false,
    logger,
  });
  // Conditional requests are ours (ETags from stored versions, RFC 9110 rules in the ETag interceptor):
  // Express must neither add weak ETags computed from bodies nor turn responses into 304s by itself
  // (its req.fresh would answer `If-None-Match: *` with 304 even where ETags are disabled).
  app.set('etag', false);
  disableExpressFreshness((app.getHttpAdapter().getInstance() as { request: object }).request);
  app.disable('x-powered-by');
  // Behind a balancer, its X-Forwarded-For names the client (TRUST_PROXY); else the socket's address does.
  app.set('trust proxy', config.http.trustProxy);
  // nosniff, Referrer-Policy: no-referrer, frame and cross-origin policies. No CSP: the API serves JSON,
  // and Swagger UI's page would need one of its own.
  app.use(helmet({ contentSecurityPolicy: false }));
  answerClientErrors(app.getHttpServer());
  // Admission comes before everything above and below: a refused request is never parsed, authenticated
  // or routed (see libs/resilience/src/admission).
  const admission = app.get<AdmissionController | null>(EDGE_ADMISSION);
  if (admission) admitAtTheEdge(app.getHttpServer(), admission);
  app.use(requestContext(config.logLevel === 'info' || config.logLevel === 'debug'));
  const httpMetrics = app.get(HttpMetricsMiddleware);
  app.use(httpMetrics.use.bind(httpMetrics));
  app.use(rejectUnsafeTargets);
  app.use(requireJsonBodies);
  app.use(
    onlyWithBodies(
      json({
        limit: config.http.bodyLimit,
        type: parsesAsJson,
        verify: keepRawBody, // numbers are checked for exactness against the text the client sent
      }),
    ),
  );
  app.use(rejectMalformedBodies);
  app.use(inspectJsonBodies(config.http.jsonMaxDepth));
  app.setGlobalPrefix(API_PREFIX, { exclude: ['health/live', 'health/ready'] });
  app.useGlobalFilters(new ProblemFilter());
  app.useGlobalPipes(new IdentifierPipe(), createValidationPipe());
  app.useGlobalGuards(new KnownQueryParameters());
  setupSwagger(app);
  return app;
}
