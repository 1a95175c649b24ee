// The pages between a `Link` header's rel="next" and rel="last", when they can be known: the two
// URLs differ only in the value of one integer query parameter (GitHub's and GitLab's `page`,
// json-server's `_page`, an `offset`). Values are replaced in the query string as the server
// wrote it, so a predicted URL is character for character the one the server will name.
import { MAX_TOTAL_PAGES } from "./_extract.ts";

/** Where the pages after a page are: parameter `name` at `next`, `next + step`, … `last`. */
export interface LinkPlan {
  url: URL;
  name: string;
  next: number;
  step: number;
  last: number;
}

const INTEGER = /^\d{1,15}$/;

/** The plan of the pages after `page` (at `current`), or undefined when there is no pattern. */
export function planLinks(current: URL, next: URL, last: URL): LinkPlan | undefined {
  if (next.origin !== last.origin || next.pathname !== last.pathname || next.hash !== last.hash) {
    return undefined;
  }
  const a = pairs(next.search);
  const b = pairs(last.search);
  if (a.length !== b.length) return undefined;
  let differing: number | undefined;
  for (let i = 0; i < a.length; i++) {
    if (a[i][0] !== b[i][0]) return undefined;
    if (a[i][1] === b[i][1]) continue;
    if (differing !== undefined) return undefined;
    differing = i;
  }
  if (differing === undefined) return undefined; // next is the last page
  const [name, nextText] = a[differing];
  const lastText = b[differing][1];
  if (!INTEGER.test(nextText) || !INTEGER.test(lastText)) return undefined;
  const nextValue = Number(nextText);
  const lastValue = Number(lastText);
  const at = current.searchParams.get(name);
  // Without the parameter the current page is the first: page 1 (`page`) or offset 0.
  const currentValue = at === null ? (nextValue === 2 ? 1 : 0) : Number(at);
  const step = nextValue - currentValue;
  if (!Number.isSafeInteger(step) || step <= 0 || lastValue < nextValue) return undefined;
  if ((lastValue - nextValue) % step !== 0) return undefined;
  if ((lastValue - nextValue) / step >= MAX_TOTAL_PAGES) return undefined;
  return { url: next, name, next: nextValue, step, last: lastValue };
}

/** The URL `steps` pages after the plan's next page, or null past its last. */
export function planned(plan: LinkPlan, steps: number): URL | null {
  const value = plan.next + steps * plan.step;
  if (value > plan.last) return null;
  const url = new URL(plan.url);
  url.search = plan.url.search.replace(
    new RegExp(`([?&]${escape(encodedName(plan))}=)\\d+`),
    `$1${value}`,
  );
  return url;
}

/** The pages from the plan's next page to its last. */
export function plannedPages(plan: LinkPlan): number {
  return (plan.last - plan.next) / plan.step + 1;
}

// The parameter's name as it appears in the query string.
function encodedName(plan: LinkPlan): string {
  for (const part of plan.url.search.slice(1).split("&")) {
    const raw = part.split("=")[0];
    if (decode(raw) === plan.name) return raw;
  }
  return plan.name;
}

function pairs(search: string): [string, string][] {
  if (search.length <= 1) return [];
  return search.slice(1).split("&").map((part) => {
    const eq = part.indexOf("=");
    return eq < 0 ? [decode(part), ""] : [decode(part.slice(0, eq)), decode(part.slice(eq + 1))];
  });
}

function decode(text: string): string {
  try {
    return decodeURIComponent(text.replaceAll("+", " "));
  } catch {
    return text;
  }
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
