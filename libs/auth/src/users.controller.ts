import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiBody,
  ApiConsumes,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { ApiProblems } from '@oms/http';
import { Shed } from '@oms/resilience';
import { RequireRole } from './auth.decorators';
import { CreateUserDto, UpdateUserDto, UserResponseDto } from './auth.dto';
import { UsersService } from './users.service';

@ApiTags('users')
@ApiBearerAuth()
@RequireRole('admin')
@Shed()
@Controller('users')
export class UsersController {
  constructor(private readonly users: UsersService) {}

  @Post()
  @ApiOperation({ summary: 'Create a user (admin)' })
  @ApiCreatedResponse({ type: UserResponseDto })
  @ApiProblems(400, 403, 409)
  create(@Body() body: CreateUserDto): Promise<UserResponseDto> {
    return this.users.create(body);
  }

  @Get()
  @ApiOperation({ summary: 'List users (admin)' })
  @ApiOkResponse({ type: [UserResponseDto] })
  @ApiProblems(403)
  list(): Promise<UserResponseDto[]> {
    return this.users.list();
  }

  @Patch(':username')
  @ApiOperation({
    summary: "Change a user's roles and/or password (admin); revokes the user's tokens",
    description:
      'A JSON merge patch (RFC 7396) of `{roles, password}`. Changed roles or a new password revoke every ' +
      'token the user holds (they log in again); `{}` changes nothing. Taking the admin role from the last ' +
      'admin is refused (409).',
  })
  @ApiConsumes('application/merge-patch+json')
  @ApiBody({ type: UpdateUserDto })
  @ApiOkResponse({ type: UserResponseDto })
  @ApiProblems(400, 403, 404, 409)
  update(@Param('username') username: string, @Body() body: unknown): Promise<UserResponseDto> {
    // Validated by the service: the password policy needs the username from the path.
    return this.users.update(username, body);
  }

  @Delete(':username')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a user (admin); the last admin cannot be deleted' })
  @ApiNoContentResponse()
  @ApiProblems(403, 404, 409)
  async delete(@Param('username') username: string): Promise<void> {
    await this.users.delete(username);
  }
}
