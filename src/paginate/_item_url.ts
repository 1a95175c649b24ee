// The URL of one ApiTable entity: `itemPath` with the id in place of `{id}`, resolved against
// the collection. The id comes from callers who may pass user input, so it must stay one path
// segment where `{id}` stands: a dot segment would climb out of the collection (`get("..")`
// fetching the parent) and a raw `/`, `?`, `#` or `\` would change the path, query or fragment.
import { describe, fail, invalid } from "../core/validate.ts";
import { isHttpUrl } from "../core/url.ts";

const action = "get an ApiTable entity";
// Stands for the id while checking where `{id}` lands; it needs no encoding and no dot.
const PLACEHOLDER = "fluxpool-id-7c1e";

/** Throws unless `id` is a string or a finite number. */
export function checkIdType(id: unknown): void {
  if (typeof id === "string" || (typeof id === "number" && Number.isFinite(id))) return;
  invalid(action, "id", "a string or a finite number", id);
}

/** Throws a TypeError unless `itemPath` holds `{id}` and resolves to an http(s) URL. */
export function checkItemPath(collection: URL, itemPath: unknown): void {
  if (typeof itemPath !== "string" || !itemPath.includes("{id}")) {
    invalid("create ApiTable", "itemPath", "a path containing {id}", itemPath, TypeError);
  }
  const sample = itemPath.replaceAll("{id}", PLACEHOLDER);
  if (!URL.canParse(sample, collection) || !isHttpUrl(new URL(sample, collection))) {
    fail("ApiTable", "itemPath", "a path or an http(s) URL containing {id}", itemPath);
  }
}

/** The URL of entity `id`; throws a RangeError for an id that cannot be one path segment. */
export function itemUrl(collection: URL, itemPath: string, id: string | number): URL {
  const segment = encodeSegment(String(id));
  const url = new URL(itemPath.replaceAll("{id}", segment), collection);
  // However `{id}` sits in itemPath, the id may change nothing but its own characters.
  const expected = new URL(itemPath.replaceAll("{id}", PLACEHOLDER), collection);
  if (url.href !== expected.href.replaceAll(PLACEHOLDER, segment)) {
    outOfRange("one path segment", String(id));
  }
  return url;
}

function encodeSegment(id: string): string {
  if (!id.isWellFormed()) outOfRange("well-formed Unicode", id);
  let decoded = id;
  try {
    decoded = decodeURIComponent(id);
  } catch {
    // Not percent-encoded: encodeURIComponent below escapes its "%" like any other.
  }
  if (id === "" || decoded === "." || decoded === "..") {
    outOfRange('one path segment (not empty, "." or "..", even percent-encoded)', id);
  }
  return encodeURIComponent(id);
}

// A string id of the right type but one that cannot be used: a RangeError.
function outOfRange(rule: string, id: string): never {
  throw new RangeError(`Cannot ${action} as 'id' must be ${rule}: received ${describe(id)}`);
}
