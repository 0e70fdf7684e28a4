import { Module } from '@nestjs/common';
import { EventRetention } from './event-retention';
import { EventsController } from './events.controller';
import { FeedHub } from './feed-hub';

/** The change feed: server-sent event streams of each branch's commits, read from the outbox. */
@Module({
  controllers: [EventsController],
  providers: [FeedHub, EventRetention],
  exports: [FeedHub],
})
export class FeedModule {}
