"""BROKEN: computes the number of pages as total // limit, so the last, partial page is never asked for.

Expected verdict: walk.every_customer (the customers of the last page are missing).
"""

from clientlib import arguments, done, patiently

client, args = arguments(__doc__)
ids: list[str] = []
page_ids, query, body = patiently(lambda: client.page(client.first_query(args.limit)))
ids.extend(page_ids)
pages = client.total(body) // args.limit  # BUG: floor, not ceiling
for _ in range(pages - 1):
    if query is None:
        break
    page_ids, query, _ = patiently(client.page, query)
    ids.extend(page_ids)
done(ids)
