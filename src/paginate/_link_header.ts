// A small, bounded parser for RFC 8288 `Link` header fields.

/** The longest `Link` field value parsed; longer ones are refused rather than scanned. */
export const MAX_LINK_HEADER_LENGTH = 16_384;

/** One link: its target and its parameters (names lower-cased). */
export interface Link {
  target: string;
  params: Record<string, string>;
}

/** Parses a `Link` field value; throws a SyntaxError when it is malformed or too long. */
export function parseLinkHeader(value: string): Link[] {
  if (value.length > MAX_LINK_HEADER_LENGTH) {
    throw new RangeError(`the Link header is longer than ${MAX_LINK_HEADER_LENGTH} characters`);
  }
  const links: Link[] = [];
  let i = skip(value, 0, " \t,");
  while (i < value.length) {
    if (value[i] !== "<") throw syntax(value, i, "'<'");
    const end = value.indexOf(">", i + 1);
    if (end < 0) throw syntax(value, i, "'>'");
    const link: Link = { target: value.slice(i + 1, end).trim(), params: {} };
    i = skip(value, end + 1, " \t");
    while (value[i] === ";") i = param(value, skip(value, i + 1, " \t"), link.params);
    if (i < value.length && value[i] !== ",") throw syntax(value, i, "',' or ';'");
    links.push(link);
    i = skip(value, i, " \t,");
  }
  return links;
}

/** The target of the first link whose `rel` includes `rel` (case-insensitive), if any. */
export function findRel(links: readonly Link[], rel: string): string | undefined {
  const wanted = rel.toLowerCase();
  return links.find((link) =>
    (link.params.rel ?? "").toLowerCase().split(/[ \t]+/).includes(wanted)
  )
    ?.target;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+/;

function param(value: string, start: number, params: Record<string, string>): number {
  const name = TOKEN.exec(value.slice(start, start + 256))?.[0];
  if (name === undefined) throw syntax(value, start, "a parameter name");
  let i = skip(value, start + name.length, " \t");
  let text = "";
  if (value[i] === "=") {
    i = skip(value, i + 1, " \t");
    if (value[i] === '"') [text, i] = quoted(value, i);
    else {
      text = TOKEN.exec(value.slice(i, i + 1024))?.[0] ?? "";
      if (text === "") throw syntax(value, i, "a parameter value");
      i += text.length;
    }
  }
  // RFC 8288 §3: occurrences after the first of `rel` are ignored.
  const key = name.toLowerCase();
  if (!(key in params)) params[key] = text;
  return skip(value, i, " \t");
}

function quoted(value: string, start: number): [string, number] {
  let text = "";
  for (let i = start + 1; i < value.length; i++) {
    const char = value[i];
    if (char === '"') return [text, i + 1];
    if (char === "\\") i++;
    text += value[i] ?? "";
  }
  throw syntax(value, start, "a closing quote");
}

function skip(value: string, start: number, chars: string): number {
  let i = start;
  while (i < value.length && chars.includes(value[i])) i++;
  return i;
}

function syntax(value: string, at: number, expected: string): SyntaxError {
  return new SyntaxError(
    `the Link header is malformed: expected ${expected} at position ${at} of ${
      JSON.stringify(value.slice(0, 80))
    }`,
  );
}
