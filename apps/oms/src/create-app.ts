import { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import { OmsConfig } from '@oms/config';
import { API_PREFIX, ProblemFilter, createValidationPipe, requestContext } from '@oms/http';
import { AppModule } from './app.module';
import { requireJsonBodies } from './content-type';
import { createLogger } from './logger';
import { setupSwagger } from './swagger';

/** Builds the whole application (not listening yet): used by main.ts and by the e2e suites alike. */
export async function createApp(config: OmsConfig): Promise<INestApplication> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forConfig(config), {
    bodyParser: false,
    logger: createLogger(config.logLevel),
  });
  // ETags are ours (from stored versions); Express must not add weak ones computed from bodies.
  app.set('etag', false);
  app.disable('x-powered-by');
  app.use(requestContext);
  app.use(requireJsonBodies);
  app.useBodyParser('json', {
    limit: config.http.bodyLimit,
    type: ['application/json', 'application/*+json'],
  });
  app.setGlobalPrefix(API_PREFIX, { exclude: ['health/live', 'health/ready'] });
  app.useGlobalFilters(new ProblemFilter());
  app.useGlobalPipes(createValidationPipe());
  setupSwagger(app);
  return app;
}
