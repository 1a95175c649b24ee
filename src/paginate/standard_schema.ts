/**
 * The Standard Schema interface (https://standardschema.dev), declared structurally so that
 * validators from Zod, Valibot, ArkType and others plug into {@linkcode ApiTable} without a
 * dependency.
 *
 * @module
 */

/** A validation problem reported by a Standard Schema validator. */
export interface StandardSchemaIssue {
  /** What is wrong. */
  readonly message: string;
  /** Where, as keys from the root of the value. */
  readonly path?: ReadonlyArray<PropertyKey | { readonly key: PropertyKey }>;
}

/** The result of a Standard Schema validation: the (possibly transformed) value, or issues. */
export type StandardSchemaResult<Output> =
  | { readonly value: Output; readonly issues?: undefined }
  | { readonly issues: ReadonlyArray<StandardSchemaIssue> };

/**
 * A Standard Schema v1 validator: any object with a `~standard` property holding `validate`.
 *
 * @example A hand-written schema
 * ```ts
 * import type { StandardSchemaV1 } from "@fluxpool/fluxpool";
 * import assert from "node:assert/strict";
 *
 * const positive: StandardSchemaV1<unknown, number> = {
 *   "~standard": {
 *     version: 1,
 *     vendor: "example",
 *     validate: (value) =>
 *       typeof value === "number" && value > 0 ? { value } : { issues: [{ message: "must be > 0" }] },
 *   },
 * };
 * assert.deepEqual(positive["~standard"].validate(-1), { issues: [{ message: "must be > 0" }] });
 * ```
 */
export interface StandardSchemaV1<Input = unknown, Output = Input> {
  /** The Standard Schema properties. */
  readonly "~standard": {
    /** The version of the Standard Schema interface. */
    readonly version: 1;
    /** The library that made the validator. */
    readonly vendor: string;
    /** Validates a value. */
    readonly validate: (
      value: unknown,
    ) => StandardSchemaResult<Output> | Promise<StandardSchemaResult<Output>>;
    /** The inferred types, for type-level use only. */
    readonly types?: { readonly input: Input; readonly output: Output };
  };
}
