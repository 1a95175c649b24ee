/**
 * A paginated REST resource read like a table: `list`, `stream`, `get`, `count`, `where`.
 *
 * @module
 */
import { redact } from "../core/url_redaction.ts";
import { HttpError, PaginationError } from "../core/errors.ts";
import { fail, integer, invalid } from "../core/validate.ts";
import {
  func,
  httpUrl,
  optionalString,
  optionsOf,
  signalOf,
  strategyOf,
  text,
} from "./_options.ts";
import { checkIdType, checkItemPath, itemUrl } from "./_item_url.ts";
import type { PaginationStrategy } from "./strategy.ts";
import type { PaginationCheckpoint } from "./checkpoint.ts";
import { pageNumber } from "./page_number.ts";
import {
  DEFAULT_MAX_PAGE_BYTES,
  type PageFetcher,
  type PageFetchInit,
  pages,
  paginate,
} from "./paginate.ts";
import type { StandardSchemaV1 } from "./standard_schema.ts";
import { ValidationError } from "./validation_error.ts";
import { readText } from "./_read_body.ts";
import { readExcerpt } from "../core/read_body.ts";
import { iterate } from "./_iterate.ts";

const owner = "ApiTable";

/** Options for {@linkcode ApiTable}. */
export interface ApiTableOptions<E> {
  /** The field that identifies an entity. */
  idColumn: keyof E & string;
  /** How the collection is paginated. @default {pageNumber()} */
  strategy?: PaginationStrategy;
  /**
   * The path of one entity, with `{id}` where the (URL-encoded) id goes, resolved against the
   * collection URL: `"/countries/{id}"`. Without it, `get` scans the collection.
   */
  itemPath?: string;
  /** The entity in the body `itemPath` answers with. @default {(body) => body} */
  item?: (body: unknown) => unknown;
  /** A Standard Schema validator every entity must pass (Zod, Valibot, ArkType, …). */
  validate?: StandardSchemaV1<unknown, E>;
  /** Requests in flight and pages fetched ahead, as for `paginate`. @default {3} */
  prefetch?: number;
  /** The most entities `list` returns; it throws rather than truncate. @default {100000} */
  maxItems?: number;
  /** Passed to the fetcher: with a pool, pins the table's requests to one worker. */
  session?: string;
  /** The largest body read, in bytes. @default {8388608} (8 MiB) */
  maxPageBytes?: number;
}

/** Options for one read of an {@linkcode ApiTable}. */
export interface ApiTableReadOptions {
  /** Aborts the read. */
  signal?: AbortSignal;
}

/**
 * A paginated REST resource as a table of entities `E`: `list()`, `stream()`, `get(id)`,
 * `count()` and `where(field, value)`, with optional Standard Schema validation of every entity.
 *
 * @typeParam E The entity type (the validator's output type when `validate` is given).
 * @example A table of countries
 * ```ts
 * import { ApiTable } from "@fluxpool/fluxpool";
 * import assert from "node:assert/strict";
 *
 * type Country = { code: string; name: string };
 * const countries: Country[] = [{ code: "DE", name: "Germany" }, { code: "FR", name: "France" }];
 * const fetcher = (input: string | URL) => {
 *   const url = new URL(input);
 *   if (url.pathname.startsWith("/countries/")) {
 *     const found = countries.find((c) => c.code === url.pathname.split("/")[2]);
 *     return Promise.resolve(found ? Response.json(found) : new Response(null, { status: 404 }));
 *   }
 *   const page = Number(url.searchParams.get("page"));
 *   return Promise.resolve(Response.json({ data: [countries[page - 1]], pagination: { total_pages: 2, total: 2 } }));
 * };
 * const table = new ApiTable<Country>(fetcher, "https://api.example/countries", {
 *   idColumn: "code",
 *   itemPath: "/countries/{id}",
 * });
 * assert.deepEqual(await table.list(), countries);
 * assert.equal((await table.get("FR"))?.name, "France");
 * assert.equal(await table.get("XX"), undefined);
 * assert.equal(await table.count(), 2);
 * ```
 */
export class ApiTable<E> {
  #fetcher: PageFetcher;
  #url: URL;
  #options: ApiTableOptions<E>;
  #strategy: PaginationStrategy;
  #maxItems: number;

