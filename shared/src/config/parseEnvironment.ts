import type { z } from 'zod';
import { ValidationError } from '../errors/folioError.js';

/** Parses the environment with `schema`; a bad value stops start-up with every variable at fault named. */
export const parseEnvironment = <Schema extends z.ZodType>(schema: Schema, environment: NodeJS.ProcessEnv): z.output<Schema> => {
  const parsed = schema.safeParse(environment);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message }));
  throw new ValidationError(`invalid configuration: ${issues.map((issue) => `${issue.path}: ${issue.message}`).join('; ')}`, issues);
};
