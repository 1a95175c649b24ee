// Page-number pagination over an in-memory collection, with RFC 8288 Link headers.

/** A validated page request. */
export interface Paging {
  page: number;
  perPage: number;
}

/** The page size when the client asks for none, and the largest it may ask for. */
export const DEFAULT_PER_PAGE = 20;
export const MAX_PER_PAGE = 100;

function positiveInt(value: string | null, fallback: number): number | undefined {
  if (value === null) return fallback;
  return /^[1-9][0-9]{0,8}$/.test(value) ? Number(value) : undefined;
}

/** `?page=N&per_page=M`, or the reason they are unusable. */
export function parsePaging(url: URL): Paging | string {
  const page = positiveInt(url.searchParams.get("page"), 1);
  if (page === undefined) return "'page' must be an integer >= 1.";
  const perPage = positiveInt(url.searchParams.get("per_page"), DEFAULT_PER_PAGE);
  if (perPage === undefined || perPage > MAX_PER_PAGE) {
    return `'per_page' must be an integer from 1 to ${MAX_PER_PAGE}.`;
  }
  return { page, perPage };
}

/** The page body in the `{ data, pagination }` shape, and its `Link` header value. */
export function pageOf<T>(
  items: readonly T[],
  { page, perPage }: Paging,
  url: URL,
): { body: { data: T[]; pagination: Record<string, number | boolean> }; links: string } {
  const total = items.length;
  const totalPages = Math.max(1, Math.ceil(total / perPage));
  const data = items.slice((page - 1) * perPage, page * perPage);
  const link = (n: number, rel: string): string => {
    const target = new URL(url);
    target.searchParams.set("page", String(n));
    target.searchParams.set("per_page", String(perPage));
    return `<${target}>; rel="${rel}"`;
  };
  const links = [link(1, "first")];
  if (page > 1) links.push(link(Math.min(page - 1, totalPages), "prev"));
  if (page < totalPages) links.push(link(page + 1, "next"));
  links.push(link(totalPages, "last"));
  return {
    body: {
      data,
      pagination: {
        page,
        per_page: perPage,
        total,
        total_pages: totalPages,
        has_next: page < totalPages,
        has_prev: page > 1,
      },
    },
    links: links.join(", "),
  };
}

/** An RFC 9457 problem response. */
export function problem(status: number, title: string, detail: string): Response {
  return new Response(JSON.stringify({ type: "about:blank", title, status, detail }), {
    status,
    headers: { "Content-Type": "application/problem+json" },
  });
}
