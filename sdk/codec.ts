/**
 * Validates and converts args (or recorded results) between the typed value a worker sees and
 * the JSON stored in the database. `npx gen` writes one per worker from its TypeScript types.
 */
export interface Codec<T> {
  /** Checks a typed value and turns it into JSON-safe data. Throws KobanValidationError. */
  encode(value: T): unknown;
  /** Checks stored JSON data and turns it back into the typed value. Throws KobanValidationError. */
  decode(data: unknown): T;
}
