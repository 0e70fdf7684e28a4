import { ExecutionContext, createParamDecorator } from '@nestjs/common';
import { WriteContext } from '@oms/common';
import { commitMessageOf } from '@oms/http';
import { writePrecondition } from '@oms/resilience';
import type { Request } from 'express';
import { actorOf } from './auth.decorators';

/** Everything a write needs from the request: the caller (commit author), X-Commit-Message, If-Match. */
export const Write = createParamDecorator((_: unknown, context: ExecutionContext): WriteContext => {
  const request = context.switchToHttp().getRequest<Request>();
  const actor = actorOf(request);
  if (!actor) throw new Error('@Write() used on a public route');
  return {
    author: actor.username,
    message: commitMessageOf(request),
    precondition: writePrecondition(request),
  };
});
