import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import fc from 'fast-check';
import { DocumentSchemaValidator, typeJsonSchema, withoutNulls } from './document-schema';
import {
  DATA_TYPES,
  DataType,
  ObjectTypeDefinition,
  PropertyDefinition,
  STRING_FORMATS,
} from './object-type.model';

/**
 * The exported JSON Schema against OMS's own verdict: for random object types within the model and random
 * documents (near their rules, and arbitrary JSON), ajv 2020 on the export accepts exactly what OMS accepts
 * (nulls dropped, then validated), every check across documents (references existing, unique) aside.
 */

const NAMES = ['a', 'b', 'c', 'd', 'e', 'valueOf', 'constructor'];
/** Patterns that recheck proves linear, as stored patterns must be. */
const PATTERNS = ['^[a-z]+$', '^[A-Z]{2}-[0-9]{2}$', 'x', '^$', '^\\p{Lu}', '[0-9]$'];
const NUMBER_TYPES: DataType[] = ['integer', 'decimal'];
const STRING_TYPES: DataType[] = ['string', 'text'];

const bound = fc.oneof(fc.integer({ min: -5, max: 5 }), fc.double({ min: -5, max: 5, noNaN: true }));
const count = fc.integer({ min: 0, max: 4 });
const maybe = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });

/** Lower and upper bounds in order (the model refuses them otherwise). */
const ordered = (lo: number | undefined, hi: number | undefined): [number | undefined, number | undefined] =>
  lo !== undefined && hi !== undefined && lo > hi ? [hi, lo] : [lo, hi];

const property = (name: string): fc.Arbitrary<PropertyDefinition> =>
  fc
    .record({
      dataType: fc.constantFrom(...DATA_TYPES),
      required: fc.boolean(),
      array: fc.boolean(),
      minimum: maybe(bound),
      maximum: maybe(bound),
      exclusiveMinimum: maybe(bound),
      exclusiveMaximum: maybe(bound),
      minLength: maybe(count),
      maxLength: maybe(count),
      pattern: maybe(fc.constantFrom(...PATTERNS)),
      format: maybe(fc.constantFrom(...STRING_FORMATS)),
      minItems: maybe(count),
      maxItems: maybe(count),
      uniqueItems: maybe(fc.boolean()),
    })
    .map((p) => {
      const numeric = NUMBER_TYPES.includes(p.dataType);
      const text = STRING_TYPES.includes(p.dataType);
      const [minimum, maximum] = numeric ? ordered(p.minimum, p.maximum) : [];
      const [exclusiveMinimum, exclusiveMaximum] = numeric
        ? ordered(p.exclusiveMinimum, p.exclusiveMaximum)
        : [];
      const [minLength, maxLength] = text ? ordered(p.minLength, p.maxLength) : [];
      const [minItems, maxItems] = p.array ? ordered(p.minItems, p.maxItems) : [];
      const definition: PropertyDefinition = {
        name,
        dataType: p.dataType,
        required: p.required,
        array: p.array,
        unique: false,
        ...(p.dataType === 'enum' && { enumValues: ['red', 'green'] }),
        ...(p.dataType === 'reference' && { referenceType: 'Target' }),
        ...{ minimum, maximum, exclusiveMinimum, exclusiveMaximum, minLength, maxLength, minItems, maxItems },
        ...(text && { pattern: p.pattern, format: p.format }),
        ...(p.array && { uniqueItems: p.uniqueItems }),
      };
      return JSON.parse(JSON.stringify(definition)) as PropertyDefinition; // drops the undefined members
    });

const objectType: fc.Arbitrary<ObjectTypeDefinition> = fc
  .uniqueArray(fc.constantFrom(...NAMES), { minLength: 0, maxLength: 4 })
  .chain((names) => fc.tuple(...names.map(property)))
  .map((properties) => ({ name: 'Thing', properties }));

/** Values near the rules of any property: numbers around the bounds, strings around lengths and formats. */
const scalar: fc.Arbitrary<unknown> = fc.oneof(
  fc.integer({ min: -6, max: 6 }),
  fc.double({ min: -6, max: 6, noNaN: true }),
  fc.constantFrom(0.5, -0, 2 ** 53, 1e300),
  fc.string({ maxLength: 5 }),
  fc.constantFrom('', 'ab', 'AB-12', 'red', 'green', '😀😀', 'a@b.co', 'https://x.org/p', 'db.local'),
  fc.constantFrom('6f1c2b5e-2d6a-4f0e-9d55-3c1d1e0b9a11', '2024-02-29', '2024-01-01T00:00:00Z', 'ÀB'),
  fc.boolean(),
  fc.constant(null),
);
const value = fc.oneof(
  { weight: 3, arbitrary: scalar },
  { weight: 2, arbitrary: fc.array(scalar, { maxLength: 5 }) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
);

const documentOf = (type: ObjectTypeDefinition): fc.Arbitrary<Record<string, unknown>> =>
  fc
    .tuple(
      fc.subarray(type.properties.map((p) => p.name)),
      fc.array(value, { minLength: type.properties.length, maxLength: type.properties.length }),
      fc.option(fc.constantFrom('extra', 'f'), { nil: undefined }),
    )
    .map(([present, values, extra]) => {
      const document: Record<string, unknown> = {};
      for (const [i, name] of present.entries())
        Object.defineProperty(document, name, { value: values[i], enumerable: true });
      if (extra !== undefined) document[extra] = 1;
      return document;
    });

describe('JSON Schema export', () => {
  const oms = new DocumentSchemaValidator();
  // ownProperties: a document's members are its own. Without it ajv finds `constructor` or `valueOf` on
  // Object.prototype in a document that lacks them (the README says so to integrators).
  const ajv = addFormats(new Ajv2020({ allErrors: true, strict: true, ownProperties: true }), {
    mode: 'full',
  });
  let version = 0;

  it('accepts exactly the documents OMS accepts, for random types and documents', () => {
    let accepted = 0;
    let refused = 0;
    fc.assert(
      fc.property(
        objectType.chain((type) =>
          fc.tuple(fc.constant(type), fc.array(documentOf(type), { minLength: 1, maxLength: 8 })),
        ),
        ([type, documents]) => {
          const schema = typeJsonSchema('main', type) as { $id: string };
          const exported = ajv.compile(schema);
          ajv.removeSchema(schema.$id); // each run's type has the same $id
          version++;
          for (const document of documents) {
            const omsAccepts = oms.validate(type, version, withoutNulls(document)).length === 0;
            expect({ document, exported: exported(document) }).toEqual({ document, exported: omsAccepts });
            if (omsAccepts) accepted++;
            else refused++;
          }
        },
      ),
      { numRuns: 400, seed: Number(process.env.FC_SEED ?? Date.now() % 2 ** 31) },
    );
    // Both verdicts were exercised, not only one.
    expect(accepted).toBeGreaterThan(50);
    expect(refused).toBeGreaterThan(50);
  });
});
