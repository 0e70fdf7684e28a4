import { Controller, Get, Headers, Inject, Param, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiHeader, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { RequireRole } from '@oms/auth';
import { Gone, NotFound, ValidationFailed, headerPointer } from '@oms/common';
import { ApiProblems } from '@oms/http';
import { EVENT_LOG, EventLog, VERSIONED_STORE, VersionedStore } from '@oms/store';
import type { Response } from 'express';
import { EventsQueryDto } from './events.dto';
import { FeedHub } from './feed-hub';

const SEQ = /^\d{1,15}$/;

/**
 * A branch's change feed as server-sent events. Not a bulkhead slot and not behind a breaker: a stream
 * lives for minutes or hours, bounded per instance by SSE_MAX_STREAMS instead.
 */
@ApiTags('change feed')
@ApiBearerAuth()
@RequireRole('viewer')
@Controller('branches')
export class EventsController {
  constructor(
    private readonly hub: FeedHub,
    @Inject(EVENT_LOG) private readonly log: EventLog,
    @Inject(VERSIONED_STORE) private readonly store: VersionedStore,
  ) {}

  @Get(':branch/events')
  @ApiOperation({
    summary: "Stream the branch's commits as server-sent events",
    description:
      'Each message: `id: <seq>`, `event: commit`, `data: <event JSON>`; a comment line every ' +
      'SSE_HEARTBEAT_SECONDS. A consumer with SSE_MAX_BUFFER_BYTES unread that takes nothing for a heartbeat ' +
      'interval gets `event: overflow` (data `{"lastSeq"}`) and the stream ends: resume with Last-Event-ID. ' +
      'See docs/change-feed.md.',
  })
  @ApiHeader({
    name: 'Last-Event-ID',
    required: false,
    description: 'Resume after this seq (sent by EventSource on reconnection)',
  })
  @ApiOkResponse({
    description: 'The stream',
    content: { 'text/event-stream': { schema: { type: 'string' } } },
  })
  @ApiProblems(400, 404, 410, 503)
  async stream(
    @Param('branch') branch: string,
    @Query() query: EventsQueryDto,
    @Headers('last-event-id') lastEventId: string | undefined,
    @Res() res: Response,
  ): Promise<void> {
    if (lastEventId !== undefined && !SEQ.test(lastEventId.trim())) {
      throw new ValidationFailed([
        { path: headerPointer('Last-Event-ID'), message: 'must be the seq of an event (an integer)' },
      ]);
    }
    if (!(await this.store.getBranch(branch))) throw new NotFound('Branch', branch);
    const horizon = await this.log.horizon(branch);
    const from = lastEventId !== undefined ? Number(lastEventId.trim()) : query.since;
    if (from !== undefined && from < horizon.prunedThrough) {
      const gone = new Gone(
        'Events no longer kept',
        `Events of '${branch}' up to seq ${horizon.prunedThrough} are past their retention ` +
          `(EVENT_RETENTION_DAYS): resume from ${horizon.prunedThrough} or later, after reading the current state.`,
      );
      gone.extensions.prunedThrough = horizon.prunedThrough;
      throw gone;
    }
    this.hub.attach(branch, from ?? horizon.lastSeq, res);
  }
}
