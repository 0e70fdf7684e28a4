import { pipeline } from 'node:stream';
import { createGunzip } from 'node:zlib';
import {
  Controller,
  Get,
  HttpCode,
  Logger,
  PayloadTooLargeException,
  Post,
  Query,
  Req,
  Res,
  UnsupportedMediaTypeException,
} from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiBody,
  ApiConsumes,
  ApiHeader,
  ApiOkResponse,
  ApiOperation,
  ApiProduces,
  ApiQuery,
  ApiTags,
} from '@nestjs/swagger';
import { RequireRole, Write } from '@oms/auth';
import { ValidationFailed, WriteContext, bodyPointer, queryPointer } from '@oms/common';
import { OmsConfig } from '@oms/config';
import {
  ApiCommitMessage,
  ApiProblems,
  AT_QUERY,
  apiPath,
  mediaTypeOf,
  responseHeaders,
  undecodableBody,
} from '@oms/http';
import { Resilient, formatEtag, parseTagCondition } from '@oms/resilience';
import bytes from 'bytes';
import type { Request, Response } from 'express';
import { BulkImportResultDto } from './bulk.dto';
import { BulkFormat } from './bulk-items';
import { BulkService } from './bulk.service';
import { BRANCH_QUERY, OBJECT_TYPE_QUERY, branchOf } from '../document-queries';

/** Until the response can take more (or is closed): one listener of each, removed after. */
function drained(response: Response): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      response.off('drain', done).off('close', done);
      resolve();
    };
    response.once('drain', done).once('close', done);
  });
}

/** The import's path: its body is streamed by the handler, so the JSON body parser leaves it alone. */
export const BULK_IMPORT_PATH = apiPath('documents', 'bulk');

const FORMATS: Record<string, BulkFormat> = {
  'application/x-ndjson': 'ndjson',
  'application/json': 'json-array',
};

/** Bulk import (one commit) and export (one state) of documents. */
@ApiTags('documents')
@ApiBearerAuth()
@RequireRole('viewer')
@Resilient('documents', { conditional: false })
@Controller('documents')
export class BulkController {
  private readonly limit: number;
  private readonly logger = new Logger('Export');

  constructor(
    private readonly bulk: BulkService,
    config: OmsConfig,
  ) {
    this.limit = bytes.parse(config.http.bulkBodyLimit) ?? Number.MAX_SAFE_INTEGER;
  }

  @Post('bulk')
  @HttpCode(200)
  @RequireRole('editor')
  @ApiOperation({
    summary: 'Import documents: create, upsert and delete many as ONE commit, or nothing',
    description:
      'The body is NDJSON (`application/x-ndjson`, one item per line) or a JSON array of items ' +
      '`{op: "create"|"upsert"|"delete", objectType, id, properties}` (`op` defaults to upsert; an exported ' +
      'line imports as is, its version members ignored). Items apply in order, each checked as a single write ' +
      'made after the ones before it would be. Any invalid item fails the import: 400 with `errors: [{line, ' +
      'path, message}]` (the first 1,000), and nothing is written. The body is streamed (memory holds one ' +
      'batch, not the file); its limit is BULK_BODY_LIMIT; `Content-Encoding: gzip` is accepted.',
  })
  @ApiQuery(BRANCH_QUERY)
  @ApiQuery({
    name: 'dryRun',
    required: false,
    description: 'Check everything and report what would change, writing nothing',
    schema: { type: 'boolean', default: false },
  })
  @ApiCommitMessage()
  @ApiHeader({
    name: 'If-Match',
    required: false,
    description: 'Import only if the branch head is still this commit: `"<head commit id>"` (412 otherwise)',
  })
  @ApiConsumes('application/x-ndjson', 'application/json')
  @ApiBody({
    schema: {
      type: 'string',
      example:
        '{"op":"create","objectType":"Person","id":"ada","properties":{"name":"Ada"}}\n' +
        '{"op":"delete","objectType":"Person","id":"bob"}\n',
    },
  })
  @ApiOkResponse({ type: BulkImportResultDto, headers: responseHeaders('ETag') })
  @ApiProblems(400, 403, 404, 412, 413, 415)
  async import(
    @Query('branch') branch: string | undefined,
    @Query('dryRun') dryRun: string | undefined,
    @Write() ctx: WriteContext,
    @Req() request: Request,
    @Res({ passthrough: true }) response: Response,
  ): Promise<BulkImportResultDto> {
    const format = FORMATS[mediaTypeOf(request)];
    if (!format)
      throw new UnsupportedMediaTypeException(
        'A bulk import takes application/x-ndjson or application/json.',
      );
    const length = Number(request.header('content-length') ?? 0);
    if (length > this.limit)
      throw new PayloadTooLargeException(`The body is larger than ${bytes(this.limit)}.`);
    const encoding = (request.header('content-encoding') ?? 'identity').trim().toLowerCase();
    if (encoding !== 'identity' && encoding !== 'gzip')
      throw new UnsupportedMediaTypeException('A bulk import takes Content-Encoding gzip or identity.');
    if (dryRun !== undefined && dryRun !== 'true' && dryRun !== 'false')
      throw new ValidationFailed([{ path: queryPointer('dryRun'), message: 'must be true or false' }]);
    const result = await this.bulk.import({
      branch: branchOf(branch),
      format,
      body: this.body(request, encoding === 'gzip'),
      author: ctx.author,
      message: ctx.message,
      ifMatch: parseTagCondition(request.header('if-match'), 'If-Match'),
      dryRun: dryRun === 'true',
    });
    if (result.commit) response.setHeader('ETag', formatEtag(result.commit));
    return result;
  }

