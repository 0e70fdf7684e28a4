import { ApiProperty } from '@nestjs/swagger';

export class BulkImportResultDto {
  @ApiProperty({
    type: String,
    nullable: true,
    description: "The import's commit (also the ETag); null when nothing changed or for a dry run",
  })
  commit: string | null;
  @ApiProperty({ description: 'Items that created a document' }) created: number;
  @ApiProperty({ description: 'Items that changed a document' }) updated: number;
  @ApiProperty({ description: 'Items that deleted a document' }) deleted: number;
  @ApiProperty({ description: 'Upserts that found the document already so' }) unchanged: number;
  @ApiProperty({ description: 'True when nothing was written (?dryRun=true)' }) dryRun: boolean;
}
