import {
  ArgumentsHost,
  Catch,
  ExceptionFilter,
  HttpException,
  HttpStatus,
  Logger,
  NotFoundException,
} from '@nestjs/common';
import { DomainError, DomainErrorCode, TooManyRequests, Unauthenticated, Unavailable } from '@oms/common';
import { STATUS_CODES } from 'node:http';
import type { Request, Response } from 'express';
import { PROBLEM_CONTENT_TYPE, ProblemDocument, problemType } from './problem';
import { allowedMethods } from './allowed-methods';
import { requestIdOf, routed } from './request-context';

const STATUS_BY_CODE: Record<DomainErrorCode, number> = {
  validation: 400,
  unauthenticated: 401,
  forbidden: 403,
  'not-found': 404,
  gone: 410,
  'already-exists': 409,
  conflict: 409,
  'unique-violation': 409,
  'breaking-change': 409,
  'precondition-failed': 412,
  'precondition-required': 428,
  unavailable: 503,
  'outcome-unknown': 504,
  'too-many-requests': 429,
};

/** Errors raised by Express' body parser (http-errors): they carry a status and a machine type. */
interface BodyParserError {
  status: number;
  type?: string;
  expose?: boolean;
}

const BODY_PARSER_DETAILS: Record<string, { slug: string; detail: string }> = {
  'entity.too.large': { slug: 'payload-too-large', detail: 'The request body exceeds the size limit.' },
  'encoding.unsupported': { slug: 'unsupported-encoding', detail: 'The content encoding is not supported.' },
  'charset.unsupported': { slug: 'unsupported-charset', detail: 'The charset is not supported.' },
  'request.aborted': { slug: 'request-aborted', detail: 'The request was aborted by the client.' },
};

/** body-parser's errors (a type), and any other http-errors error it passes on as the client's (expose). */
function isBodyParserError(error: unknown): error is BodyParserError {
  return (
    typeof error === 'object' &&
    error !== null &&
    typeof (error as BodyParserError).status === 'number' &&
    (typeof (error as BodyParserError).type === 'string' || (error as BodyParserError).expose === true)
  );
}

/** `Bearer realm="oms"`, plus `error="invalid_token"` when a token was sent and refused (RFC 6750 §3.1). */
function bearerChallenge(request: Request): string {
  const sent = /^bearer\s+\S/i.test(request.header('authorization') ?? '');
  return sent ? 'Bearer realm="oms", error="invalid_token"' : 'Bearer realm="oms"';
}

const slugOf = (status: number) => (STATUS_CODES[status] ?? 'error').toLowerCase().replace(/[^a-z]+/g, '-');

/**
 * The one place where failures become HTTP: domain errors, framework errors and anything unexpected
 * leave as application/problem+json. Unexpected errors are logged with their stack and answered with a
 * generic 500 that reveals nothing.
 */
@Catch()
export class ProblemFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<Request>();
    const response = http.getResponse<Response>();
    const problem = this.toProblem(exception, request, response);
    if (response.headersSent) return;
    // An error is about this request only: never stored by a cache (also covers login's failures).
    response.status(problem.status).type(PROBLEM_CONTENT_TYPE).setHeader('Cache-Control', 'no-store');
    if (request.method === 'HEAD') response.end();
    else response.send(JSON.stringify(problem));
  }

  private toProblem(exception: unknown, request: Request, response: Response): ProblemDocument {
    const base = { instance: request.originalUrl, requestId: requestIdOf(request) };
    if (exception instanceof DomainError) {
      const domain = exception;
      if (domain instanceof Unavailable || domain instanceof TooManyRequests)
        response.setHeader('Retry-After', String(domain.retryAfterSeconds));
      // RFC 9110 §11.6.1 / RFC 6750 §3: a 401 names the scheme it wants.
      if (domain instanceof Unauthenticated) response.setHeader('WWW-Authenticate', bearerChallenge(request));
      return {
        type: problemType(domain.code),
        title: domain.title,
        status: STATUS_BY_CODE[domain.code],
        detail: domain.message,
        ...base,
        ...domain.extensions,
      };
    }
    if (exception instanceof NotFoundException && !routed(request)) {
      // No route for this method: if another method has one, the answer is 405 with what is allowed.
      const allowed = allowedMethods(request.app, request.path);
      if (allowed.length > 0) {
        response.setHeader('Allow', allowed.join(', '));
        return {
          type: problemType('method-not-allowed'),
          title: STATUS_CODES[405]!,
          status: 405,
          detail: `${request.method} is not allowed here; allowed: ${allowed.join(', ')}.`,
          ...base,
        };
      }
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      return {
        type: problemType(slugOf(status)),
        title: STATUS_CODES[status] ?? 'Error',
        status,
        detail: this.httpDetail(exception),
        ...base,
      };
    }
    if (isBodyParserError(exception) && exception.status >= 400 && exception.status < 500) {
      const known = BODY_PARSER_DETAILS[exception.type ?? ''] ?? {
        slug: slugOf(exception.status),
        detail: 'Bad request.',
      };
      return {
        type: problemType(known.slug),
        title: STATUS_CODES[exception.status] ?? 'Bad Request',
        status: exception.status,
        detail: known.detail,
        ...base,
      };
    }
    this.logger.error({
      message: 'unhandled error',
      requestId: base.requestId,
      path: request.originalUrl,
      error: exception instanceof Error ? exception.stack : String(exception),
    });
    return {
      type: problemType('internal'),
      title: 'Internal Server Error',
      status: HttpStatus.INTERNAL_SERVER_ERROR,
      detail: 'The server failed to handle the request. It has been logged with the request id.',
      ...base,
    };
  }

  private httpDetail(exception: HttpException): string {
    const body = exception.getResponse();
    if (typeof body === 'string') return body;
    const message = (body as { message?: unknown }).message;
    if (Array.isArray(message)) return message.join('; ');
    return typeof message === 'string' ? message : exception.message;
  }
}
