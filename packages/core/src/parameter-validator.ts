import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { isPromiseLike } from './bounded-run';
import { describeError, describeValue, ToolError } from './errors';
import type { JsonSchema, ToolParams } from './tool-definition';

/** Checks the parameters of one call; throws `INVALID_PARAMETERS` naming the field. */
export type ParameterValidator = (params: unknown, key: string) => ToolParams;

/**
 * Compiles tool parameter schemas with Ajv. One instance per registry, so
 * schema `$id`s of two registries never clash.
 *
 * Note: `format` keywords are not checked (no format plugin is loaded) and
 * unknown keywords are ignored, so schemas written for other validators load.
 */
export class ParameterSchemaCompiler {
  readonly #ajv = new Ajv({ strict: false, validateFormats: false, logger: false });

  /**
   * Compiles `schema` into a validator.
   *
   * @throws {ToolError} `INVALID_DEFINITION` when Ajv rejects the schema.
   */
  compile(schema: JsonSchema | undefined, key: string): ParameterValidator {
    if (schema === undefined) {
      return requireObject;
    }

    let validate: ValidateFunction;
    try {
      validate = this.#ajv.compile(schema as Record<string, unknown>);
    } catch (error) {
      throw new ToolError(
        'INVALID_DEFINITION',
        `Tool "${key}": "parameters" is not a valid JSON Schema: ${describeError(error)}.`,
        { cause: error, key },
      );
    }

    return (params, callKey) => {
      const checked = requireObject(params, callKey);
      if (!validate(checked)) {
        throw toParameterError(validate.errors ?? [], callKey);
      }

      return checked;
    };
  }

  /** Forgets a compiled schema, so a replacement with the same `$id` compiles. */
  release(schema: JsonSchema | undefined): void {
    if (typeof schema === 'object' && schema !== null) {
      this.#ajv.removeSchema(schema as Record<string, unknown>);
    }
  }
}

function requireObject(params: unknown, key: string): ToolParams {
  if (typeof params !== 'object' || params === null || Array.isArray(params)) {
    throw new ToolError(
      'INVALID_PARAMETERS',
      `Invalid parameters for tool "${key}": expected a JSON object, got ${describeValue(params)}.`,
      { key },
    );
  }
  if (isPromiseLike(params)) {
    // A Promise is an object and would pass a schema without required fields.
    throw new ToolError(
      'INVALID_PARAMETERS',
      `Invalid parameters for tool "${key}": expected a JSON object, got a Promise; await it and pass the object it resolves to.`,
      { key },
    );
  }

  return params as ToolParams;
}

function toParameterError(errors: readonly ErrorObject[], key: string): ToolError {
  const first = errors[0];
  if (first === undefined) {
    return new ToolError('INVALID_PARAMETERS', `Invalid parameters for tool "${key}".`, { key });
  }

  const field = fieldOf(first);
  const rule =
    first.keyword === 'required'
      ? 'is required'
      : first.keyword === 'additionalProperties'
        ? 'is not allowed by the schema'
        : (first.message ?? `fails "${first.keyword}"`);
  const where = field === '' ? 'the parameters object' : `field "${field}"`;

  return new ToolError(
    'INVALID_PARAMETERS',
    `Invalid parameters for tool "${key}": ${where} ${rule}.`,
    {
      key,
      field,
      cause: errors,
    },
  );
}

/** Turns Ajv's JSON pointer (plus the property named by `required`) into `a.b[0].c`. */
function fieldOf(error: ErrorObject): string {
  const segments = error.instancePath
    .split('/')
    .slice(1)
    .map((segment) => segment.replaceAll('~1', '/').replaceAll('~0', '~'));

  const params = error.params as { missingProperty?: string; additionalProperty?: string };
  const property = params.missingProperty ?? params.additionalProperty;
  if (property !== undefined) {
    segments.push(property);
  }

  let path = '';
  for (const segment of segments) {
    if (/^\d+$/.test(segment)) {
      path += `[${segment}]`;
    } else {
      path += path === '' ? segment : `.${segment}`;
    }
  }

  return path;
}
