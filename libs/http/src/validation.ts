import { ValidationPipe } from '@nestjs/common';
import { ValidationFailed, Violation } from '@oms/common';
import { plainToInstance } from 'class-transformer';
import { ValidationError, validateSync } from 'class-validator';

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

const RULES = { whitelist: true, forbidNonWhitelisted: true } as const;

/** The one validation pipe: whitelisting, no unknown fields, all violations reported as a problem. */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    ...RULES,
    transform: true,
    stopAtFirstError: false,
    validationError: { target: false, value: false },
    exceptionFactory: (errors) => new ValidationFailed(toViolations(errors)),
  });
}

/**
 * Validates a body against a DTO class without throwing, for services that add checks of their own
 * (against the store) and must report every violation in one response. `value` may be partly invalid.
 */
export function validateBody<T extends object>(
  type: new () => T,
  body: unknown,
): { value: T; violations: Violation[] } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { value: new type(), violations: [{ path: '', message: 'must be a JSON object' }] };
  }
  const value = plainToInstance(type, body);
  return { value, violations: toViolations(validateSync(value, RULES)) };
}
