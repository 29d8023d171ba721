"""A good client of a cursor-paged list (canonical, Apideck, Truto, ecartAPI; Shopify's Link header too).

It sends back exactly the cursor the last page gave, asks again for a page whose request failed
(waiting ``Retry-After`` when the answer has one, else a short back-off). It retries GETs only;
a failed create is sent again only with ``--idempotency-keys`` (the same key on every attempt).
"""

from clientlib import arguments, create_safely, done, patiently

client, args = arguments(__doc__)
if args.creates:
    create_safely(client, args.creates, keyed=args.idempotency_keys)
ids = []
query = client.first_query(args.limit)
while query is not None:
    page_ids, query, _ = patiently(client.page, query)
    ids.extend(page_ids)
done(ids)
