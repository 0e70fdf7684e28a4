import { Body, Controller, Get, Header, HttpCode, Post, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiProblems } from '@oms/http';
import { Shed } from '@oms/resilience';
import type { Request } from 'express';
import { CurrentActor, Public, RequireRole } from './auth.decorators';
import { LoginDto, MeResponseDto, TokenResponseDto } from './auth.dto';
import { LoginService } from './login.service';
import { Actor } from './roles';

@ApiTags('auth')
@Shed()
@Controller('auth')
export class AuthController {
  constructor(private readonly logins: LoginService) {}

  @Public()
  @Post('login')
  @HttpCode(200)
  // Credentials: no cache keeps them (every error answer is no-store already, by the problem filter).
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary: 'Exchange username and password for a bearer token',
    description:
      'Failed logins are counted per username and per client address (per instance); past the limit the ' +
      'answer is 429 with Retry-After, without checking the password.',
  })
  @ApiOkResponse({ type: TokenResponseDto })
  @ApiProblems(400, 401, 429, 503)
  login(@Body() body: LoginDto, @Req() request: Request): Promise<TokenResponseDto> {
    const address = request.ip ?? request.socket.remoteAddress ?? 'unknown';
    return this.logins.login(body.username, body.password, address);
  }

  @Get('me')
  @RequireRole('viewer')
  @ApiBearerAuth()
  @ApiOperation({ summary: 'Who the token belongs to' })
  @ApiOkResponse({ type: MeResponseDto })
  me(@CurrentActor() actor: Actor): MeResponseDto {
    return { username: actor.username, roles: actor.roles };
  }
}
