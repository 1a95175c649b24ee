// A small, strict parser for the Structured Field Values that rate-limit headers use
// (RFC 9651, formerly RFC 8941): Lists and Dictionaries of Items with Parameters.
//
// Header values are untrusted: every function here is bounded by the input length, never throws,
// and answers `undefined` for a field that does not parse, as RFC 9651 §4.2 asks ("fail parsing
// the whole field"). Callers then ignore the field.

/** A bare item, tagged with its Structured Field type. */
export type BareItem =
  | { readonly type: "integer"; readonly value: number }
  | { readonly type: "decimal"; readonly value: number }
  | { readonly type: "string"; readonly value: string }
  | { readonly type: "token"; readonly value: string }
  | { readonly type: "binary"; readonly value: string } // base64 text, as sent
  | { readonly type: "boolean"; readonly value: boolean }
  | { readonly type: "date"; readonly value: number } // seconds since the epoch
  | { readonly type: "displaystring"; readonly value: string };

/** An Item (a bare item with parameters) or an Inner List. */
export interface Member {
  /** The bare item, or the items of an Inner List. */
  readonly value: BareItem | readonly Member[];
  /** The parameters; a repeated key keeps its last value. */
  readonly params: ReadonlyMap<string, BareItem>;
}

/** Fields longer than this are ignored whole: no rate-limit header needs more. */
export const MAX_FIELD_LENGTH = 4096;

const KEY_START = /[a-z*]/;
const KEY_CHAR = /[a-z0-9_\-.*]/;
const TOKEN_START = /[A-Za-z*]/;
const TOKEN_CHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z:/]/;
const BASE64_CHAR = /[A-Za-z0-9+/=]/;
const DIGIT = /[0-9]/;

class Fail extends Error {}

class Reader {
  pos = 0;
  constructor(readonly input: string) {}
  get done(): boolean {
    return this.pos >= this.input.length;
  }
  // A method, not a getter, so that TypeScript does not narrow it across reads.
  char(): string {
    return this.input[this.pos] ?? "";
  }
  expect(char: string): void {
    if (this.char() !== char) throw new Fail();
    this.pos++;
  }
  skipSpaces(): void {
    while (this.char() === " ") this.pos++;
  }
  skipOws(): void {
    while (this.char() === " " || this.char() === "\t") this.pos++;
  }
}

/**
 * Parses a Structured Field List (`a;x=1, "b";y=2`).
 * @returns The members, or `undefined` when the field is malformed or too long.
 */
export function parseList(input: string): Member[] | undefined {
  return parseTop(input, (r) => {
    const members: Member[] = [];
    while (!r.done) {
      members.push(r.char() === "(" ? parseInnerList(r) : parseItem(r));
      if (!endOfMember(r)) break;
    }
    return members;
  });
}

/**
 * Parses a Structured Field Dictionary (`limit=10, remaining=4`).
 * @returns The members by key (a repeated key keeps its last value), or `undefined` when the
 * field is malformed or too long.
 */
export function parseDictionary(input: string): Map<string, Member> | undefined {
  return parseTop(input, (r) => {
    const members = new Map<string, Member>();
    while (!r.done) {
      const key = parseKey(r);
      let member: Member;
      if (r.char() === "=") {
        r.pos++;
        member = r.char() === "(" ? parseInnerList(r) : parseItem(r);
      } else {
        member = { value: { type: "boolean", value: true }, params: parseParams(r) };
      }
      members.delete(key);
      members.set(key, member);
      if (!endOfMember(r)) break;
    }
    return members;
  });
}

function parseTop<T>(input: string, body: (r: Reader) => T): T | undefined {
  if (typeof input !== "string" || input.length > MAX_FIELD_LENGTH) return undefined;
  const r = new Reader(input);
  try {
    r.skipSpaces();
    const result = body(r);
    r.skipSpaces();
    return r.done ? result : undefined;
  } catch (error) {
    if (error instanceof Fail) return undefined;
    throw error;
  }
}

// After a member: true when another one follows the comma, false at the end.
function endOfMember(r: Reader): boolean {
  r.skipOws();
  if (r.done) return false;
  r.expect(",");
  r.skipOws();
  if (r.done) throw new Fail(); // a trailing comma
  return true;
}

function parseInnerList(r: Reader): Member {
  r.expect("(");
  const items: Member[] = [];
  for (;;) {
    r.skipSpaces();
    if (r.char() === ")") break;
    items.push(parseItem(r));
    if (r.char() !== " " && r.char() !== ")") throw new Fail();
  }
  r.pos++;
  return { value: items, params: parseParams(r) };
}