  /**
   * Creates a table over a paginated collection.
   * @param fetcher The `fetch`-like function requests go through (`fetch`, `pool.fetch`).
   * @param url The collection's absolute URL.
   * @param options The id column, strategy, item path and validator.
   * @throws {TypeError | RangeError} When the URL or an option is invalid.
   */
  constructor(fetcher: PageFetcher, url: string | URL, options: ApiTableOptions<E>) {
    func(owner, "fetcher", fetcher, false);
    const collection = httpUrl(owner, "url", url);
    if (options === undefined) fail(owner, "options", "an object with idColumn", options);
    const {
      idColumn,
      strategy = pageNumber(),
      itemPath,
      item,
      validate,
      prefetch = 3,
      maxItems = 100_000,
      session,
      maxPageBytes = DEFAULT_MAX_PAGE_BYTES,
    } = optionsOf(owner, options);
    text(owner, "idColumn", idColumn);
    strategyOf(owner, strategy);
    if (itemPath !== undefined) checkItemPath(collection, itemPath);
    func(owner, "item", item);
    if (validate !== undefined && typeof validate?.["~standard"]?.validate !== "function") {
      fail(owner, "validate", "a Standard Schema validator", validate);
    }
    integer(owner, "prefetch", prefetch, 1);
    integer(owner, "maxItems", maxItems, 1, true);
    optionalString(owner, "session", session);
    integer(owner, "maxPageBytes", maxPageBytes, 1);
    this.#fetcher = fetcher;
    this.#url = collection;
    this.#options = options;
    this.#strategy = strategy;
    this.#maxItems = maxItems;
  }

