/**
 * The error {@linkcode ApiTable} raises when an entity fails validation.
 *
 * @module
 */
import { errorGuard, FluxpoolError, type FluxpoolErrorOptions } from "../core/errors.ts";
import type { StandardSchemaIssue } from "./standard_schema.ts";

/**
 * An entity of an {@linkcode ApiTable} failed its Standard Schema validation.
 *
 * @example Usage
 * ```ts
 * import { isValidationError, ValidationError } from "@fluxpool/fluxpool";
 * import assert from "node:assert/strict";
 *
 * const error = new ValidationError("DE", [{ message: "Expected string", path: ["name"] }]);
 * assert.ok(isValidationError(error));
 * assert.equal(error.message, 'Cannot accept entity "DE" as it failed validation: name: Expected string');
 * ```
 */
export class ValidationError extends FluxpoolError {
  /** The id of the failing entity, when it has one. */
  readonly id: unknown;
  /** The problems the validator reported. */
  readonly issues: readonly StandardSchemaIssue[];

  /**
   * Creates the error.
   * @param id The id of the failing entity.
   * @param issues The problems the validator reported.
   * @param options The cause.
   */
  constructor(id: unknown, issues: readonly StandardSchemaIssue[], options?: FluxpoolErrorOptions) {
    super(
      `Cannot accept entity ${JSON.stringify(id) ?? String(id)} as it failed validation: ${
        issues.slice(0, 3).map(describeIssue).join("; ")
      }${issues.length > 3 ? ` (and ${issues.length - 3} more)` : ""}`,
      options,
    );
    this.name = "ValidationError";
    this.id = id;
    this.issues = issues;
  }
}

const isValidationErrorGuard = errorGuard(ValidationError, "ValidationError");

/**
 * Whether `error` is a {@linkcode ValidationError}.
 * @param error Anything caught.
 * @returns True for a ValidationError.
 * @example Usage
 * ```ts
 * import { isValidationError } from "@fluxpool/fluxpool";
 * import assert from "node:assert/strict";
 * assert.equal(isValidationError(new Error("x")), false);
 * ```
 */
export function isValidationError(error: unknown): error is ValidationError {
  return isValidationErrorGuard(error);
}

function describeIssue(issue: StandardSchemaIssue): string {
  const path = (issue.path ?? [])
    .map((key) => String(typeof key === "object" ? key.key : key))
    .join(".");
  return path === "" ? issue.message : `${path}: ${issue.message}`;
}
