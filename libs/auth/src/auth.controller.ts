import { Body, Controller, Get, HttpCode, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiProblems } from '@oms/http';
import { Shed } from '@oms/resilience';
import { CurrentActor, Public, RequireRole } from './auth.decorators';
import { LoginDto, MeResponseDto, TokenResponseDto } from './auth.dto';
import { Actor } from './roles';
import { UsersService } from './users.service';

@ApiTags('auth')
@Shed()
@Controller('auth')
export class AuthController {
  constructor(private readonly users: UsersService) {}

  @Public()
  @Post('login')
  @HttpCode(200)
  @ApiOperation({ summary: 'Exchange username and password for a bearer token' })
  @ApiOkResponse({ type: TokenResponseDto })
  @ApiProblems(400, 401)
  login(@Body() body: LoginDto): Promise<TokenResponseDto> {
    return this.users.login(body.username, body.password);
  }

  @Get('me')
  @RequireRole('viewer')
  @ApiBearerAuth()
  @ApiOperation({ summary: 'Who the token belongs to' })
  @ApiOkResponse({ type: MeResponseDto })
  @ApiProblems(401)
  me(@CurrentActor() actor: Actor): MeResponseDto {
    return { username: actor.username, roles: actor.roles };
  }
}
