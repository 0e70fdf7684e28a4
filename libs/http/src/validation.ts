import { ValidationPipe } from '@nestjs/common';
import { ValidationFailed, Violation } from '@oms/common';
import { ValidationError } from 'class-validator';

/** Flattens class-validator's tree into every violation, with JSON-pointer paths (`/properties/0/name`). */
export function toViolations(errors: ValidationError[], parent = ''): Violation[] {
  return errors.flatMap((error) => {
    const path = `${parent}/${error.property}`;
    const own = Object.values(error.constraints ?? {}).map((message) => ({
      path,
      message: stripProperty(message, error),
    }));
    return [...own, ...toViolations(error.children ?? [], path)];
  });
}

function stripProperty(message: string, error: ValidationError): string {
  // class-validator prefixes messages with the property name; the path already says it.
  return message.startsWith(`${error.property} `) ? message.slice(error.property.length + 1) : message;
}

/** The one validation pipe: whitelisting, no unknown fields, all violations reported as a problem. */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    stopAtFirstError: false,
    validationError: { target: false, value: false },
    exceptionFactory: (errors) => new ValidationFailed(toViolations(errors)),
  });
}
