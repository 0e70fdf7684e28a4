/**
 * The framework's ceiling: a bare NestJS 11 app on Express that answers GET /types/:name with the same
 * bytes the OMS answers for an object type, from a Map. Started by bench.ts on BASELINE_PORT.
 */
import 'reflect-metadata';
import { Controller, Get, Module, NotFoundException, Param, Res } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { Response } from 'express';

const bodies = new Map<string, string>([['Person', process.env.BASELINE_BODY ?? '{}']]);

@Controller('types')
class TypesController {
  @Get(':name')
  get(@Param('name') name: string, @Res() res: Response): void {
    const body = bodies.get(name);
    if (body === undefined) throw new NotFoundException();
    res.type('application/json').send(body);
  }
}

@Module({ controllers: [TypesController] })
class BaselineModule {}

async function main(): Promise<void> {
  const app = await NestFactory.create(BaselineModule, { logger: false });
  await app.listen(Number(process.env.BASELINE_PORT), '127.0.0.1');
  process.stdout.write('ready\n');
}

void main();
