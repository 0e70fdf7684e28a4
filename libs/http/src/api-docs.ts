import { applyDecorators } from '@nestjs/common';
import {
  ApiExtraModels,
  ApiHeader,
  ApiProperty,
  ApiPropertyOptional,
  ApiResponse,
  getSchemaPath,
} from '@nestjs/swagger';
import { STATUS_CODES } from 'node:http';
import { PROBLEM_CONTENT_TYPE } from './problem';

export class ViolationDto {
  @ApiProperty({ example: '/properties/age' }) path: string;
  @ApiProperty({ example: 'must be integer' }) message: string;
}

export class ProblemDto {
  @ApiProperty({ example: 'urn:oms:problem:validation' }) type: string;
  @ApiProperty({ example: 'Validation failed' }) title: string;
  @ApiProperty({ example: 400 }) status: number;
  @ApiProperty() detail: string;
  @ApiProperty({ example: '/api/v1/documents/crud?branch=main' }) instance: string;
  @ApiProperty({ description: 'Echoes X-Request-Id' }) requestId: string;
  @ApiPropertyOptional({ type: [ViolationDto], description: 'Every violation, for validation problems' })
  errors?: ViolationDto[];
}

/** Documents the problem+json responses a route can give. */
export function ApiProblems(...statuses: number[]) {
  return applyDecorators(
    ApiExtraModels(ProblemDto),
    ...statuses.map((status) =>
      ApiResponse({
        status,
        description: STATUS_CODES[status],
        content: { [PROBLEM_CONTENT_TYPE]: { schema: { $ref: getSchemaPath(ProblemDto) } } },
      }),
    ),
  );
}

/** Documents the X-Commit-Message header of a write. */
export const ApiCommitMessage = () =>
  ApiHeader({
    name: 'X-Commit-Message',
    required: false,
    description: 'Message of the commit this write makes',
  });

/** Documents the If-Match header of a conditional write. */
export const ApiIfMatch = () =>
  ApiHeader({
    name: 'If-Match',
    required: false,
    description: 'Write only if the ETag matches (412 otherwise)',
  });
