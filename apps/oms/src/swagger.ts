import { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { completeOpenApi } from '@oms/http';

/** Swagger UI at /docs and the OpenAPI document at /docs-json, outside the API prefix and auth. */
export function setupSwagger(app: INestApplication): void {
  const config = new DocumentBuilder()
    .setTitle('OMS — Ontology Management Service')
    .setDescription(
      'Object types and documents on git-like branches. Errors are application/problem+json (RFC 9457). ' +
        'Get a token from POST /api/v1/auth/login and press Authorize.',
    )
    .setVersion('1')
    .addBearerAuth()
    .build();
  const document = completeOpenApi(SwaggerModule.createDocument(app, config));
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json', yamlDocumentUrl: 'docs-yaml' });
}
