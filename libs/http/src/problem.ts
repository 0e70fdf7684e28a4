import { Violation } from '@oms/common';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** RFC 9457 problem details, as every error response carries them. */
export interface ProblemDocument {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance: string;
  errors?: Violation[];
  [extension: string]: unknown;
}

/** Problem types are URNs under this prefix, one per kind of error (listed in the README). */
export const problemType = (slug: string) => `urn:oms:problem:${slug}`;
