import { Injectable, NestMiddleware } from '@nestjs/common';
import { InjectMetric } from '@willsoto/nestjs-prometheus';
import { routeOf } from '@oms/http';
import type { NextFunction, Request, Response } from 'express';
import { Histogram } from 'prom-client';
import { METRICS } from './metric-names';

/**
 * Times every request, labelled by the route template Express matched (never the raw path). An event
 * stream is not timed: it lasts as long as its consumer reads (sse_streams counts them), and its hours would
 * swamp the latency of the API's answers.
 */
@Injectable()
export class HttpMetricsMiddleware implements NestMiddleware {
  constructor(@InjectMetric(METRICS.httpDuration) private readonly duration: Histogram) {}

  use(request: Request, response: Response, next: NextFunction): void {
    const started = process.hrtime.bigint();
    response.once('finish', () => {
      if (String(response.getHeader('content-type') ?? '').startsWith('text/event-stream')) return;
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      this.duration.labels(request.method, routeOf(request), String(response.statusCode)).observe(seconds);
    });
    next();
  }
}