  /** The collection URL, with the `where` filters as query parameters. */
  get url(): URL {
    return new URL(this.#url);
  }

  /**
   * Every entity, as a stream (validated when a validator is set).
   * @param options A signal to abort the read.
   * @returns A pull-driven stream of entities; it errors with `PaginationError` or
   *   `ValidationError`.
   */
  stream(options: ApiTableReadOptions = {}): ReadableStream<E> {
    return this.#entities(readSignal("stream", options));
  }

  /**
   * Every entity, as an array.
   * @param options A signal to abort the read.
   * @returns The entities.
   * @throws {PaginationError} When the collection has more than `maxItems` entities (rather
   *   than truncating it), or a page fails.
   * @throws {ValidationError} When an entity fails validation.
   */
  async list(options: ApiTableReadOptions = {}): Promise<E[]> {
    const signal = readSignal("list", options);
    const all: E[] = [];
    for await (const entity of iterate(this.#entities(signal, this.#maxItems + 1))) {
      if (all.length === this.#maxItems) {
        throw new PaginationError(
          `Cannot list ${
            redact(this.#url.href)
          } as it has more than maxItems (${this.#maxItems}) entities; use stream() or raise maxItems`,
          { url: redact(this.#url.href) },
        );
      }
      all.push(entity);
    }
    return all;
  }

  /**
   * One entity by id: fetched from `itemPath` when set, else found by scanning the collection.
   * @param id The entity's id, put into `itemPath` as one percent-encoded path segment.
   * @param options A signal to abort the read.
   * @returns The entity, or `undefined` when there is none (404).
   * @throws {TypeError} When `id` is not a string or a number.
   * @throws {RangeError} When `id` cannot be one path segment (empty, `.` or `..`, also
   *   percent-encoded; ill-formed Unicode) or is not a finite number; nothing is requested.
   * @throws {HttpError} When `itemPath` answers with another non-2xx status.
   * @throws {ValidationError} When the entity fails validation.
   */
  async get(id: string | number, options: ApiTableReadOptions = {}): Promise<E | undefined> {
    checkIdType(id);
    const signal = readSignal("get", options);
    const { itemPath } = this.#options;
    if (itemPath === undefined) {
      for await (const entity of iterate(this.#entities(signal))) {
        const value = (entity as Record<string, unknown>)[this.#options.idColumn];
        if (value === id || String(value) === String(id)) return entity;
      }
      return undefined;
    }
    const url = itemUrl(this.#url, itemPath, id);
    const body = await this.#fetchJson(url, signal);
    if (body === undefined) return undefined;
    return await this.#check((this.#options.item ?? ((b) => b))(body), id);
  }

  /**
   * The number of entities: the total the API reports when there is one, else counted.
   * @param options A signal to abort the read.
   * @returns The number of entities.
   * @throws {PaginationError} When a page fails.
   */
  async count(options: ApiTableReadOptions = {}): Promise<number> {
    const signal = readSignal("count", options);
    // The first page alone: when it reports the total, that is the only request; otherwise
    // the count goes on from its checkpoint.
    const first = pages(this.#fetcher, this.#url, { ...this.#paging(signal), maxPages: 1 });
    let counted = 0;
    let checkpoint: PaginationCheckpoint | undefined;
    for await (const page of iterate(first)) {
      const parsed = { ...page, index: 0, url: new URL(page.url), start: this.#url };
      const total = this.#strategy.totalItems?.(parsed);
      if (total !== undefined) return total;
      counted = page.items.length;
      checkpoint = page.checkpoint;
    }
    if (checkpoint === undefined) return counted;
    const rest = pages(this.#fetcher, this.#url, { ...this.#paging(signal), checkpoint });
    for await (const page of iterate(rest)) counted += page.items.length;
    return counted;
  }

  /**
   * A table of the entities whose `field` equals `value`, as a query parameter of the collection.
   * @param field The query parameter (usually a field name).
   * @param value Its value.
   * @returns A new table; this one is unchanged.
   */
  where(field: string, value: string | number | boolean): ApiTable<E> {
    if (typeof field !== "string" || field === "") {
      invalid("filter an ApiTable", "field", "a non-empty string", field);
    }
    if (
      typeof value !== "string" && typeof value !== "boolean" &&
      !(typeof value === "number" && Number.isFinite(value))
    ) {
      invalid("filter an ApiTable", "value", "a string, a finite number or a boolean", value);
    }
    const url = new URL(this.#url);
    url.searchParams.set(field, String(value));
    return new ApiTable<E>(this.#fetcher, url, this.#options);
  }

  #paging(signal?: AbortSignal, maxItems?: number) {
    const { prefetch, session, maxPageBytes } = this.#options;
    return { strategy: this.#strategy, prefetch, session, maxPageBytes, signal, maxItems };
  }

  #entities(signal?: AbortSignal, maxItems?: number): ReadableStream<E> {
    const items = paginate(this.#fetcher, this.#url, this.#paging(signal, maxItems));
    if (this.#options.validate === undefined) return items as ReadableStream<E>;
    const reader = items.getReader();
    return new ReadableStream<E>({
      pull: async (controller) => {
        const { done, value } = await reader.read();
        if (done) return controller.close();
        const id = (value as Record<string, unknown> | null)?.[this.#options.idColumn];
        try {
          controller.enqueue(await this.#check(value, id));
        } catch (error) {
          await reader.cancel(error);
          throw error;
        }
      },
      cancel: (reason) => reader.cancel(reason),
    }, { highWaterMark: 0 });
  }

  async #check(value: unknown, id: unknown): Promise<E> {
    const schema = this.#options.validate;
    if (schema === undefined) return value as E;
    const result = await schema["~standard"].validate(value);
    if (result.issues !== undefined) throw new ValidationError(id, result.issues);
    return result.value;
  }

  async #fetchJson(url: URL, signal?: AbortSignal): Promise<unknown> {
    const maxBytes = this.#options.maxPageBytes ?? DEFAULT_MAX_PAGE_BYTES;
    const init: PageFetchInit = { signal, maxBytes };
    if (this.#options.session !== undefined) init.session = this.#options.session;
    const response = await this.#fetcher(url.href, init);
    if (response.status === 404) {
      await response.body?.cancel();
      return undefined;
    }
    if (!response.ok) {
      const body = await readExcerpt(response);
      throw new HttpError({
        status: response.status,
        statusText: response.statusText,
        url: redact(url.href),
        method: "GET",
        attempts: 1,
        body,
        headers: response.headers,
      });
    }
    const text = await readText(response, maxBytes, signal);
    try {
      return JSON.parse(text);
    } catch (error) {
      throw new PaginationError(`Cannot read ${redact(url.href)} as it is not JSON`, {
        url: redact(url.href),
        cause: error,
      });
    }
  }
}

// The signal of a read's options, checked where the caller passed it.
function readSignal(method: string, options: ApiTableReadOptions): AbortSignal | undefined {
  const action = `call ApiTable.${method}()`;
  if (options === null || typeof options !== "object") {
    invalid(action, "options", "an object", options);
  }
  return signalOf(action, options.signal);
}
