// Preloaded (node -r) into the built service for the "interceptors off" comparison only: it strips the
// bulkhead, breaker and ETag interceptors from the object-types controller before Nest reads them.
const { join } = require('node:path');
const { INTERCEPTORS_METADATA } = require('@nestjs/common/constants');
const { ObjectTypesController } = require(
  join(process.cwd(), 'dist/libs/schemas/src/object-types.controller.js'),
);
Reflect.defineMetadata(INTERCEPTORS_METADATA, [], ObjectTypesController);
