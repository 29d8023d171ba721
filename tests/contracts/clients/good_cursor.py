"""A good client of a cursor-paged list (canonical, Apideck, Truto, ecartAPI; Shopify's Link header too).

It sends back exactly the cursor the last page gave, asks again for a page whose request failed
(waiting ``Retry-After`` when the answer has one, else a short back-off), and retries a POST only
with the same ``Idempotency-Key`` on every attempt.
"""

from clientlib import arguments, create_safely, done, patiently

client, args = arguments(__doc__)
if args.creates:
    create_safely(client, args.creates)
ids = []
query = client.first_query(args.limit)
while query is not None:
    page_ids, query, _ = patiently(client.page, query)
    ids.extend(page_ids)
done(ids)
