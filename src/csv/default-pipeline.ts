import { pipelineSchema, type Pipeline } from './pipeline-schema.ts';

/**
 * The pipeline of every key no definition matches: a header row, the delimiter
 * detected from it, all columns strings, no reject limit.
 */
export const DEFAULT_PIPELINE: Pipeline = Object.freeze(pipelineSchema.parse({ name: 'default' }));