  /**
   * The body as it arrives (gunzipped if sent so), bounded by BULK_BODY_LIMIT. What goes wrong reading it is
   * the client's: a body that does not decompress, or a connection dropped mid-body. It is read inside the
   * import's transaction, where any other error would be taken for the store failing (the client's
   * ECONNRESET is a network code) and counted by the store breaker for everyone.
   */
  private async *body(request: Request, gzip: boolean): AsyncGenerator<Buffer> {
    // pipeline, not pipe: a request that breaks off must end the gunzip stream too, not leave it waiting.
    const source: AsyncIterable<Buffer> = gzip ? pipeline(request, createGunzip(), () => undefined) : request;
    let size = 0;
    try {
      for await (const chunk of source) {
        size += chunk.length;
        if (size > this.limit)
          throw new PayloadTooLargeException(`The body is larger than ${bytes(this.limit)}.`);
        yield chunk;
      }
    } catch (error) {
      if (error instanceof PayloadTooLargeException) throw error;
      throw (
        undecodableBody(error) ??
        new ValidationFailed(
          [{ path: bodyPointer(), message: 'ended before it was complete' }],
          'The request body ended before it was complete.',
        )
      );
    }
  }

  @Get('export')
  @ApiOperation({
    summary: 'Export documents as NDJSON, one consistent state',
    description:
      'One document per line (the representation a GET returns), all read from the commit that was the ' +
      'head when the export began (or `at`): type by type, referenced types first, and by id within a ' +
      'type. `X-Total-Count` gives the number of lines; each line imports as is (POST /documents/bulk).',
  })
  @ApiQuery(BRANCH_QUERY)
  @ApiQuery(AT_QUERY)
  @ApiQuery(OBJECT_TYPE_QUERY)
  @ApiProduces('application/x-ndjson')
  @ApiOkResponse({
    description: 'NDJSON, one document per line',
    content: { 'application/x-ndjson': { schema: { type: 'string' } } },
    headers: {
      ...responseHeaders('ETag'),
      'X-Total-Count': { description: 'How many documents the export holds', schema: { type: 'integer' } },
    },
  })
  @ApiProblems(400, 404)
  async export(
    @Query('branch') branch: string | undefined,
    @Query('objectType') objectType: string | undefined,
    @Query('at') at: string | undefined,
    @Res() response: Response,
  ): Promise<void> {
    const exported = await this.bulk.export(branchOf(branch), objectType, at);
    response.status(200);
    response.setHeader('Content-Type', 'application/x-ndjson; charset=utf-8');
    response.setHeader('ETag', formatEtag(exported.commit));
    response.setHeader('X-Total-Count', String(exported.total));
    response.setHeader('Cache-Control', 'no-store');
    try {
      for await (const text of exported.lines) {
        if (response.destroyed) return; // the client went away
        if (!response.write(text)) await drained(response);
      }
      response.end();
    } catch (error) {
      this.logger.warn({ message: 'export failed after it began', error: String(error) });
      // Headers are sent: all a failure can do now is cut the stream short, which the client sees as an
      // incomplete chunked body (never a silent, truncated success).
      response.destroy();
    }
  }
}