function parseItem(r: Reader): Member {
  const value = parseBareItem(r);
  return { value, params: parseParams(r) };
}

function parseParams(r: Reader): Map<string, BareItem> {
  const params = new Map<string, BareItem>();
  while (r.char() === ";") {
    r.pos++;
    r.skipSpaces();
    const key = parseKey(r);
    let value: BareItem = { type: "boolean", value: true };
    if (r.char() === "=") {
      r.pos++;
      value = parseBareItem(r);
    }
    params.delete(key);
    params.set(key, value);
  }
  return params;
}

function parseKey(r: Reader): string {
  if (!KEY_START.test(r.char())) throw new Fail();
  const start = r.pos;
  while (!r.done && KEY_CHAR.test(r.char())) r.pos++;
  return r.input.slice(start, r.pos);
}

function parseBareItem(r: Reader): BareItem {
  const c = r.char();
  if (c === "-" || DIGIT.test(c)) return parseNumber(r);
  if (c === '"') return { type: "string", value: parseString(r) };
  if (c === ":") return { type: "binary", value: parseBinary(r) };
  if (c === "?") return { type: "boolean", value: parseBoolean(r) };
  if (c === "@") return parseDate(r);
  if (c === "%") return { type: "displaystring", value: parseDisplayString(r) };
  if (TOKEN_START.test(c)) return { type: "token", value: parseToken(r) };
  throw new Fail();
}

function parseNumber(r: Reader): BareItem {
  const start = r.pos;
  if (r.char() === "-") r.pos++;
  const intStart = r.pos;
  while (DIGIT.test(r.char())) r.pos++;
  const intDigits = r.pos - intStart;
  if (intDigits === 0) throw new Fail();
  if (r.char() !== ".") {
    if (intDigits > 15) throw new Fail();
    return { type: "integer", value: Number(r.input.slice(start, r.pos)) };
  }
  if (intDigits > 12) throw new Fail();
  r.pos++;
  const fracStart = r.pos;
  while (DIGIT.test(r.char())) r.pos++;
  const fracDigits = r.pos - fracStart;
  if (fracDigits < 1 || fracDigits > 3) throw new Fail();
  return { type: "decimal", value: Number(r.input.slice(start, r.pos)) };
}

function parseString(r: Reader): string {
  r.pos++;
  let out = "";
  for (;;) {
    const c = r.char();
    if (c === "") throw new Fail();
    r.pos++;
    if (c === '"') return out;
    if (c === "\\") {
      const next = r.char();
      if (next !== '"' && next !== "\\") throw new Fail();
      r.pos++;
      out += next;
      continue;
    }
    const code = c.charCodeAt(0);
    if (code < 0x20 || code > 0x7e) throw new Fail();
    out += c;
  }
}

function parseToken(r: Reader): string {
  const start = r.pos;
  r.pos++;
  while (!r.done && TOKEN_CHAR.test(r.char())) r.pos++;
  return r.input.slice(start, r.pos);
}

function parseBinary(r: Reader): string {
  r.pos++;
  const start = r.pos;
  while (BASE64_CHAR.test(r.char())) r.pos++;
  const value = r.input.slice(start, r.pos);
  r.expect(":");
  return value;
}

function parseBoolean(r: Reader): boolean {
  r.pos++;
  const c = r.char();
  if (c !== "0" && c !== "1") throw new Fail();
  r.pos++;
  return c === "1";
}

function parseDate(r: Reader): BareItem {
  r.pos++;
  const n = parseNumber(r);
  if (n.type !== "integer") throw new Fail();
  return { type: "date", value: n.value };
}

function parseDisplayString(r: Reader): string {
  r.pos++;
  r.expect('"');
  const bytes: number[] = [];
  for (;;) {
    const c = r.char();
    if (c === "") throw new Fail();
    r.pos++;
    if (c === '"') break;
    const code = c.charCodeAt(0);
    if (code < 0x20 || code > 0x7e) throw new Fail();
    if (c !== "%") {
      bytes.push(code);
      continue;
    }
    const hex = r.input.slice(r.pos, r.pos + 2);
    if (!/^[0-9a-f]{2}$/.test(hex)) throw new Fail();
    bytes.push(parseInt(hex, 16));
    r.pos += 2;
  }
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(new Uint8Array(bytes));
  } catch {
    throw new Fail();
  }
}
