/**
 * One ajv instance for every JSON body and the start-up config (schemas compiled once, at import).
 * A failure lists every problem at once in a BadRequestError (400) message.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { BadRequestError } from './errors.js';

export const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true });

/** Describes ajv errors for people: `/volatile must be boolean; unknown key 'foo'`. */
export function describeErrors(errors: readonly ErrorObject[] | null | undefined, what = 'body'): string {
  return (errors ?? [])
    .map((e) => {
      const at = e.instancePath || what;
      if (e.keyword === 'additionalProperties') return `unknown key '${String(e.params['additionalProperty'])}' in ${at}`;
      if (e.keyword === 'required') return `${at} needs '${String(e.params['missingProperty'])}'`;
      return `${at} ${e.message ?? 'is invalid'}`;
    })
    .join('; ');
}

/**
 * Compiles `schema` once and returns a checker that throws BadRequestError(`prefix: problems`) or
 * returns the value typed as T.
 */
export function compileChecker<T>(schema: object, prefix: string): (data: unknown) => T {
  const validate: ValidateFunction = ajv.compile(schema);
  return (data: unknown): T => {
    if (!validate(data)) throw new BadRequestError(`${prefix}: ${describeErrors(validate.errors)}`);
    return data as T;
  };
}
